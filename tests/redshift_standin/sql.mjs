// sql.mjs - Redshift SQL as the stand-in reads it: a lexer, the split of a query string into
// statements, and the rewriting of each statement into the PostgreSQL that behaves as Redshift
// would (DDL attributes PostgreSQL lacks, informational constraints, byte-length VARCHAR, folded
// identifiers), or its refusal when Redshift has no such syntax.
//
// The rewriting works on tokens, never on parsed trees: every token the rules do not touch is
// sent as it came, so what PostgreSQL runs is the client's text wherever Redshift and
// PostgreSQL agree. String literals are lexed with backslash escapes (the backend session runs
// with standard_conforming_strings off, as Redshift's PostgreSQL 8.0 parser reads them:
// QUOTE_LITERAL "doubles any embedded single quotation marks and backslashes",
// https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html).
// Pitfall: a rule that matches a keyword must look at significant tokens (no spaces or comments)
// and at depth 0 where nesting matters, or a column named `encode` or a string holding
// 'ON CONFLICT' would trip it.

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const OP_CHARS = '+-*/<>=~!@#%^&|`?:';

export class SqlError extends Error {
  // A refusal in Redshift's words; `position` is a 1-based character offset, as PostgreSQL's.
  constructor(code, message, position) {
    super(message);
    this.code = code;
    this.position = position;
  }
}

export function tokenize(text) {
  const tokens = [];
  let i = 0;
  const push = (type, start) => tokens.push({ type, text: text.slice(start, i), start });
  while (i < text.length) {
    const start = i;
    const c = text[i];
    const next = text[i + 1];
    if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text[i])) i++;
      push('space', start);
    } else if (c === '-' && next === '-') {
      while (i < text.length && text[i] !== '\n') i++;
      push('comment', start);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      while (i < text.length) {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      push('comment', start);
    } else if (c === "'") {
      i++;
      while (i < text.length) {
        if (text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") {
          i++;
          break;
        } else i++;
      }
      push('string', start);
    } else if (c === '"') {
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') {
          i++;
          break;
        } else i++;
      }
      push('qident', start);
    } else if (c === '$' && /[0-9]/.test(next || '')) {
      i++;
      while (/[0-9]/.test(text[i] || '')) i++;
      push('param', start);
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(text.slice(i));
      if (m) {
        const end = text.indexOf(m[0], i + m[0].length);
        i = end < 0 ? text.length : end + m[0].length;
        push('string', start);
      } else {
        i++;
        push('op', start);
      }
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next || ''))) {
      while (/[0-9.]/.test(text[i] || '')) i++;
      if (/[eE]/.test(text[i] || '') && /[-+0-9]/.test(text[i + 1] || '')) {
        i += 2;
        while (/[0-9]/.test(text[i] || '')) i++;
      }
      push('number', start);
    } else if (WORD_START.test(c)) {
      while (i < text.length && WORD_PART.test(text[i])) i++;
      push('word', start);
    } else if ('(),;[].'.includes(c)) {
      i++;
      push('punct', start);
    } else if (OP_CHARS.includes(c)) {
      while (i < text.length && OP_CHARS.includes(text[i]) && !text.startsWith('--', i) && !text.startsWith('/*', i)) i++;
      push('op', start);
    } else {
      i++;
      push('op', start);
    }
  }
  for (const t of tokens) t.upper = t.type === 'word' ? t.text.toUpperCase() : t.text;
  return tokens;
}

// The statements of a query string, each with its own tokens and its offset in the string;
// statements holding only spaces and comments are left out, as PostgreSQL skips them.
export function splitStatements(text) {
  const tokens = tokenize(text);
  const statements = [];
  let current = [];
  const flush = () => {
    const sig = current.filter((t) => t.type !== 'space' && t.type !== 'comment');
    if (sig.length) {
      let first = 0;
      while (current[first].type === 'space') first++;
      let last = current.length - 1;
      while (current[last].type === 'space') last--;
      const part = current.slice(first, last + 1);
      statements.push({ tokens: part, offset: part[0].start, text: part.map((t) => t.text).join('') });
    }
    current = [];
  };
  for (const t of tokens) {
    if (t.type === 'punct' && t.text === ';') flush();
    else current.push(t);
  }
  flush();
  return statements;
}

export function significant(tokens) {
  return tokens.filter((t) => t.type !== 'space' && t.type !== 'comment');
}

