// records.mjs - the JSON records of one S3 object as Redshift's COPY FORMAT JSON reads them:
// where each root-level object or array begins and ends, the line its error is reported at,
// the values a column gets ('auto', 'auto ignorecase' or a JSONPaths file), and invalid UTF-8.
//
// Rules, from https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html
// and https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-format.html#copy-json:
// - "COPY loads each JSON object or array into one row"; each "must be a stand-alone,
//   root-level structure"; objects "can't be separated by commas or any other characters
//   except white space".
// - "The maximum size of a single JSON object or array, including braces or brackets, is
//   4 MB ... the COPY command fails" (the whole COPY, not one record).
// - line_number is "the line number of the last line of the JSON object with the error"
//   (https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html).
// Bytes are scanned, not decoded text, so sizes are in bytes and invalid UTF-8 can be found and
// replaced byte for byte. Values are parsed with lossless-json, keeping each number's source
// text (a number loaded into VARCHAR is its text; a BIGINT keeps every digit).

import { parse as parseJson } from 'lossless-json';

export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

export class NumberText {
  constructor(text) {
    this.text = text;
  }
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

// Yields { start, end, line, error? } for each root-level value of `bytes`; `line` is the
// 1-based line of its last byte. A value that cannot be delimited yields an error and the scan
// resumes at the next line.
export function* scanRecords(bytes) {
  let i = 0;
  let line = 1;
  // A UTF-8 byte order mark opening the object is not data (the docs leave it open; sparkify
  // writes none, other tools do).
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length) {
    const c = bytes[i];
    if (SPACE.has(c)) {
      if (c === 0x0a) line++;
      i++;
      continue;
    }
    const start = i;
    const startLine = line;
    if (c !== 0x7b && c !== 0x5b) {
      // Not an object or array: the rest of the line is one bad record.
      while (i < bytes.length && bytes[i] !== 0x0a) i++;
      yield { start, end: i, line, error: 'Invalid JSON: a record must be a JSON object or array' };
      continue;
    }
    let depth = 0;
    let inString = false;
    let done = false;
    for (; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x0a) line++;
      if (inString) {
        if (b === 0x5c) i++;
        else if (b === 0x22) inString = false;
        continue;
      }
      if (b === 0x22) inString = true;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (--depth === 0) {
          i++;
          done = true;
          break;
        }
      }
    }
    if (!done) {
      yield { start, end: bytes.length, line: line, error: 'Invalid JSON: the object or array is not closed', startLine };
      return;
    }
    yield { start, end: i, line, startLine };
  }
}

// The first invalid UTF-8 sequence in bytes[start, end): { at, length, hex, code } or null.
// Codes as https://docs.aws.amazon.com/redshift/latest/dg/multi-byte-character-load-errors.html
// lists them: 1 a sequence longer than four bytes (lead bytes 0xf8-0xfd), 2 an incomplete
// sequence, 3 a single byte out of range ("The starting byte must not be 254, 255 or any
// character between 128 and 191"); an overlong or surrogate encoding is reported as 3 too.
export function invalidUtf8(bytes, start, end) {
  for (let i = start; i < end; ) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else return { at: i, length: 1, hex: hex(bytes, i, 1), code: b >= 0xf8 && b <= 0xfd ? 1 : 3 };
    let ok = true;
    let n = 0;
    for (; n < need; n++) {
      const cont = bytes[i + 1 + n];
      if (i + 1 + n >= end || (cont & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
    }
    if (!ok) return { at: i, length: n + 1, hex: hex(bytes, i, n + 1), code: 2 };
    const second = bytes[i + 1];
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second >= 0xa0) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second >= 0x90)) {
      return { at: i, length: need + 1, hex: hex(bytes, i, need + 1), code: 3 };
    }
    i += need + 1;
  }
  return null;
}

