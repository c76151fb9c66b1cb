// front.mjs - the Redshift stand-in's front: a server of the PostgreSQL wire protocol
// (pg-gateway answers SSLRequest with TLS and reads the startup packet) that behaves as an
// Amazon Redshift cluster for what sparkify sends, over a real PostgreSQL server (reached with
// `pg`) and a real S3 (moto).
//
// Each client gets one backend PostgreSQL session, authenticated with the client's own user
// and password (cleartext over the wire, TLS when the client asks for it). Every statement is
// logged, split and rewritten by sql.mjs; Redshift's COPY from S3 is run here (copy.mjs);
// TRUNCATE commits the open transaction, as "TRUNCATE commits the transaction in which it is
// run" (https://docs.aws.amazon.com/redshift/latest/dg/r_TRUNCATE.html); everything else runs on
// PostgreSQL and its results and errors (with their SQLSTATE) are relayed message by message.
// Both libpq protocols are served: the simple one (PQexec, several statements per string, run
// as one PostgreSQL query so they share its implicit transaction) and the extended one
// (PQsendQueryParams: Parse, Bind, Describe, Execute, Sync; one statement, as PostgreSQL
// allows). Messages of one client are handled strictly in order from a queue.
// Pitfall: pg-gateway 0.2.4 cuts the second and later messages of one TCP read wrongly
// (`subarray(start, length)`), which breaks the extended protocol, whose five messages come
// together. So pg-gateway serves until the startup packet (SSLRequest, TLS, startup
// parameters) and then hands the socket over (detach); the front frames messages itself.
//
// Usage: node front.mjs CONFIG.json   (redshift_standin.sh writes the file; see there)

import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { PostgresConnection } from 'pg-gateway';

import { splitStatements, translate, SqlError } from './sql.mjs';
import { Writer, Reader, diagnostic, rowDescription, dataRow, simple, clientError } from './wire.mjs';
import { runCopy, CopyError } from './copy.mjs';
import { installCatalog, LoadLog } from './catalog.mjs';

const RAW_TYPES = { getTypeParser: () => (value) => value };
const CANCEL_REQUEST = 80877102;

// ---- one client ----

class Session {
  constructor(front, socket) {
    this.front = front;
    this.socket = socket;
    this.queue = [];
    this.running = false;
    this.backend = null;
    this.txStatus = 'I';
    this.sink = null;
    this.statements = new Map();
    this.portals = new Map();
    this.skipToSync = false;
    this.pending = Buffer.alloc(0);
    this.client = socket;
    this.conn = new PostgresConnection(socket, {
      authMode: 'cleartextPassword',
      tls: front.tls,
      onMessage: (data, state) => this.onStartupMessage(data, state),
      onStartup: (state) => {
        this.clientInfo = state.clientInfo;
        this.client = this.conn.detach();
        this.client.on('data', (chunk) => this.onData(chunk));
        this.send(new Writer().int32(3).message('R')); // AuthenticationCleartextPassword
        return true;
      },
    });
    socket.on('error', () => {});
    socket.on('close', () => this.close());
  }

  send(buffer) {
    if (!this.closed) this.client.write(buffer);
  }

  onStartupMessage(data, state) {
    if (!state.hasStarted && data.length === 16 && Buffer.from(data).readInt32BE(4) === CANCEL_REQUEST) {
      // The client holds the backend's own process ID and key (BackendKeyData): the cancel
      // request goes to PostgreSQL as it came.
      const s = net.connect(this.front.config.pgPort, this.front.config.pgHost, () => s.end(Buffer.from(data)));
      s.on('error', () => {});
      this.socket.end();
      return true;
    }
    return false;
  }

