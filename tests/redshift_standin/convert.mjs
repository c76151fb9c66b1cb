// convert.mjs - one JSON value into one column, as Redshift's COPY converts it, or the load
// error it records instead ({ code, reason, position }, codes from
// https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html).
//
// The result is the column's value as PostgreSQL's COPY text reads it (or null), so the front
// can stream rows it has already judged: nothing reaches PostgreSQL that PostgreSQL could reject
// row by row. Rules (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html):
// - "Empty fields for other data types, such as INT, are always loaded with NULL" (EMPTYASNULL)
//   and "Blank fields for other data types, such as INT, are always loaded with NULL"
//   (BLANKSASNULL); for CHAR and VARCHAR they stay '' and blanks unless the option is given.
// - CHAR and VARCHAR lengths are bytes; "An attempt to store a longer string into a column of
//   these types results in an error, unless the extra characters are all spaces (blanks), in
//   which case the string is truncated" (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html);
//   TRUNCATECOLUMNS "Truncates data in columns to the appropriate number of characters so that
//   it fits the column specification" (cut here at the last whole character within the byte
//   limit).
// - "Columns with a CHAR data type only accept single-byte UTF-8 characters"
//   (https://docs.aws.amazon.com/redshift/latest/dg/multi-byte-character-load-errors.html).
// - DECIMAL: "By default, COPY truncates values when necessary to fit the scale of the column
//   ... If ROUNDEC is specified, COPY rounds the value".
// - TIMEFORMAT 'epochsecs' / 'epochmillisecs', 'auto', and the default 'YYYY-MM-DD HH:MI:SS';
//   other format strings are not modeled (COPY refuses them).
// Where the docs are silent the choice is written beside the code: a JSON number with a
// fraction or exponent into an integer column is an invalid digit; strings are trimmed before
// numeric parsing; a Boolean into a number column is an invalid digit.

import { NumberText, nestedText } from './records.mjs';

const INT_RANGE = {
  int2: [-32768n, 32767n, 'Short'],
  int4: [-2147483648n, 2147483647n, 'Integer'],
  int8: [-9223372036854775808n, 9223372036854775807n, 'Long'],
};

const fail = (code, reason, position = 0) => ({ error: { code, reason, position } });
const ok = (text) => ({ text });

// The value's text before conversion, as raw_field_value records it.
export function rawText(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return nestedText(value);
}

export function convert(value, column, options) {
  if (value === undefined || value === null) return nullValue(column);
  switch (column.type) {
    case 'int2':
    case 'int4':
    case 'int8':
      return toInteger(value, column);
    case 'float4':
    case 'float8':
      return toFloat(value, column);
    case 'numeric':
      return toDecimal(value, column, options);
    case 'bool':
      return toBoolean(value, column);
    case 'varchar':
    case 'bpchar':
      return toCharacter(value, column, options);
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return toDatetime(value, column, options);
    default:
      return fail(1223, `Invalid data type ${column.type}`);
  }
}

function nullValue(column) {
  // "If COPY attempts to assign NULL to a column that is defined as NOT NULL, the COPY command
  // fails" for the record (load error 1213, "A field specified as NOT NULL contained no data").
  if (column.notNull) return fail(1213, 'Missing data for not-null field');
  return ok(null);
}

// Strings for numeric columns: empty or blank is NULL; otherwise the trimmed text.
function numericText(value, column, typeName) {
  if (value instanceof NumberText) return { text: value.text };
  if (typeof value === 'string') {
    if (value.trim() === '') return { empty: true };
    return { text: value.trim() };
  }
  const text = rawText(value);
  return { error: fail(1207, `Invalid digit, Value '${text[0]}', Pos 0, Type: ${typeName}`) };
}