// The literal's value: Redshift reads backslash escapes and doubled quotes.
export function stringValue(token) {
  const body = token.text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "'" && body[i + 1] === "'") {
      out += "'";
      i++;
    } else if (c === '\\' && i + 1 < body.length) {
      const e = body[++i];
      out += { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[e] ?? e;
    } else out += c;
  }
  return out;
}

export function identValue(token) {
  // "ASCII letters in standard and delimited identifiers are case-insensitive and are folded to
  // lowercase in the database" (https://docs.aws.amazon.com/redshift/latest/dg/r_names.html).
  if (token.type === 'qident') return foldAscii(token.text.slice(1, -1).replace(/""/g, '"'));
  return foldAscii(token.text);
}

function foldAscii(s) {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function quoteIdent(name) {
  return '"' + name.replace(/"/g, '""') + '"';
}

function syntaxError(token, statement) {
  return new SqlError('42601', `syntax error at or near "${token.text}"`, statement.offset + token.start - statement.tokens[0].start + 1);
}

// The index of the token that closes the parenthesis opened at `open` (in `sig`).
function closing(sig, open) {
  let depth = 0;
  for (let i = open; i < sig.length; i++) {
    if (sig[i].text === '(' && sig[i].type === 'punct') depth++;
    else if (sig[i].text === ')' && sig[i].type === 'punct' && --depth === 0) return i;
  }
  return sig.length - 1;
}

// Splits sig[from..to) at depth-0 commas.
function splitCommas(sig, from, to) {
  const parts = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const t = sig[i];
    if (t.type === 'punct' && (t.text === '(' || t.text === '[')) depth++;
    else if (t.type === 'punct' && (t.text === ')' || t.text === ']')) depth--;
    else if (depth === 0 && t.type === 'punct' && t.text === ',') {
      parts.push(sig.slice(start, i));
      start = i + 1;
    }
  }
  if (start < to) parts.push(sig.slice(start, to));
  return parts;
}

const join = (tokens) => tokens.map((t) => t.text).join(' ');

// ---- what Redshift does not accept ----

// PostgreSQL syntax Redshift's grammar lacks, so Redshift answers a syntax error at its first
// keyword. INSERT: https://docs.aws.amazon.com/redshift/latest/dg/r_INSERT_30.html (no ON
// CONFLICT, no RETURNING); SELECT:
// https://docs.aws.amazon.com/redshift/latest/dg/r_SELECT_synopsis.html (no DISTINCT ON, no
// FILTER); array and row constructors, indexes, sequences, triggers, inheritance, table
// partitioning, tablespaces, check and exclusion constraints and collations other than
// Redshift's are among the "Unsupported PostgreSQL features"
// (https://docs.aws.amazon.com/redshift/latest/dg/c_unsupported-postgresql-features.html).
function refuseUnsupported(sig, statement) {
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i];
    const next = sig[i + 1];
    if (t.type !== 'word') continue;
    if (t.upper === 'ON' && next?.upper === 'CONFLICT') throw syntaxError(t, statement);
    if (t.upper === 'RETURNING') throw syntaxError(t, statement);
    if (t.upper === 'DISTINCT' && next?.upper === 'ON') throw syntaxError(next, statement);
    if (t.upper === 'FILTER' && next?.text === '(' && sig[i + 2]?.upper === 'WHERE') throw syntaxError(t, statement);
    if (t.upper === 'ARRAY' && next?.text === '[') throw syntaxError(next, statement);
    if (t.upper === 'INHERITS' || t.upper === 'TABLESPACE') throw syntaxError(t, statement);
    // COLLATE(expression, 'case_insensitive') is Redshift's COLLATE function, not a clause.
    if (t.upper === 'COLLATE' && next && next.text !== '(' && !isRedshiftCollation(next)) throw syntaxError(next, statement);
  }
  const first = sig[0]?.upper;
  if (first === 'CREATE') {
    let i = 1;
    if (sig[i]?.upper === 'OR' && sig[i + 1]?.upper === 'REPLACE') i += 2;
    while (['UNIQUE', 'TEMP', 'TEMPORARY', 'LOCAL', 'UNLOGGED'].includes(sig[i]?.upper)) i++;
    if (['INDEX', 'SEQUENCE', 'TRIGGER', 'EXTENSION', 'DOMAIN', 'TYPE', 'COLLATION'].includes(sig[i]?.upper)) {
      throw syntaxError(sig[i], statement);
    }
  }
}