  // Frames messages: a type byte, then a length that counts itself.
  onData(chunk) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 5) {
      const size = 1 + this.pending.readInt32BE(1);
      if (this.pending.length < size) break;
      this.queue.push(Buffer.from(this.pending.subarray(0, size)));
      this.pending = this.pending.subarray(size);
    }
    this.pump();
  }

  async pump() {
    if (this.running) return;
    this.running = true;
    while (this.queue.length && !this.closed) {
      const message = this.queue.shift();
      try {
        await this.handle(message);
      } catch (e) {
        this.front.trace(`session ${this.info?.pid}: ${e.stack ?? e}`);
        this.sendError({ severity: 'ERROR', code: 'XX000', message: `Redshift stand-in internal error: ${e.message}` });
        if (!this.skipToSync) this.ready();
      }
    }
    this.running = false;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.backend) this.backend.end().catch(() => {});
  }

  ready() {
    this.send(simple('Z', Buffer.from(this.txStatus, 'latin1')));
  }

  sendError(e) {
    this.send(diagnostic('E', { severity: e.severity ?? 'ERROR', ...e }));
  }

  notice(severity, message) {
    this.send(diagnostic('N', { severity, code: '00000', message }));
  }

  async handle(message) {
    const type = String.fromCharCode(message[0]);
    const r = new Reader(message.subarray(5));
    if (!this.backend) {
      if (type === 'p') return this.authenticate(r.cstring());
      return;
    }
    if (this.skipToSync && type !== 'S') return;
    switch (type) {
      case 'Q':
        await this.simpleQuery(r.cstring());
        return this.ready();
      case 'P':
        return this.parse(r);
      case 'B':
        return this.bind(r);
      case 'D':
        return this.describe(r);
      case 'E':
        return this.execute(r);
      case 'S':
        this.skipToSync = false;
        return this.ready();
      case 'H':
        return;
      case 'C': {
        const kind = String.fromCharCode(r.byte());
        (kind === 'S' ? this.statements : this.portals).delete(r.cstring());
        return this.send(simple('3'));
      }
      case 'X':
        this.client.end();
        return this.close();
      default:
        this.sendError({ code: '0A000', message: `frontend message '${type}' is not supported by the Redshift stand-in` });
        return this.ready();
    }
  }

  // ---- start-up ----

  async authenticate(password) {
    const cfg = this.front.config;
    const params = this.clientInfo.parameters;
    const database = params.database || params.user;
    const client = new pg.Client({ host: cfg.pgHost, port: cfg.pgPort, user: params.user, password, database, application_name: params.application_name ?? '' });
    client.connection.on('readyForQuery', (m) => {
      this.txStatus = m.status;
    });
    for (const event of ['rowDescription', 'dataRow', 'commandComplete', 'notice', 'emptyQuery']) {
      client.connection.on(event, (m) => this.sink?.(event, m));
    }
    client.on('error', () => this.client.end());
    try {
      await client.connect();
    } catch (e) {
      this.sendError({ severity: 'FATAL', code: e.code ?? '28000', message: e.message });
      this.client.end();
      return;
    }
    // Redshift's session defaults: backslash escapes in literals (standard_conforming_strings
    // off, see sql.mjs), UTC, extra_float_digits 0
    // (https://docs.aws.amazon.com/redshift/latest/dg/r_extra_float_digits.html), and the
    // system views on the search path.
    await client.query(`SET standard_conforming_strings = off; SET escape_string_warning = off;
      SET search_path = "$user", public, standin_sys; SET timezone = 'UTC'; SET extra_float_digits = 0`);
    const who = (await client.query('SELECT usesysid FROM pg_user WHERE usename = current_user')).rows[0];
    this.backend = client;
    this.info = { user: params.user, database, pid: client.processID, userId: who ? who.usesysid : 0 };
    this.send(new Writer().int32(0).message('R'));
    const status = {
      application_name: params.application_name ?? '',
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      integer_datetimes: 'on',
      IntervalStyle: 'postgres',
      is_superuser: 'off',
      server_encoding: 'UNICODE',
      server_version: '8.0.2',
      session_authorization: params.user,
      standard_conforming_strings: 'off',
      TimeZone: 'UTC',
    };
    for (const [k, v] of Object.entries(status)) this.send(new Writer().cstring(k).cstring(v).message('S'));
    this.send(new Writer().int32(client.processID).int32(client.secretKey).message('K'));
    this.ready();
  }

  // ---- running statements ----

  log(statement, outcome) {
    this.front.logStatement(this.info.pid, statement.text, outcome);
  }

  // Runs SQL on the backend, relaying its messages through `sink` as they arrive.
  async backendQuery(sql, sink, options = {}) {
    this.sink = sink;
    try {
      await this.backend.query({ text: sql, rowMode: 'array', types: RAW_TYPES, ...options });
    } finally {
      this.sink = null;
    }
  }

  relay() {
    return (event, m) => {
      if (event === 'rowDescription') this.send(rowDescription(m.fields));
      else if (event === 'dataRow') this.send(dataRow(m.fields));
      else if (event === 'commandComplete') this.send(new Writer().cstring(m.text).message('C'));
      else if (event === 'notice') this.send(diagnostic('N', m));
    };
  }

  // A front-made error: in a transaction block it must abort the transaction, as any error
  // does on Redshift, so PostgreSQL raises it.
  async failWith(e) {
    const error = { severity: 'ERROR', code: e.code, message: e.message, detail: e.detail, position: e.position === undefined ? undefined : String(e.position) };
    if (this.txStatus === 'T') {
      try {
        await this.backend.query({ text: 'SELECT standin_sys.fail($1, $2, $3)', values: [error.code, error.message, error.detail ?? null] });
      } catch {
        // The expected error: the transaction is now aborted.
      }
    }
    this.sendError(error);
  }

  async simpleQuery(text) {
    const statements = splitStatements(text);
    if (!statements.length) return this.send(simple('I'));
    const plans = [];
    for (const statement of statements) {
      try {
        plans.push({ statement, ...translate(statement) });
      } catch (e) {
        if (!(e instanceof SqlError)) throw e;
        // PostgreSQL parses the whole string before running any of it: nothing runs.
        for (const s of statements) this.log(s, s === statement ? `refused ${e.code}` : 'not run');
        return this.failWith(e);
      }
    }
    let batch = [];
    for (let i = 0; i <= plans.length; i++) {
      const plan = plans[i];
      const plain = plan && ['other', 'ddl', 'transaction'].includes(plan.kind) && plan.sql !== null;
      if (plain) {
        batch.push(plan);
        continue;
      }
      if (batch.length && !(await this.runBatch(batch))) {
        for (const rest of plans.slice(i)) this.log(rest.statement, 'not run');
        return;
      }
      batch = [];
      if (plan && !(await this.runSpecial(plan))) {
        for (const rest of plans.slice(i + 1)) this.log(rest.statement, 'not run');
        return;
      }
    }
  }

  // Plain statements run as one PostgreSQL query. Returns false after an error.
  async runBatch(batch) {
    let completed = 0;
    const relay = this.relay();
    try {
      await this.backendQuery(batch.map((p) => p.sql).join(';\n'), (event, m) => {
        if (event === 'commandComplete') completed++;
        relay(event, m);
      });
      for (const p of batch) this.log(p.statement, 'ok');
      return true;
    } catch (e) {
      batch.forEach((p, i) => this.log(p.statement, i < completed ? 'ok' : i === completed ? `error ${e.code ?? 'XX000'}` : 'not run'));
      const failed = batch[completed];
      const error = clientError(e);
      // Positions point into the string the client sent, where its text was kept.
      if (e.position && failed?.kind === 'other') {
        let start = 0;
        for (let i = 0; i < completed; i++) start += batch[i].sql.length + 2;
        error.position = String(failed.statement.offset + Number(e.position) - start);
      } else delete error.position;
      this.sendError(error);
      return false;
    }
  }

  // COPY, TRUNCATE and DDL that runs as nothing; their results go to `sink`. Returns false
  // after an error, which has been sent.
  async runSpecial(plan, sink = this.relay()) {
    const { statement } = plan;
    try {
      if (plan.kind === 'copy') {
        const tag = await runCopy(this.front, this, statement, plan.sig);
        sink('commandComplete', { text: tag });
      } else if (plan.kind === 'truncate') {
        const commit = this.txStatus === 'T';
        await this.backendQuery(plan.sql, sink);
        if (commit) await this.backendQuery('COMMIT', null);
      } else {
        if (this.txStatus === 'E') await this.backendQuery('SELECT 1', null);
        sink('commandComplete', { text: plan.tag });
      }
      this.log(statement, 'ok');
      return true;
    } catch (e) {
      this.log(statement, `error ${e.code ?? 'XX000'}`);
      if (e instanceof CopyError || e instanceof SqlError) await this.failWith(e);
      else if (e.severity) this.sendError(clientError(e));
      else throw e;
      return false;
    }
  }

  async setLastCopyId(id) {
    await this.backend.query({ text: "SELECT set_config('standin.last_copy_id', $1, false)", values: [String(id)] });
  }

  // ---- the extended protocol ----

  extendedError(e) {
    this.sendError(e);
    this.skipToSync = true;
  }

  parse(r) {
    const name = r.cstring();
    const text = r.cstring();
    const statements = splitStatements(text);
    if (statements.length > 1) {
      // PostgreSQL's own refusal, which Redshift shares: the extended protocol runs one
      // statement (no position: the string as a whole is at fault).
      for (const s of statements) this.front.logStatement(this.info.pid, s.text, 'refused 42601');
      return this.extendedError({ code: '42601', message: 'cannot insert multiple commands into a prepared statement' });
    }
    let plan = { kind: 'empty' };
    if (statements.length) {
      try {
        plan = { statement: statements[0], ...translate(statements[0]) };
      } catch (e) {
        if (!(e instanceof SqlError)) throw e;
        this.log(statements[0], `refused ${e.code}`);
        return this.failWith(e).then(() => {
          this.skipToSync = true;
        });
      }
    }
    this.statements.set(name, plan);
    this.send(simple('1'));
  }

  bind(r) {
    const portal = r.cstring();
    const plan = this.statements.get(r.cstring());
    const formats = Array.from({ length: r.int16() }, () => r.int16());
    const values = Array.from({ length: r.int16() }, (_, i) => {
      const n = r.int32();
      if (n < 0) return null;
      const bytes = r.bytes(n);
      return (formats[i] ?? formats[0] ?? 0) === 0 ? bytes.toString('utf8') : bytes;
    });
    if (!plan) return this.extendedError({ code: '26000', message: 'prepared statement does not exist' });
    this.portals.set(portal, { plan, values, events: null });
    this.send(simple('2'));
  }

  // Runs the portal's statement once, keeping its messages for Describe and Execute.
  async runPortal(portal) {
    if (portal.events) return true;
    portal.events = [];
    const { plan } = portal;
    if (plan.kind === 'empty') return true;
    if (plan.kind === 'copy' || plan.kind === 'truncate') {
      const ok = await this.runSpecial(plan, (event, m) => (event === 'notice' ? this.send(diagnostic('N', m)) : portal.events.push([event, m])));
      if (!ok) this.skipToSync = true;
      return ok;
    }
    if (plan.sql === null) {
      portal.events.push(['commandComplete', { text: plan.tag }]);
      this.log(plan.statement, 'ok');
      return true;
    }
    try {
      await this.backendQuery(plan.sql, (event, m) => (event === 'notice' ? this.send(diagnostic('N', m)) : portal.events.push([event, m])), { queryMode: 'extended', values: portal.values });
      this.log(plan.statement, 'ok');
      return true;
    } catch (e) {
      this.log(plan.statement, `error ${e.code ?? 'XX000'}`);
      this.extendedError(clientError(e));
      return false;
    }
  }

  async describe(r) {
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    if (kind === 'S') {
      // Only the parameters are described; a statement's columns are known once it ran.
      this.send(new Writer().int16(0).message('t'));
      return this.send(simple('n'));
    }
    const portal = this.portals.get(name);
    if (!portal) return this.extendedError({ code: '34000', message: `portal "${name}" does not exist` });
    if (!(await this.runPortal(portal))) return;
    const description = portal.events.find(([event]) => event === 'rowDescription');
    this.send(description ? rowDescription(description[1].fields) : simple('n'));
  }

  async execute(r) {
    const portal = this.portals.get(r.cstring());
    if (!portal) return this.extendedError({ code: '34000', message: 'portal does not exist' });
    if (!(await this.runPortal(portal))) return;
    if (portal.plan.kind === 'empty') return this.send(simple('I'));
    for (const [event, m] of portal.events) {
      if (event === 'dataRow') this.send(dataRow(m.fields));
      else if (event === 'commandComplete') this.send(new Writer().cstring(m.text).message('C'));
    }
    portal.events = [];
  }
}

