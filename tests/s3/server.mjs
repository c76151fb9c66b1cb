// The S3 test server: s3rver on 127.0.0.1 behind a front that does what s3rver does not.
// - It verifies every request's AWS Signature V4 with the AWS SDK's own signer
//   (@smithy/signature-v4) and a known secret, answering 403 SignatureDoesNotMatch otherwise.
// - It injects faults on request: POST /__faults?mode=503|drop|403|hold|none&count=N&match=TEXT
//   makes the next N requests (-1: all) whose method and URL contain TEXT (any, without match)
//   answer 503 SlowDown, lose their connection, answer 403 AccessDenied, or wait, unread, until
//   POST /__release lets every held request through.
// - GET /__stats reports how many requests it forwarded, how many it answered with a fault, the
//   most in flight at once, and how many are held.
// - S3_TEST_LATENCY_MS=N holds every request N ms before forwarding it (the benchmark's added
//   latency: this machine's kernel has no netem); S3_TEST_VERIFY=0 skips the signature check
//   so that the benchmark measures the transport alone.
// - S3_TEST_UPSTREAM=URL puts the front before another S3 server (the Redshift stand-in's moto)
//   instead of s3rver; the upstream then checks signatures (set S3_TEST_VERIFY=0), and the
//   front only adds faults and latency.
// Prints {"front": port, "s3rver": port} on stdout once listening ("s3rver": null with an
// upstream); stops on SIGTERM.
//
// usage: node --openssl-legacy-provider server.mjs DIRECTORY BUCKET [BUCKET...]
//        S3_TEST_UPSTREAM=URL S3_TEST_VERIFY=0 node server.mjs
// (s3rver's listing continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider)
import http from 'node:http';
import { fork } from 'node:child_process';
import S3rver from 's3rver';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const [directory, ...buckets] = process.argv.slice(2);
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = process.env.S3_TEST_SECRET || 'S3RVER-test-secret';
const LATENCY_MS = Number(process.env.S3_TEST_LATENCY_MS || 0);
const VERIFY = process.env.S3_TEST_VERIFY !== '0';
const UPSTREAM = process.env.S3_TEST_UPSTREAM ? new URL(process.env.S3_TEST_UPSTREAM) : null;

// s3rver runs in a child process, so that it and the front each have an event loop (and a
// core) of their own: the front's signature checks and delays do not slow s3rver down.
if (process.env.S3RVER_CHILD) {
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await s3rver.run();
  process.send({ port });
  process.on('disconnect', () => s3rver.close().then(() => process.exit(0)));
} else {
  await runFront();
}

async function runFront() {
const child = UPSTREAM ? null : fork(new URL(import.meta.url).pathname, process.argv.slice(2), {
  env: { ...process.env, S3RVER_CHILD: '1' },
  execArgv: process.execArgv,
});
const s3Port = UPSTREAM
  ? Number(UPSTREAM.port)
  : await new Promise((resolve) => child.once('message', (m) => resolve(m.port)));
const s3Host = UPSTREAM ? UPSTREAM.hostname : '127.0.0.1';

let faultMode = 'none';
let faultCount = 0;
let faultMatch = '';
let held = [];
let forwarded = 0;
let faulted = 0;
let inFlight = 0;
let maxInFlight = 0;

function xmlError(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

async function signatureIsValid(req) {
  const auth = req.headers.authorization || '';
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) return false;
  const [, accessKey, , region, signedHeaders, signature] = match;
  if (accessKey !== ACCESS_KEY) return false;
  const names = signedHeaders.split(';');
  const headers = {};
  for (const name of names) {
    if (req.headers[name] === undefined) return false;
    headers[name] = req.headers[name];
  }
  const url = new URL(req.url, 'http://placeholder');
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const amzDate = req.headers['x-amz-date'] || '';
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!d) return false;
  const signingDate = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]));
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: '127.0.0.1', path: url.pathname, query, headers },
    { signingDate, signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization || '')?.[1];
  return expected === signature;
}

const front = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://placeholder');
  if (url.pathname === '/__faults') {
    faultMode = url.searchParams.get('mode') || 'none';
    faultCount = Number(url.searchParams.get('count') || 0);
    faultMatch = url.searchParams.get('match') || '';
    res.end('ok\n');
    return;
  }
  if (url.pathname === '/__release') {
    const waiting = held;
    held = [];
    for (const release of waiting) release();
    res.end(`released ${waiting.length}\n`);
    return;
  }
  if (url.pathname === '/__stats') {
    res.end(JSON.stringify({ forwarded, faulted, maxInFlight, held: held.length }) + '\n');
    return;
  }
  if (faultMode !== 'none' && faultCount !== 0 && `${req.method} ${req.url}`.includes(faultMatch)) {
    if (faultCount > 0) faultCount--;
    faulted++;
    if (faultMode === 'drop') {
      req.socket.destroy();
      return;
    }
    if (faultMode === 'hold') {
      req.pause();
      await new Promise((resolve) => held.push(resolve));
    } else if (faultMode === '403') {
      xmlError(res, 403, 'AccessDenied', 'Access Denied');
      return;
    } else {
      xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
      return;
    }
  }
  if (LATENCY_MS > 0) await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
  if (VERIFY && !(await signatureIsValid(req))) {
    xmlError(res, 403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.');
    return;
  }
  forwarded++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const upstream = http.request(
    { host: s3Host, port: s3Port, method: req.method, path: req.url, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
      up.on('end', () => inFlight--);
    },
  );
  upstream.on('error', () => {
    inFlight--;
    req.socket.destroy();
  });
  req.pipe(upstream);
});
front.keepAliveTimeout = 30000;
front.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ front: front.address().port, s3rver: UPSTREAM ? null : s3Port }));
});

process.on('SIGTERM', () => {
  front.close();
  if (!child) process.exit(0);
  child.disconnect();
  child.once('exit', () => process.exit(0));
});
}