function toInteger(value, column) {
  const [min, max, typeName] = INT_RANGE[column.type];
  const t = numericText(value, column, typeName);
  if (t.error) return t.error;
  if (t.empty) return nullValue(column);
  const m = /^[-+]?[0-9]+/.exec(t.text);
  const digitsEnd = m ? m[0].length : /^[-+]?/.exec(t.text)[0].length;
  if (!m || digitsEnd < t.text.length) {
    const bad = t.text[digitsEnd] ?? t.text[0];
    return fail(1207, `Invalid digit, Value '${bad}', Pos ${digitsEnd}, Type: ${typeName}`, digitsEnd);
  }
  const n = BigInt(t.text);
  if (n < min || n > max) return fail(1204, `Overflow, Value '${t.text}', Pos 0, Type: ${typeName}`);
  return ok(n.toString());
}

const FLOAT = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

function toFloat(value, column) {
  const typeName = column.type === 'float4' ? 'Float' : 'Double';
  const t = numericText(value, column, typeName);
  if (t.error) return t.error;
  if (t.empty) return nullValue(column);
  if (!FLOAT.test(t.text)) {
    const at = [...t.text].findIndex((ch, i) => !FLOAT.test(t.text.slice(0, i + 1)) && !/^[-+.eE]$/.test(ch));
    const pos = at < 0 ? 0 : at;
    return fail(1207, `Invalid digit, Value '${t.text[pos]}', Pos ${pos}, Type: ${typeName}`, pos);
  }
  // "You might lose precision when loading numbers from data files in JSON format"
  // (copy-usage_notes-copy-from-json): the number is read as a double, as the docs warn.
  const n = Number(t.text);
  const limit = column.type === 'float4' ? 3.4028234663852886e38 : Number.MAX_VALUE;
  if (!Number.isFinite(n) || Math.abs(n) > limit) return fail(1204, `Overflow, Value '${t.text}', Pos 0, Type: ${typeName}`);
  return ok(String(n));
}

function toDecimal(value, column, options) {
  const t = numericText(value, column, 'Decimal');
  if (t.error) return t.error;
  if (t.empty) return nullValue(column);
  const m = /^([-+]?)([0-9]*)(?:\.([0-9]*))?$/.exec(t.text);
  if (!m || (m[2] === '' && !m[3])) {
    const pos = Math.max(0, [...t.text].findIndex((ch) => !/[-+0-9.]/.test(ch)));
    return fail(1207, `Invalid digit, Value '${t.text[pos]}', Pos ${pos}, Type: Decimal`, pos);
  }
  const [, sign, whole, fraction = ''] = m;
  const { precision, scale } = column;
  let digits = (whole || '0') + fraction.padEnd(scale, '0').slice(0, scale);
  let n = BigInt(digits);
  if (options.roundec && fraction.length > scale && Number(fraction[scale]) >= 5) n += 1n;
  digits = n.toString().padStart(scale + 1, '0');
  const intPart = digits.slice(0, digits.length - scale).replace(/^0+(?=.)/, '');
  if (intPart.replace(/^0$/, '').length > precision - scale) {
    return fail(1216, `Numeric data overflow (result precision), Value '${t.text}', Type: Decimal`);
  }
  const text = scale ? `${intPart}.${digits.slice(digits.length - scale)}` : intPart;
  return ok((sign === '-' && n !== 0n ? '-' : '') + text);
}

// Boolean literals as https://docs.aws.amazon.com/redshift/latest/dg/r_Boolean_type.html lists
// them: TRUE 't' 'true' 'y' 'yes' '1' and FALSE 'f' 'false' 'n' 'no' '0'.
function toBoolean(value, column) {
  if (typeof value === 'boolean') return ok(value ? 't' : 'f');
  let text = value instanceof NumberText ? value.text : typeof value === 'string' ? value.trim() : null;
  if (text === '') return nullValue(column);
  text = text?.toLowerCase();
  if (['t', 'true', 'y', 'yes', '1'].includes(text)) return ok('t');
  if (['f', 'false', 'n', 'no', '0'].includes(text)) return ok('f');
  return fail(1210, `Invalid boolean value, Value '${rawText(value)}'`);
}

