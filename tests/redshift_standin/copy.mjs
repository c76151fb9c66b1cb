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
import { S3Client, GetObjectCommand, ListObjectsV2Command, GetBucketLocationCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import copyStreams from 'pg-copy-streams';

import { SqlError, stringValue, identValue } from './sql.mjs';
import { scanRecords, invalidUtf8, replaceInvalidUtf8, parseRecord, parseJsonPaths, valueAtPath, autoValues, MAX_RECORD_BYTES } from './records.mjs';
import { convert, rawText } from './convert.mjs';

// "The MAXERROR default value is 0 and the limit is 100000"
// (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror).
const MAXERROR_LIMIT = 100000;
export const SESSION_NAME = 'redshift-standin-copy';

// An error Redshift reports for a whole COPY: XX000, as the tutorial's failed loads show
// ("[SQL State=XX000]", https://docs.aws.amazon.com/redshift/latest/dg/tutorial-loading-run-copy.html).
export class CopyError extends Error {
  constructor(message, detail = {}, code = 'XX000') {
    super(message);
    this.code = code;
    this.detailFields = detail;
  }
  // Redshift's DETAIL block for internal errors.
  get detail() {
    const d = this.detailFields;
    const lines = ['  -----------------------------------------------', `  error:  ${this.message}`];
    if (d.code !== undefined) lines.push(`  code:      ${d.code}`);
    if (d.context) lines.push(`  context:   ${d.context}`);
    lines.push(`  query:     ${d.query ?? 0}`);
    lines.push('  location:  redshift_standin copy.mjs');
    lines.push(`  process:   padbmaster [pid=${process.pid}]`);
    lines.push('  -----------------------------------------------');
    return '\n' + lines.join('\n');
  }
}

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
  let format = false;
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
        format = true;
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
  void format;
  if (!copy.json) throw notModeled('COPY of delimited text (give FORMAT AS JSON)', sig[0]);
  if (!copy.roles && !copy.keys) throw new SqlError('42601', 'COPY needs authorization: IAM_ROLE, CREDENTIALS or ACCESS_KEY_ID and SECRET_ACCESS_KEY', position(sig[0]));
  return copy;
}

// ---- S3 ----

function parseS3Url(url) {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) return null;
  return { bucket: m[1], key: m[2] };
}

// Redshift reports S3's own errors as S3ServiceException:MESSAGE,Status N,Error CODE,Rid ...
function s3Failure(e, context, prefix = '') {
  const status = e.$metadata?.httpStatusCode ?? 0;
  const message = `${prefix}S3ServiceException:${e.message},Status ${status},Error ${e.Code ?? e.name},Rid ${e.$metadata?.requestId ?? ''},ExtRid ${e.$metadata?.extendedRequestId ?? ''},CanRetry 1`;
  return new CopyError(message, { code: 8001, context });
}

class S3Reader {
  constructor(front, credentials, region) {
    this.region = region;
    this.client = new S3Client({
      endpoint: front.config.s3Endpoint,
      region,
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
    });
    this.regions = new Map();
  }

  // "If the REGION parameter is specified, all resources, including a manifest file or
  // multiple Amazon S3 buckets, must be located in the specified Region"; without it "COPY
  // assumes that the data is located in the same Region as the Amazon Redshift cluster"
  // (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html#copy-region).
  // A bucket elsewhere answers as S3 does to a request sent to the wrong Region's endpoint
  // ("The bucket you are attempting to access must be addressed using the specified endpoint",
  // https://docs.aws.amazon.com/redshift/latest/dg/queries-troubleshooting-load-fails.html).
  async checkRegion(bucket, context, prefix) {
    if (!this.regions.has(bucket)) {
      try {
        const r = await this.client.send(new GetBucketLocationCommand({ Bucket: bucket }));
        this.regions.set(bucket, r.LocationConstraint || 'us-east-1');
      } catch (e) {
        throw s3Failure(e, context, prefix);
      }
    }
    if (this.regions.get(bucket) !== this.region) {
      const e = new Error('The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.');
      e.name = 'PermanentRedirect';
      e.$metadata = { httpStatusCode: 301 };
      throw s3Failure(e, context, prefix);
    }
  }

  async get(url, context, prefix = '') {
    const { bucket, key } = parseS3Url(url);
    await this.checkRegion(bucket, context, prefix);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await r.Body.transformToByteArray());
    } catch (e) {
      throw s3Failure(e, context, prefix);
    }
  }

  async exists(url, context) {
    const { bucket, key } = parseS3Url(url);
    await this.checkRegion(bucket, context);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (e) {
      if (e.$metadata?.httpStatusCode === 404) return false;
      throw s3Failure(e, context);
    }
  }

  // "'s3://mybucket/custfolder' refers to the folders custfolder, custfolder_1 ... If a key
  // prefix matches a file as well as a folder, such as custfolder.log, COPY attempts to load
  // the file also" (copy-parameters-data-source-s3): every key starting with the prefix.
  async list(url) {
    const { bucket, key } = parseS3Url(url);
    const context = `Listing bucket=${bucket} prefix=${key}`;
    await this.checkRegion(bucket, context);
    const urls = [];
    let token;
    do {
      let r;
      try {
        r = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      } catch (e) {
        throw s3Failure(e, context);
      }
      for (const o of r.Contents ?? []) if (!o.Key.endsWith('/')) urls.push(`s3://${bucket}/${o.Key}`);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return urls;
  }
}