function isRedshiftCollation(token) {
  const name = token.type === 'string' ? stringValue(token) : identValue(token);
  return name === 'case_sensitive' || name === 'case_insensitive';
}

// ---- DDL ----

// Redshift's type names as CREATE TABLE takes them
// (https://docs.aws.amazon.com/redshift/latest/dg/c_Supported_data_types.html), mapped to
// PostgreSQL's. CHAR and VARCHAR lengths are in bytes, TEXT is VARCHAR(256) and BPCHAR
// CHAR(256), VARCHAR without a length is VARCHAR(256), MAX is 65535 (VARCHAR) or 4096 (CHAR)
// (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html).
const NUMERIC_TYPES = new Map([
  ['SMALLINT', 'SMALLINT'], ['INT2', 'SMALLINT'], ['INTEGER', 'INTEGER'], ['INT', 'INTEGER'], ['INT4', 'INTEGER'],
  ['BIGINT', 'BIGINT'], ['INT8', 'BIGINT'], ['REAL', 'REAL'], ['FLOAT4', 'REAL'], ['FLOAT8', 'DOUBLE PRECISION'],
  ['FLOAT', 'DOUBLE PRECISION'], ['BOOLEAN', 'BOOLEAN'], ['BOOL', 'BOOLEAN'], ['DATE', 'DATE'],
  ['TIMESTAMPTZ', 'TIMESTAMPTZ'], ['TIMETZ', 'TIMETZ'],
]);

// Reads a column type at sig[i]; returns { sql, end, kind, length } where kind is 'varchar',
// 'char' or undefined, and length the byte limit.
function readType(sig, i, statement, column) {
  const w = sig[i];
  if (!w || w.type !== 'word') throw syntaxError(w ?? sig[sig.length - 1], statement);
  let name = w.upper;
  let end = i + 1;
  const args = () => {
    if (sig[end]?.text !== '(') return null;
    const close = closing(sig, end);
    const inner = sig.slice(end + 1, close).map((t) => t.upper);
    end = close + 1;
    return inner.filter((x) => x !== ',');
  };
  const sized = (kind, dflt, max) => {
    const a = args();
    let length = dflt;
    if (a && a.length) length = a[0] === 'MAX' ? max : Number(a[0]);
    if (!(length >= 1 && length <= max)) {
      throw new SqlError('22023', `length for type ${kind} cannot exceed ${max}`, statement.offset + w.start - statement.tokens[0].start + 1);
    }
    return { sql: `${kind === 'varchar' ? 'VARCHAR' : 'CHAR'}(${length})`, end, kind, length };
  };
  if (name === 'DOUBLE' && sig[end]?.upper === 'PRECISION') return { sql: 'DOUBLE PRECISION', end: end + 1 };
  if ((name === 'CHARACTER' || name === 'NATIONAL') && ['VARYING', 'CHARACTER'].includes(sig[end]?.upper)) {
    if (name === 'NATIONAL') end++;
    if (sig[end]?.upper === 'VARYING') {
      end++;
      return sized('varchar', 256, 65535);
    }
  }
  if (name === 'NATIONAL' && sig[end]?.upper === 'CHARACTER') {
    end++;
    name = 'CHARACTER';
  }
  if (['VARCHAR', 'NVARCHAR'].includes(name)) return sized('varchar', 256, 65535);
  if (name === 'TEXT') return { sql: 'VARCHAR(256)', end, kind: 'varchar', length: 256 };
  if (['CHAR', 'CHARACTER', 'NCHAR'].includes(name)) return sized('char', 1, 4096);
  if (name === 'BPCHAR') return { sql: 'CHAR(256)', end, kind: 'char', length: 256 };
  if (['DECIMAL', 'NUMERIC'].includes(name)) {
    const a = args();
    return { sql: a && a.length ? `NUMERIC(${a.join(', ')})` : 'NUMERIC(18, 0)', end };
  }
  if (name === 'TIMESTAMP' || name === 'TIME') {
    let sql = name;
    if (['WITH', 'WITHOUT'].includes(sig[end]?.upper) && sig[end + 1]?.upper === 'TIME' && sig[end + 2]?.upper === 'ZONE') {
      sql += ` ${sig[end].upper} TIME ZONE`;
      end += 3;
    }
    return { sql, end };
  }
  if (NUMERIC_TYPES.has(name)) return { sql: NUMERIC_TYPES.get(name), end };
  throw new SqlError('0A000', `Column "${column}" has unsupported type "${w.text.toLowerCase()}".`, statement.offset + w.start - statement.tokens[0].start + 1);
}