function utf8Length(s) {
  return Buffer.byteLength(s, 'utf8');
}

// Cuts s to at most `bytes` UTF-8 bytes, at a character boundary.
function cutToBytes(s, bytes) {
  let used = 0;
  let out = '';
  for (const ch of s) {
    const n = utf8Length(ch);
    if (used + n > bytes) break;
    used += n;
    out += ch;
  }
  return out;
}

function toCharacter(value, column, options) {
  let s;
  if (typeof value === 'string') s = value;
  else if (value instanceof NumberText) s = value.text;
  else s = nestedText(value);
  if (options.emptyAsNull && s === '') return nullValue(column);
  if (options.blanksAsNull && s.trim() === '' && s !== '') return nullValue(column);
  if (options.trimBlanks) s = s.replace(/[ \t\r\n]+$/, '');
  // Code points JavaScript holds but UTF-8 cannot (a lone surrogate from a \ud800 escape) and
  // NUL, which no CHAR or VARCHAR value can hold, are invalid characters.
  const bad = /[\ud800-\udfff]|\u0000/u.exec(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, 'xx'));
  if (bad) {
    if (!options.acceptInvChars) {
      const code = bad[0] === '\u0000' ? '00' : bad[0].charCodeAt(0).toString(16);
      return fail(1220, `String contains invalid or unsupported UTF8 codepoints. Bad UTF8 hex sequence: ${code} (error 3)`, bad.index);
    }
    s = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/g, options.acceptInvChars.repeat(3).slice(0, 3));
  }
  if (column.type === 'bpchar') {
    const multibyte = [...s].find((ch) => ch.codePointAt(0) > 0x7f);
    if (multibyte) {
      const hexBytes = Array.from(Buffer.from(multibyte, 'utf8'), (b) => b.toString(16)).join(' ');
      return fail(1220, `Multibyte character not supported for CHAR (Hint: Try using VARCHAR). Invalid char: ${hexBytes}`, s.indexOf(multibyte));
    }
  }
  const limit = column.length;
  if (limit !== undefined && utf8Length(s) > limit) {
    const cut = cutToBytes(s, limit);
    if (/^ *$/.test(s.slice(cut.length))) s = cut;
    else if (options.truncateColumns) s = cut;
    else return fail(1204, `${column.type === 'bpchar' ? 'Char' : 'String'} length exceeds DDL length`, limit);
  }
  return ok(s);
}

// ---- dates and times ----

const DEFAULT_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/;
const AUTO_TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function toDatetime(value, column, options) {
  let text = value instanceof NumberText ? value.text : typeof value === 'string' ? value.trim() : rawText(value);
  if (text === '') return nullValue(column);
  const format = column.type === 'date' ? options.dateFormat : options.timeFormat;
  const shown = format ?? (column.type === 'date' ? 'YYYY-MM-DD' : 'YYYY-MM-DD HH24:MI:SS');
  const invalid = () => (column.type === 'date' ? fail(1205, `Invalid date format or value [${shown}]`) : fail(1206, `Invalid timestamp format or value [${shown}]`));
  if (format === 'epochsecs' || format === 'epochmillisecs') {
    if (!/^-?\d+(\.\d+)?$/.test(text)) return invalid();
    const ms = format === 'epochsecs' ? Number(text) * 1000 : Number(text);
    const d = new Date(ms);
    if (Number.isNaN(d.getTime())) return invalid();
    return ok(d.toISOString().replace('T', ' ').replace('Z', column.type === 'timestamptz' ? '+00' : ''));
  }
  const pattern = column.type === 'date' && format !== 'auto' ? DATE : format === 'auto' ? AUTO_TIMESTAMP : DEFAULT_TIMESTAMP;
  const m = pattern.exec(text);
  if (!m) return invalid();
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return invalid();
  return ok(text);
}
