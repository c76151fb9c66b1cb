// copy.mjs - Redshift's COPY table FROM 's3://...' FORMAT AS JSON, run by the stand-in itself:
// the role is assumed through STS, the objects are read from the S3 server with its
// credentials, every record is judged by Redshift's rules (records.mjs, convert.mjs), rejected
// records are written to the load-error tables outside the user's transaction, and the rows
// that pass are streamed into the table with PostgreSQL's COPY FROM STDIN inside it.
//
// The order follows https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html: errors
// "before the load process begins, such as a syntax error, access error, invalid credentials"
// (here: the statement, the role, the manifest, the JSONPaths file, the listing, regions) fail
// the COPY without a query ID; from the first data object on, the COPY has an ID,
// PG_LAST_COPY_ID() returns it, and a failure for invalid load data still sets it. "If the
// COPY transaction is rolled back, the COPY ID is not updated": the ID lives in a session
// setting set inside the user's transaction, so ROLLBACK restores the previous one.
// Pitfall: a failed COPY inside a transaction block must abort it, as Redshift's does; the
// front makes PostgreSQL raise the error itself (standin_sys.fail) so the transaction state
// the client sees is PostgreSQL's own.

import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';

import { SqlError, stringValue, identValue } from './sql.mjs';
import { scanRecords, invalidUtf8, replaceInvalidUtf8, parseRecord, valueAtPath, autoValues, MAX_RECORD_BYTES } from './records.mjs';
import { convert, rawText } from './convert.mjs';
import { CopyError } from './copy_error.mjs';
import { S3Reader, roleCredentials, objectUrls, jsonPaths } from './s3.mjs';

export { CopyError };

// "The MAXERROR default value is 0 and the limit is 100000"
// (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror).
const MAXERROR_LIMIT = 100000;

const notModeled = (what, token) => new SqlError('0A000', `${what} is not modeled by the Redshift stand-in`, token ? token.start + 1 : undefined);

// ---- the statement ----

