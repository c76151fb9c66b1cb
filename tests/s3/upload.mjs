// Uploads a local directory tree into a bucket of the test server, straight to s3rver
// (which takes unsigned requests): node upload.mjs S3RVER_PORT BUCKET PREFIX DIRECTORY
import fs from 'node:fs';
import path from 'node:path';

const [port, bucket, prefix, directory] = process.argv.slice(2);
const files = fs.statSync(directory).isDirectory()
  ? fs.readdirSync(directory, { recursive: true }).filter((f) => fs.statSync(path.join(directory, f)).isFile())
  : [''];
const encode = (key) => key.split('/').map(encodeURIComponent).join('/');
let uploaded = 0;
for (let i = 0; i < files.length; i += 32) {
  await Promise.all(files.slice(i, i + 32).map(async (file) => {
    const source = file ? path.join(directory, file) : directory;
    const key = file ? `${prefix}/${file}` : prefix;
    const res = await fetch(`http://127.0.0.1:${port}/${bucket}/${encode(key)}`, {
      method: 'PUT',
      body: fs.readFileSync(source),
    });
    if (!res.ok) throw new Error(`PUT ${key}: HTTP ${res.status}`);
    uploaded++;
  }));
}
console.log(`uploaded ${uploaded} objects`);