// One column definition of CREATE TABLE or ALTER TABLE ADD COLUMN, as PostgreSQL DDL.
// Redshift's column attributes and constraints
// (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html):
// - ENCODE, DISTKEY, SORTKEY steer storage and distribution, which the stand-in does not model:
//   dropped.
// - IDENTITY(seed, step) refuses explicit values (GENERATED ALWAYS); GENERATED BY DEFAULT AS
//   IDENTITY(seed, step) takes them. Values start at the seed: PostgreSQL's MINVALUE follows it.
// - COLLATE CASE_SENSITIVE compares bytes: PostgreSQL's "C"; CASE_INSENSITIVE: an ICU
//   collation of strength 2 (case ignored), standin_sys.case_insensitive.
// - UNIQUE, PRIMARY KEY and REFERENCES "are informational only. They aren't enforced by the
//   system": dropped, so duplicates load as on Redshift. NOT NULL is enforced: kept.
// - CHAR and VARCHAR hold n bytes: a CHECK on octet_length enforces the byte limit PostgreSQL's
//   character count misses (named standin_bytes_*, which the front reports as Redshift's
//   "value too long" error).
function translateColumn(parts, statement, table, { adding = false } = {}) {
  const name = parts[0];
  const column = identValue(name);
  const type = readType(parts, 1, statement, `${table}.${column}`);
  const out = [quoteIdent(column), type.sql];
  const tail = [];
  let i = type.end;
  while (i < parts.length) {
    const t = parts[i];
    const u = t.upper;
    if (u === 'ENCODE') i += 2;
    else if (u === 'DISTKEY' || u === 'SORTKEY') i += 1;
    else if (u === 'COLLATE') {
      // "Amazon Redshift doesn't support the COLLATE key word when appending a new column"
      // (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html).
      if (adding) throw syntaxError(t, statement);
      const collation = identValue(parts[i + 1]);
      out.push(collation === 'case_sensitive' ? 'COLLATE "C"' : 'COLLATE standin_sys.case_insensitive');
      i += 2;
    } else if (u === 'IDENTITY' || (u === 'GENERATED' && parts[i + 1]?.upper === 'BY')) {
      const always = u === 'IDENTITY';
      let open = i + 1;
      if (!always) open = i + 5; // GENERATED BY DEFAULT AS IDENTITY (
      if (parts[open]?.text !== '(') throw syntaxError(parts[open] ?? t, statement);
      const close = closing(parts, open);
      const [seed, step] = splitCommas(parts, open + 1, close).map((p) => Number(p.map((x) => x.text).join('')));
      if (!Number.isInteger(seed) || !Number.isInteger(step) || step === 0) throw syntaxError(parts[open], statement);
      const bound = step > 0 ? `MINVALUE ${Math.min(seed, 1)}` : `MAXVALUE ${Math.max(seed, -1)}`;
      out.push(`GENERATED ${always ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY (START WITH ${seed} INCREMENT BY ${step} ${bound})`);
      i = close + 1;
    } else if (u === 'PRIMARY' && parts[i + 1]?.upper === 'KEY') i += 2;
    else if (u === 'UNIQUE') i += 1;
    else if (u === 'REFERENCES') {
      i += 2;
      if (parts[i]?.text === '(') i = closing(parts, i) + 1;
    } else if (u === 'NOT' && parts[i + 1]?.upper === 'NULL') {
      out.push('NOT NULL');
      i += 2;
    } else if (u === 'NULL') {
      out.push('NULL');
      i += 1;
    } else if (u === 'DEFAULT') {
      let j = i + 1;
      let depth = 0;
      const stop = new Set(['ENCODE', 'DISTKEY', 'SORTKEY', 'COLLATE', 'IDENTITY', 'GENERATED', 'PRIMARY', 'UNIQUE', 'REFERENCES', 'NOT', 'NULL']);
      while (j < parts.length && (depth > 0 || !stop.has(parts[j].upper))) {
        if (parts[j].text === '(') depth++;
        if (parts[j].text === ')') depth--;
        j++;
      }
      out.push('DEFAULT ' + join(parts.slice(i + 1, j)));
      i = j;
    } else if (u === 'CHECK' || u === 'CONSTRAINT') {
      throw syntaxError(t, statement);
    } else {
      throw syntaxError(t, statement);
    }
  }
  if (type.kind) {
    const constraint = quoteIdent(`standin_bytes_${type.kind}_${type.length}_${column}`.slice(0, 63));
    tail.push(`CONSTRAINT ${constraint} CHECK (octet_length(${quoteIdent(column)}) <= ${type.length})`);
  }
  return [...out, ...tail].join(' ');
}