// ---- the server ----

class Front {
  constructor(config) {
    this.config = config;
    this.adminConfig = { host: config.pgHost, port: config.pgPort, user: config.adminUser, password: config.adminPassword };
    this.tls = config.tlsKey ? { key: fs.readFileSync(config.tlsKey), cert: fs.readFileSync(config.tlsCert) } : undefined;
    this.logs = new Map();
    this.queryId = 1000;
  }

  // Redshift numbers queries cluster-wide; the SYS views' query_id is a different identifier
  // from the STL views' query (a note of https://docs.aws.amazon.com/redshift/latest/dg/r_STL_QUERY.html,
  // quoted in the project's review of the docs), so the stand-in gives them different numbers
  // unless told otherwise.
  nextQueryId() {
    return ++this.queryId;
  }

  sysQueryId(queryId) {
    return this.config.sameQueryIds ? queryId : queryId + 7000000;
  }

  loadLog(database) {
    if (!this.logs.has(database)) this.logs.set(database, new LoadLog(this.adminConfig, database, this.config.serverless));
    return this.logs.get(database);
  }

  // One entry per statement: a comment line saying when, which session and how it ended, then
  // the statement as received.
  logStatement(pid, text, outcome) {
    fs.appendFileSync(this.config.statementLog, `-- ${new Date().toISOString()} session=${pid} ${outcome}\n${text};\n`);
  }

  trace(text) {
    process.stderr.write(`${new Date().toISOString()} ${text}\n`);
  }

  async start() {
    for (const database of ['template1', this.config.database]) {
      await installCatalog(this.adminConfig, database, { slices: this.config.slices, serverless: this.config.serverless });
    }
    const server = net.createServer((socket) => new Session(this, socket));
    await new Promise((resolve) => server.listen(this.config.port ?? 0, '127.0.0.1', resolve));
    fs.writeFileSync(this.config.portFile, String(server.address().port));
    const stop = () => {
      server.close();
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }
}

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
new Front(config).start().catch((e) => {
  process.stderr.write(`redshift stand-in front: ${e.stack ?? e}\n`);
  process.exit(1);
});