function hex(bytes, at, length) {
  return Array.from(bytes.subarray(at, at + length), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

// ACCEPTINVCHARS: "replaces each invalid UTF-8 character with a string of equal length
// consisting of the character specified by replacement_char"
// (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html#copy-acceptinvchars):
// each byte of an invalid sequence becomes one replacement character.
export function replaceInvalidUtf8(bytes, replacement) {
  const out = Buffer.from(bytes);
  let found = 0;
  for (let bad = invalidUtf8(out, 0, out.length); bad; bad = invalidUtf8(out, bad.at + bad.length, out.length)) {
    out.fill(replacement, bad.at, bad.at + bad.length);
    found++;
  }
  return { bytes: out, found };
}

// The record's value tree; numbers stay NumberText. Throws on invalid JSON.
export function parseRecord(text) {
  return parseJson(text, null, (numberText) => new NumberText(numberText));
}

// ---- JSONPaths ----

// A JSONPaths file's expressions as arrays of keys and indexes. "Amazon Redshift doesn't
// support any JSONPath elements, such as wildcard characters or filter expressions"; "You
// can't mix bracket notation and dot notation in the jsonpaths array"; "Array indexes must be
// positive integers (greater than or equal to zero)"
// (https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html).
export function parseJsonPaths(expressions) {
  let notation = null;
  return expressions.map((expression) => {
    if (typeof expression !== 'string' || !expression.startsWith('$')) throw new Error(`Invalid JSONPath format: ${JSON.stringify(expression)}`);
    const steps = [];
    let i = 1;
    while (i < expression.length) {
      const rest = expression.slice(i);
      let m;
      if ((m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(rest)) || (m = /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest))) {
        if (notation === 'dot') throw new Error(`Invalid JSONPath format: bracket and dot notation mixed: ${expression}`);
        notation = 'bracket';
        steps.push(m[1].replace(/\\(.)/g, '$1'));
      } else if ((m = /^\[(\d+)\]/.exec(rest))) {
        steps.push(Number(m[1]));
      } else if ((m = /^\.([^.'[\]*]+)/.exec(rest))) {
        if (notation === 'bracket') throw new Error(`Invalid JSONPath format: bracket and dot notation mixed: ${expression}`);
        notation = 'dot';
        steps.push(m[1]);
      } else {
        throw new Error(`Invalid JSONPath format: ${expression}`);
      }
      i += m[0].length;
    }
    if (!steps.length) throw new Error(`Invalid JSONPath format: ${expression}`);
    return steps;
  });
}

export function valueAtPath(root, steps) {
  let v = root;
  for (const step of steps) {
    if (v === null || typeof v !== 'object' || v instanceof NumberText) return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(v)) return undefined;
      v = v[step];
    } else {
      if (Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, step)) return undefined;
      v = v[step];
    }
  }
  return v;
}

// 'auto' and 'auto ignorecase': "With this option, matching is case-sensitive. Column names in
// Amazon Redshift tables are always lowercase"; with 'auto ignorecase' "the matching isn't
// case-sensitive"; "Any names that don't match a column name are ignored"
// (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-format.html#copy-json).
// With ignorecase and several keys differing only in case, the last one wins (the docs leave
// it open).
export function autoValues(record, columns, ignoreCase) {
  const values = new Array(columns.length).fill(undefined);
  const index = new Map(columns.map((c, i) => [c, i]));
  for (const key of Object.keys(record)) {
    const i = index.get(ignoreCase ? key.toLowerCase() : key);
    if (i !== undefined) values[i] = record[key];
  }
  return values;
}

// An object or array loaded into a VARCHAR column: "the entire object or array is loaded as a
// string, including the braces or brackets"; the page shows members as `"id": 1,"name": ...`
// (a space after each colon, none after commas) and arrays as `["nisi","culpa"]`.
export function nestedText(value) {
  if (value instanceof NumberText) return value.text;
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return '[' + value.map(nestedText).join(',') + ']';
  return '{' + Object.keys(value).map((k) => `${JSON.stringify(k)}: ${nestedText(value[k])}`).join(',') + '}';
}