// Table attributes after the column list (or before AS): BACKUP, DISTSTYLE, DISTKEY, SORTKEY,
// ENCODE AUTO. They steer backups, distribution and storage: dropped. Returns the index of the
// first token that is not one.
function skipTableAttributes(sig, i) {
  for (;;) {
    const u = sig[i]?.upper;
    if (u === 'BACKUP' || u === 'DISTSTYLE') i += 2;
    else if (u === 'DISTKEY') i = closing(sig, i + 1) + 1;
    else if (u === 'COMPOUND' || u === 'INTERLEAVED') i += 1;
    else if (u === 'SORTKEY') i = sig[i + 1]?.upper === 'AUTO' ? i + 2 : closing(sig, i + 1) + 1;
    else if (u === 'ENCODE' && sig[i + 1]?.upper === 'AUTO') i += 2;
    else return i;
  }
}

// The statement's own text from token `from` on, identifiers folded.
function textFrom(statement, from) {
  return foldIdentifiers(statement.tokens.slice(statement.tokens.indexOf(from)));
}

function translateCreateTable(sig, statement) {
  let i = 1;
  const head = ['CREATE'];
  if (sig[i]?.upper === 'LOCAL') i++;
  if (sig[i]?.upper === 'TEMP' || sig[i]?.upper === 'TEMPORARY') {
    head.push('TEMPORARY');
    i++;
  }
  head.push('TABLE');
  i++;
  if (sig[i]?.upper === 'IF' && sig[i + 1]?.upper === 'NOT' && sig[i + 2]?.upper === 'EXISTS') {
    head.push('IF NOT EXISTS');
    i += 3;
  }
  const nameTokens = [];
  while (i < sig.length && (sig[i].type === 'word' || sig[i].type === 'qident' || sig[i].text === '.') && !['BACKUP', 'DISTSTYLE', 'DISTKEY', 'SORTKEY', 'COMPOUND', 'INTERLEAVED', 'ENCODE', 'AS'].includes(sig[i].upper)) {
    nameTokens.push(sig[i]);
    i++;
  }
  const tableName = nameTokens.filter((t) => t.text !== '.').map(identValue).join('.');
  head.push(nameTokens.map((t) => (t.text === '.' ? '.' : quoteIdent(identValue(t)))).join(''));
  if (sig[i]?.text !== '(') {
    // CREATE TABLE ... [attributes] AS query
    const after = skipTableAttributes(sig, i);
    return [...head, sig[after] ? textFrom(statement, sig[after]) : ''].join(' ');
  }
  const close = closing(sig, i);
  const elements = splitCommas(sig, i + 1, close).map((parts) => {
    const u = parts[0]?.upper;
    if (u === 'PRIMARY' || u === 'UNIQUE' || u === 'FOREIGN') return null;
    if (u === 'CONSTRAINT') {
      const kind = parts[2]?.upper;
      if (kind === 'PRIMARY' || kind === 'UNIQUE' || kind === 'FOREIGN') return null;
      throw syntaxError(parts[2] ?? parts[0], statement);
    }
    if (u === 'CHECK') throw syntaxError(parts[0], statement);
    if (u === 'LIKE') return join(parts);
    return translateColumn(parts, statement, tableName);
  });
  const rest = sig[skipTableAttributes(sig, close + 1)];
  return [...head, '(' + elements.filter(Boolean).join(', ') + ')', rest ? textFrom(statement, rest) : ''].join(' ').trim();
}

