// wire.mjs - PostgreSQL protocol messages as the front writes and reads them once the
// connection has started (pg-gateway handles the start-up): frames with a type byte and a
// length that counts itself, ErrorResponse and NoticeResponse fields, row descriptions and
// rows in text format, and the translation of PostgreSQL's errors into what the client sees.
// Protocol: https://www.postgresql.org/docs/current/protocol-message-formats.html.


export class Writer {
  constructor() {
    this.parts = [];
  }
  int16(n) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }
  int32(n) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  cstring(s) {
    this.parts.push(Buffer.from(String(s), 'utf8'), Buffer.from([0]));
    return this;
  }
  bytes(b) {
    this.parts.push(b);
    return this;
  }
  message(code) {
    const body = Buffer.concat(this.parts);
    const head = Buffer.alloc(5);
    head.write(code, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  }
}

// ErrorResponse and NoticeResponse share their fields.
export function diagnostic(code, e) {
  const w = new Writer();
  const field = (tag, value) => {
    if (value !== undefined && value !== null && value !== '') w.bytes(Buffer.from(tag, 'latin1')).cstring(value);
  };
  field('S', e.severity);
  field('V', e.severity);
  field('C', e.code);
  field('M', e.message);
  field('D', e.detail);
  field('H', e.hint);
  field('P', e.position);
  field('W', e.where);
  field('s', e.schema);
  field('t', e.table);
  field('c', e.column);
  field('n', e.constraint);
  w.bytes(Buffer.from([0]));
  return w.message(code);
}

export function rowDescription(fields) {
  const w = new Writer().int16(fields.length);
  for (const f of fields) {
    w.cstring(f.name).int32(f.tableID).int16(f.columnID).int32(f.dataTypeID).int16(f.dataTypeSize).int32(f.dataTypeModifier).int16(0);
  }
  return w.message('T');
}

export function dataRow(values) {
  const w = new Writer().int16(values.length);
  for (const v of values) {
    if (v === null || v === undefined) w.int32(-1);
    else {
      const b = Buffer.from(v, 'utf8');
      w.int32(b.length).bytes(b);
    }
  }
  return w.message('D');
}

export const simple = (code, body) => (body ? new Writer().bytes(body) : new Writer()).message(code);

// A PostgreSQL error as the client sees it (its fields copied: an Error's message is not
// enumerable). The byte-length CHECK constraints sql.mjs adds are the stand-in's own; their
// violation is Redshift's "value too long" (22001). The context (`where`) would name the
// stand-in's own functions and is left out.
export function clientError(e) {
  const m = /^standin_bytes_(varchar|char)_(\d+)_/.exec(e.constraint ?? '');
  if (e.code === '23514' && m) {
    const type = m[1] === 'varchar' ? 'character varying' : 'character';
    return { severity: 'ERROR', code: '22001', message: `value too long for type ${type}(${m[2]})` };
  }
  const { severity, code, detail, hint, position, schema, table, column, constraint } = e;
  return { severity: severity ?? 'ERROR', code: code ?? 'XX000', message: e.message, detail, hint, position, schema, table, column, constraint };
}


export class Reader {
  constructor(buffer) {
    this.b = buffer;
    this.i = 0;
  }
  byte() {
    return this.b[this.i++];
  }
  int16() {
    const v = this.b.readInt16BE(this.i);
    this.i += 2;
    return v;
  }
  int32() {
    const v = this.b.readInt32BE(this.i);
    this.i += 4;
    return v;
  }
  cstring() {
    const end = this.b.indexOf(0, this.i);
    const s = this.b.toString('utf8', this.i, end);
    this.i = end + 1;
    return s;
  }
  bytes(n) {
    const v = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return v;
  }
}