export function parseCopy(sig, statement) {
  const position = (t) => statement.offset + t.start - statement.tokens[0].start + 1;
  const syntax = (t) => new SqlError('42601', `syntax error at or near "${t?.text ?? ''}"`, t ? position(t) : undefined);
  let i = 1;
  const nameTokens = [];
  while (sig[i] && sig[i].upper !== 'FROM' && sig[i].text !== '(') nameTokens.push(sig[i++]);
  if (!nameTokens.length) throw syntax(sig[i]);
  const copy = {
    table: nameTokens.filter((t) => t.text !== '.').map(identValue),
    columns: null,
    json: null,
    manifest: false,
    gzip: false,
    maxError: 0,
    region: null,
    options: { acceptInvChars: null, truncateColumns: false, emptyAsNull: false, blanksAsNull: false, trimBlanks: false, roundec: false, timeFormat: null, dateFormat: null },
    explicitIds: false,
    noLoad: false,
    roles: null,
    keys: null,
  };
  if (sig[i]?.text === '(') {
    copy.columns = [];
    i++;
    while (sig[i] && sig[i].text !== ')') {
      if (sig[i].text !== ',') copy.columns.push(identValue(sig[i]));
      i++;
    }
    i++;
  }
  if (sig[i]?.upper !== 'FROM') throw syntax(sig[i]);
  i++;
  if (sig[i]?.type !== 'string') throw syntax(sig[i]);
  copy.from = stringValue(sig[i]);
  if (!copy.from.startsWith('s3://')) throw notModeled(`COPY from '${copy.from}' (only s3:// sources)`, sig[i]);
  i++;
  const str = (t) => {
    if (t?.type !== 'string') throw syntax(t);
    return stringValue(t);
  };
  const skipAs = () => {
    if (sig[i]?.upper === 'AS') i++;
  };
  while (i < sig.length) {
    const t = sig[i++];
    switch (t.upper) {
      case 'IAM_ROLE':
        if (sig[i]?.upper === 'DEFAULT') {
          copy.roles = 'default';
          i++;
        } else copy.roles = str(sig[i++]).split(',');
        break;
      case 'WITH':
        if (sig[i]?.upper !== 'CREDENTIALS') throw syntax(t);
        break;
      case 'CREDENTIALS': {
        skipAs();
        const args = Object.fromEntries(str(sig[i++]).split(';').map((kv) => kv.split('=')));
        if (args.aws_iam_role) copy.roles = args.aws_iam_role.split(',');
        else copy.keys = { accessKeyId: args.aws_access_key_id, secretAccessKey: args.aws_secret_access_key, sessionToken: args.token };
        break;
      }
      case 'ACCESS_KEY_ID':
        copy.keys = { ...copy.keys, accessKeyId: str(sig[i++]) };
        break;
      case 'SECRET_ACCESS_KEY':
        copy.keys = { ...copy.keys, secretAccessKey: str(sig[i++]) };
        break;
      case 'SESSION_TOKEN':
        copy.keys = { ...copy.keys, sessionToken: str(sig[i++]) };
        break;
      case 'FORMAT':
        skipAs();
        break;
      case 'JSON':
        skipAs();
        copy.json = sig[i]?.type === 'string' ? stringValue(sig[i++]) : 'auto';
        if (copy.json === 'noshred') throw notModeled("JSON 'noshred'", t);
        break;
      case 'MANIFEST':
        copy.manifest = true;
        break;
      case 'GZIP':
        copy.gzip = true;
        break;
      case 'MAXERROR':
        skipAs();
        if (sig[i]?.type !== 'number') throw syntax(sig[i]);
        copy.maxError = Number(sig[i++].text);
        break;
      case 'REGION':
        skipAs();
        copy.region = str(sig[i++]);
        break;
      case 'TIMEFORMAT':
      case 'DATEFORMAT': {
        skipAs();
        const f = str(sig[i++]);
        if (!['auto', 'epochsecs', 'epochmillisecs', 'YYYY-MM-DD HH:MI:SS', 'YYYY-MM-DD'].includes(f)) throw notModeled(`${t.upper} '${f}'`, t);
        copy.options[t.upper === 'TIMEFORMAT' ? 'timeFormat' : 'dateFormat'] = f;
        break;
      }
      case 'COMPUPDATE':
      case 'STATUPDATE':
        // Compression analysis and statistics: storage and planning, not modeled.
        if (['ON', 'OFF', 'TRUE', 'FALSE', 'PRESET'].includes(sig[i]?.upper)) i++;
        break;
      case 'COMPROWS':
        i++;
        break;
      case 'TRUNCATECOLUMNS':
        copy.options.truncateColumns = true;
        break;
      case 'ACCEPTINVCHARS':
        skipAs();
        copy.options.acceptInvChars = sig[i]?.type === 'string' ? str(sig[i++]) : '?';
        if (copy.options.acceptInvChars.length !== 1 || copy.options.acceptInvChars.charCodeAt(0) > 0x7f || copy.options.acceptInvChars === '\0') {
          throw new SqlError('22023', 'ACCEPTINVCHARS replacement character must be a single ASCII character other than NULL', position(t));
        }
        break;
      case 'BLANKSASNULL':
        copy.options.blanksAsNull = true;
        break;
      case 'EMPTYASNULL':
        copy.options.emptyAsNull = true;
        break;
      case 'TRIMBLANKS':
        copy.options.trimBlanks = true;
        break;
      case 'ROUNDEC':
        copy.options.roundec = true;
        break;
      case 'EXPLICIT_IDS':
        copy.explicitIds = true;
        break;
      case 'NOLOAD':
        copy.noLoad = true;
        break;
      case 'ACCEPTANYDATE':
        break;
      case 'CSV': case 'DELIMITER': case 'FIXEDWIDTH': case 'AVRO': case 'PARQUET': case 'ORC': case 'SHAPEFILE':
      case 'BZIP2': case 'LZOP': case 'ZSTD': case 'ENCRYPTED': case 'MASTER_SYMMETRIC_KEY': case 'ENCODING':
      case 'ESCAPE': case 'FILLRECORD': case 'IGNOREBLANKLINES': case 'IGNOREHEADER': case 'NULL': case 'REMOVEQUOTES':
      case 'SSH': case 'READRATIO': case 'IGNOREALLERRORS': case 'QUOTE':
        throw notModeled(`COPY option ${t.upper}`, t);
      default:
        throw syntax(t);
    }
  }
  if (!copy.json) throw notModeled('COPY of delimited text (give FORMAT AS JSON)', sig[0]);
  if (!copy.roles && !copy.keys) throw new SqlError('42601', 'COPY needs authorization: IAM_ROLE, CREDENTIALS or ACCESS_KEY_ID and SECRET_ACCESS_KEY', position(sig[0]));
  return copy;
}

// ---- the table ----