// The role chain's credentials: the cluster assumes the first role, which "must be a role
// attached to the cluster"; "Each role in the chain assumes the next role in the chain"
// (https://docs.aws.amazon.com/redshift/latest/mgmt/authorizing-redshift-service-chaining-roles.html).
// IAM_ROLE default is "the IAM role that is set as default and associated with the cluster"
// (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-authorization.html).
async function roleCredentials(front, session, roles) {
  const cfg = front.config;
  const chain = roles === 'default' ? (cfg.defaultRole ? [cfg.defaultRole] : []) : roles.map((r) => r.trim());
  const refuse = (arn) =>
    new CopyError(`User arn:aws:redshift:${cfg.region}:${cfg.account}:dbuser:${cfg.clusterId}/${session.info.user} is not authorized to assume IAM Role ${arn}`, { code: 8001, context: `IAM Role=${arn}` });
  if (!chain.length) throw new CopyError('No default IAM role is associated with the cluster', { code: 8001 });
  if (!cfg.attachedRoles.includes(chain[0])) throw refuse(chain[0]);
  let credentials = cfg.clusterCredentials;
  for (const arn of chain) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(arn)) throw refuse(arn);
    const sts = new STSClient({ endpoint: cfg.s3Endpoint, region: cfg.region, credentials, maxAttempts: 2 });
    try {
      const r = await sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: SESSION_NAME }));
      credentials = { accessKeyId: r.Credentials.AccessKeyId, secretAccessKey: r.Credentials.SecretAccessKey, sessionToken: r.Credentials.SessionToken };
    } catch {
      throw refuse(arn);
    }
  }
  return credentials;
}

// The objects a COPY reads. A manifest "lists the URL of each file"; "If mandatory is set to
// true, COPY terminates if it doesn't find the file for that entry"; "The default value for
// mandatory is false"; "If a file is listed twice, the file is loaded twice"
// (copy-parameters-data-source-s3); "Regardless of any mandatory settings, COPY will
// terminate if no files are found"
// (https://docs.aws.amazon.com/redshift/latest/dg/loading-data-files-using-manifest.html).
async function objectUrls(copy, s3) {
  if (!copy.manifest) {
    const urls = await s3.list(copy.from);
    if (!urls.length) throw new CopyError(`The specified S3 prefix '${parseS3Url(copy.from).key}' does not exist`, { code: 8001, context: copy.from });
    return urls;
  }
  const text = await s3.get(copy.from, `Manifest file ${copy.from}`, 'Problem reading manifest file - ');
  let manifest;
  try {
    manifest = JSON.parse(text.toString('utf8'));
  } catch (e) {
    throw new CopyError(`Manifest file is not in correct json format: ${e.message}`, { code: 8001, context: copy.from });
  }
  if (!manifest || !Array.isArray(manifest.entries)) throw new CopyError('Manifest file is not in correct json format: no "entries" array', { code: 8001, context: copy.from });
  const urls = [];
  for (const entry of manifest.entries) {
    const target = typeof entry?.url === 'string' ? parseS3Url(entry.url) : null;
    // Load error 8001: "COPY with MANIFEST parameter requires full Amazon S3 path for the input
    // file" (https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html).
    if (!target || !target.key) throw new CopyError(`COPY with MANIFEST parameter requires full Amazon S3 path for the input file: ${JSON.stringify(entry?.url)}`, { code: 8001, context: copy.from });
    if (await s3.exists(entry.url, `Manifest entry ${entry.url}`)) urls.push(entry.url);
    else if (entry.mandatory === true) {
      throw new CopyError(`Manifest file ${copy.from} lists mandatory file ${entry.url}, which was not found: S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey`, { code: 8001, context: entry.url });
    }
  }
  if (!urls.length) throw new CopyError(`None of the files listed in manifest ${copy.from} were found`, { code: 8001, context: copy.from });
  return urls;
}

// "A JSONPaths file is a text file that contains a single JSON object with the name
// "jsonpaths" paired with an array of JSONPath expressions. If the name is any string other
// than "jsonpaths", COPY uses the 'auto' argument"; "Each JSONPath expression in the jsonpaths
// array corresponds to one column ... The order of the jsonpaths array elements must match the
// order of the columns" (copy-usage_notes-copy-from-json).
async function jsonPaths(copy, s3, columnCount) {
  if (copy.json === 'auto' || copy.json === 'auto ignorecase') return null;
  if (!copy.json.startsWith('s3://')) throw new CopyError(`Invalid JSON option '${copy.json}': 'auto', 'auto ignorecase' or the s3:// URL of a JSONPaths file`, { code: 8001 });
  const text = await s3.get(copy.json, `JSONPaths file ${copy.json}`, 'Problem reading JSONPaths file - ');
  let doc;
  try {
    doc = JSON.parse(text.toString('utf8'));
  } catch (e) {
    throw new CopyError(`JSONPaths file is not valid JSON: ${e.message}`, { code: 8001, context: copy.json });
  }
  const keys = doc && typeof doc === 'object' ? Object.keys(doc) : [];
  if (keys.length === 1 && keys[0] !== 'jsonpaths') return null;
  if (!Array.isArray(doc?.jsonpaths)) throw new CopyError('JSONPaths file must hold a single object {"jsonpaths": [...]}', { code: 8001, context: copy.json });
  let paths;
  try {
    paths = parseJsonPaths(doc.jsonpaths);
  } catch (e) {
    throw new CopyError(e.message, { code: 8001, context: copy.json });
  }
  if (paths.length !== columnCount) {
    throw new CopyError(`Number of jsonpaths and the number of columns should match. JSONPath size: ${paths.length}, Number of columns in table or column list: ${columnCount}`, { code: 8001, context: copy.json });
  }
  return paths;
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
