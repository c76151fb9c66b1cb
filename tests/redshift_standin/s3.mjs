// s3.mjs - what a COPY reads before its load begins, as the cluster reads it: the role
// chain's credentials (STS on moto), bucket Regions, the objects of a key prefix or a manifest,
// and the JSONPaths file; and S3's errors in the form Redshift reports them. Every error here
// fails the COPY "before the load process begins", so it gets no query ID
// (https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html).

import { S3Client, GetObjectCommand, ListObjectsV2Command, GetBucketLocationCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';

import { CopyError, SESSION_NAME } from './copy_error.mjs';
import { parseJsonPaths } from './records.mjs';

export function parseS3Url(url) {
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

export class S3Reader {
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
export async function roleCredentials(front, session, roles) {
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
export async function objectUrls(copy, s3) {
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
export async function jsonPaths(copy, s3, columnCount) {
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