async function targetColumns(session, copy) {
  const name = copy.table.map((p) => '"' + p.replace(/"/g, '""') + '"').join('.');
  const r = await session.backend.query({
    text: `SELECT a.attname, t.typname, a.atttypmod, a.attnotnull, a.attidentity, c.oid::int AS oid,
                  c.oid::regclass::text AS regclass, c.relname
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
            WHERE c.oid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    values: [name],
  });
  if (!r.rows.length) throw new SqlError('42P01', `relation "${copy.table.join('.')}" does not exist`);
  const all = r.rows.map((row) => {
    const column = { name: row.attname, type: row.typname, notNull: row.attnotnull, identity: row.attidentity };
    if (row.typname === 'varchar' || row.typname === 'bpchar') column.length = row.atttypmod > 4 ? row.atttypmod - 4 : undefined;
    if (row.typname === 'numeric' && row.atttypmod > 4) {
      column.precision = ((row.atttypmod - 4) >> 16) & 0xffff;
      column.scale = (row.atttypmod - 4) & 0xffff;
    }
    return column;
  });
  let columns;
  if (copy.columns) {
    columns = copy.columns.map((c) => {
      const found = all.find((x) => x.name === c);
      if (!found) throw new SqlError('42703', `column "${c}" of relation "${r.rows[0].relname}" does not exist`);
      return found;
    });
  } else {
    // An IDENTITY column is generated unless EXPLICIT_IDS
    // (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html#copy-explicit-ids).
    columns = all.filter((c) => !c.identity || copy.explicitIds);
  }
  return { columns, oid: r.rows[0].oid, regclass: r.rows[0].regclass, relname: r.rows[0].relname };
}

// ---- the load ----

function copyText(value) {
  if (value === null) return '\\N';
  return value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]);
}

// raw_line: "Multibyte characters in the load data are replaced with a period"
// (https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html). How a record of
// several lines is shown the docs leave open: its lines are joined.
function rawLine(bytes) {
  let out = '';
  for (const b of bytes.subarray(0, 8192)) {
    if (out.length >= 1024) break;
    if (b !== 0x0a && b !== 0x0d) out += b < 0x80 ? String.fromCharCode(b) : '.';
  }
  return out.replace(/\u0000/g, '.');
}

const utf8 = new TextDecoder('utf-8');

// Judges one record: { values } (COPY text of each column) or { error }.
function judgeRecord(bytes, record, copy, table, paths) {
  let slice = bytes.subarray(record.start, record.end);
  if (record.error) return { error: { code: 1216, reason: record.error, column: '', position: 0 } };
  let sentinel = false;
  if (invalidUtf8(slice, 0, slice.length)) {
    if (copy.options.acceptInvChars) slice = replaceInvalidUtf8(slice, copy.options.acceptInvChars).bytes;
    else sentinel = true;
  }
  const parsedBytes = sentinel ? replaceInvalidUtf8(slice, '\x7f').bytes : slice;
  let root;
  try {
    root = parseRecord(utf8.decode(parsedBytes));
  } catch (e) {
    return { error: { code: 1216, reason: `Invalid JSON: ${e.message}`, column: '', position: 0 } };
  }
  let values;
  if (paths) values = paths.map((p) => valueAtPath(root, p));
  else if (Array.isArray(root)) {
    // "If your data files use arrays, you must specify a JSONPaths file to match the values to
    // columns" (copy-usage_notes-copy-from-json).
    return { error: { code: 1216, reason: 'Invalid JSON: a JSON array needs a JSONPaths file', column: '', position: 0 } };
  } else values = autoValues(root, table.columns.map((c) => c.name), copy.json === 'auto ignorecase');
  const out = [];
  for (let c = 0; c < table.columns.length; c++) {
    const column = table.columns[c];
    const value = values[c];
    if (sentinel && rawText(value).includes('\x7f')) {
      const bad = invalidUtf8(slice, 0, slice.length);
      return { error: { code: 1220, reason: `String contains invalid or unsupported UTF8 codepoints. Bad UTF8 hex sequence: ${bad.hex} (error ${bad.code})`, column, position: 0, field: rawText(value) } };
    }
    const r = convert(value, column, copy.options);
    if (r.error) return { error: { ...r.error, column, field: rawText(value) } };
    out.push(copyText(r.text));
  }
  return { values: out.join('\t') + '\n' };
}

export async function runCopy(front, session, statement, sig) {
  const copy = parseCopy(sig, statement);
  const cfg = front.config;
  let maxError = copy.maxError;
  if (maxError > MAXERROR_LIMIT) {
    session.notice('INFO', `MAXERROR ${maxError} is above the limit; using ${MAXERROR_LIMIT}`);
    maxError = MAXERROR_LIMIT;
  }
  const table = await targetColumns(session, copy);
  const credentials = copy.keys ?? (await roleCredentials(front, session, copy.roles));
  const s3 = new S3Reader(front, credentials, copy.region ?? cfg.region);
  const paths = await jsonPaths(copy, s3, table.columns.length);
  const urls = await objectUrls(copy, s3);

  // The load process begins.
  const queryId = front.nextQueryId();
  const sysQueryId = front.sysQueryId(queryId);
  const started = new Date();
  const txid = (await session.backend.query('SELECT txid_current() AS x')).rows[0].x;
  const base = { userId: session.info.userId, session: session.info.pid, db: session.info.database, table, txid, started, queryId, sysQueryId };
  const log = front.loadLog(session.info.database);
  await log.history({ ...base, status: 'running', source: copy.from, errors: 0, rows: 0, bytes: 0, files: urls.length, fileBytes: 0 });
  await session.setLastCopyId(queryId);

  const errors = [];
  const rows = [];
  let loadedBytes = 0;
  let scannedBytes = 0;
  let fatal = null;
  const limit = Math.max(maxError, 1);
  outer: for (let f = 0; f < urls.length; f++) {
    const url = urls[f];
    let bytes = await s3.get(url, `S3 object ${url}`);
    scannedBytes += bytes.length;
    if (copy.gzip) {
      // GZIP: "A value that specifies that the input file or files are in compressed gzip
      // format" (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-file-compression.html).
      try {
        bytes = gunzipSync(bytes);
      } catch (e) {
        fatal = { code: 1216, reason: `gzip: ${e.message}`, url, line: 0, raw: '', column: '', slice: f % cfg.slices };
        errors.push(fatal);
        break;
      }
    }
    for (const record of scanRecords(bytes)) {
      const size = record.end - record.start;
      if (size > MAX_RECORD_BYTES) {
        // The COPY fails whatever MAXERROR allows (copy-parameters-data-format).
        fatal = { code: 1216, reason: `The total size of the json object exceeds the max limit of ${MAX_RECORD_BYTES} bytes`, url, line: record.line, raw: rawLine(bytes.subarray(record.start, record.end)), column: '', slice: f % cfg.slices };
        errors.push(fatal);
        break outer;
      }
      const judged = judgeRecord(bytes, record, copy, table, paths);
      if (judged.error) {
        errors.push({ ...judged.error, url, line: record.line, raw: rawLine(bytes.subarray(record.start, record.end)), slice: f % cfg.slices });
        // MAXERROR: "If the load returns the error_count number of errors or greater, the load
        // fails ... Set this value to 0 or 1 if you want the load to fail as soon as the first
        // error occurs" (copy-parameters-data-load): MAXERROR 0 and 1 both fail at the first.
        if (errors.length >= limit) {
          fatal = errors[errors.length - 1];
          break outer;
        }
      } else {
        rows.push(judged.values);
        loadedBytes += size;
      }
    }
  }
  await log.errors(base, errors);
  const finish = (status, n) => log.finish(base, { status, rows: n, bytes: status === 'completed' ? loadedBytes : 0, errors: errors.length, fileBytes: scannedBytes, ended: new Date() });
  if (fatal) {
    await finish('aborted', 0);
    // "Load into table 'part' failed.  Check 'stl_load_errors' system table for details."
    // (https://docs.aws.amazon.com/redshift/latest/dg/tutorial-loading-run-copy.html); on
    // Serverless, which has no STL views, the SYS view is the one to read.
    const where = cfg.serverless ? "'sys_load_error_detail' system view" : "'stl_load_errors' system table";
    throw new CopyError(`Load into table '${table.relname}' failed.  Check ${where} for details.`, { code: fatal.code, context: fatal.reason, query: queryId });
  }
  if (!copy.noLoad && rows.length) {
    const columnList = table.columns.map((c) => '"' + c.name.replace(/"/g, '""') + '"').join(', ');
    const stream = session.backend.query(copyStreams.from(`COPY ${table.regclass} (${columnList}) FROM STDIN`));
    await pipeline(Readable.from(rows), stream);
  }
  await finish('completed', copy.noLoad ? 0 : rows.length);
  // "If the load returns fewer errors, it continues and returns an INFO message that states the
  // number of rows that could not be loaded" (copy-parameters-data-load); the wording is the
  // tutorial's.
  session.notice('INFO', `Load into table '${table.relname}' completed, ${rows.length} record(s) loaded successfully.`);
  if (errors.length) {
    const where = cfg.serverless ? "'sys_load_error_detail' system view" : "'stl_load_errors' system table";
    session.notice('INFO', `Load into table '${table.relname}' completed, ${errors.length} record(s) could not be loaded.  Check ${where} for details.`);
  }
  return `COPY ${copy.noLoad ? 0 : rows.length}`;
}