// ALTER TABLE: ADD [COLUMN] column_definition is translated like CREATE TABLE's; the
// distribution and sort changes Redshift offers (ALTER DISTSTYLE, ALTER DISTKEY, ALTER
// [COMPOUND] SORTKEY, ALTER ENCODE) change nothing the stand-in models, and run as nothing.
function translateAlterTable(sig, statement) {
  let i = 2;
  const nameTokens = [];
  while (i < sig.length && (sig[i].type === 'word' || sig[i].type === 'qident' || sig[i].text === '.') && !['ADD', 'ALTER', 'DROP', 'RENAME', 'OWNER', 'APPEND', 'SET'].includes(sig[i].upper)) {
    nameTokens.push(sig[i]);
    i++;
  }
  const action = sig[i]?.upper;
  if (action === 'ALTER' && ['DISTSTYLE', 'DISTKEY', 'SORTKEY', 'COMPOUND', 'ENCODE'].includes(sig[i + 1]?.upper)) return null;
  if (action === 'ADD' && !['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK'].includes(sig[i + 1]?.upper)) {
    let j = i + 1;
    if (sig[j]?.upper === 'COLUMN') j++;
    const table = nameTokens.filter((t) => t.text !== '.').map(identValue).join('.');
    return `${join(sig.slice(0, i))} ADD COLUMN ${translateColumn(sig.slice(j), statement, table, { adding: true })}`;
  }
  if (action === 'ADD') {
    const kind = sig[i + 1]?.upper === 'CONSTRAINT' ? sig[i + 3]?.upper : sig[i + 1]?.upper;
    if (kind === 'PRIMARY' || kind === 'UNIQUE' || kind === 'FOREIGN') return null;
    throw syntaxError(sig[i + 1], statement);
  }
  return undefined;
}

// ---- statements ----

// What the front does with one statement: { kind, sql } where sql is the PostgreSQL to run
// (null: nothing to run, answer `tag`), or { kind: 'copy' } for Redshift's COPY, which the
// front runs itself. Throws SqlError for what Redshift refuses.
export function translate(statement) {
  const sig = significant(statement.tokens);
  const first = sig[0]?.upper;
  refuseUnsupported(sig, statement);
  if (first === 'COPY') {
    const from = sig.findIndex((t) => t.upper === 'FROM');
    if (from < 0) throw syntaxError(sig.find((t) => t.upper === 'TO') ?? sig[sig.length - 1], statement);
    if (sig[from + 1]?.upper === 'STDIN') throw new SqlError('0A000', 'COPY from STDIN is not supported', statement.offset + 1);
    return { kind: 'copy', sig };
  }
  if (first === 'TRUNCATE') return { kind: 'truncate', sql: foldIdentifiers(statement.tokens) };
  if (first === 'CREATE') {
    let i = 1;
    if (sig[i]?.upper === 'LOCAL') i++;
    if (sig[i]?.upper === 'TEMP' || sig[i]?.upper === 'TEMPORARY') i++;
    if (sig[i]?.upper === 'TABLE') return { kind: 'ddl', sql: translateCreateTable(sig, statement), tag: 'CREATE TABLE' };
  }
  if (first === 'ALTER' && sig[1]?.upper === 'TABLE') {
    const sql = translateAlterTable(sig, statement);
    if (sql === null) return { kind: 'ddl', sql: null, tag: 'ALTER TABLE' };
    if (sql !== undefined) return { kind: 'ddl', sql, tag: 'ALTER TABLE' };
  }
  if (['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT'].includes(first)) return { kind: 'transaction', sql: statement.text };
  if (first === 'SET') checkSetting(sig, statement);
  return { kind: 'other', sql: foldIdentifiers(statement.tokens) };
}

// extra_float_digits takes "0, -15 to 2"
// (https://docs.aws.amazon.com/redshift/latest/dg/r_extra_float_digits.html); PostgreSQL
// takes up to 3. (What a value above 0 prints differs too: Redshift adds digits to DBL_DIG,
// PostgreSQL 12 and later print the shortest exact form; both read back as the same double.)
function checkSetting(sig, statement) {
  let i = 1;
  if (['SESSION', 'LOCAL'].includes(sig[i]?.upper)) i++;
  if (sig[i]?.upper !== 'EXTRA_FLOAT_DIGITS') return;
  i++;
  if (sig[i]?.upper === 'TO' || sig[i]?.text === '=') i++;
  const sign = sig[i]?.text === '-' ? -1 : 1;
  if (sign < 0) i++;
  const value = sign * Number(sig[i]?.type === 'string' ? stringValue(sig[i]) : sig[i]?.text);
  if (Number.isInteger(value) && (value < -15 || value > 2)) {
    throw new SqlError('22023', `${value} is outside the valid range for parameter "extra_float_digits" (-15 .. 2)`, sig[i].start + 1);
  }
}

function foldIdentifiers(tokens) {
  return tokens.map((t) => (t.type === 'qident' ? quoteIdent(identValue(t)) : t.text)).join('');
}
