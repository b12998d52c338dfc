// The static host (web/build/static-server.mjs) as an attacker or a flaky disk would meet it:
// links leading out of the served folder are refused (files, folders, precompressed copies),
// `..` cannot climb out, and a file that vanishes while it is being served fails that request
// with a 500 while the server goes on serving; files revalidate by ETag (size and mtime in ms).
// Usage: node tests/e2e/check-server.mjs   (prints "server: N passed, N failed")
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { staticHandler } from '../../web/build/static-server.mjs';
import { checks } from './checks.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-server-'));
const dist = path.join(tmp, 'dist');
const outside = path.join(tmp, 'outside');
fs.mkdirSync(dist);
fs.mkdirSync(outside);
fs.writeFileSync(path.join(outside, 'secret.txt'), 'SECRET');
fs.writeFileSync(path.join(dist, 'index.html'), '<p>page</p>');
fs.writeFileSync(path.join(dist, 'app.js'), 'plain');
fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dist, 'leak.txt'));
fs.symlinkSync(outside, path.join(dist, 'models'));
fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dist, 'app.js.gz'));
fs.symlinkSync(path.join(dist, 'index.html'), path.join(dist, 'alias.html'));
fs.writeFileSync(path.join(dist, 'gone.txt'), 'soon gone');

// The hook runs after the file was found and before it is opened: the file vanishes there.
const handle = staticHandler(dist, {
  extraHeaders: (p) => {
    if (p === '/gone.txt') fs.rmSync(path.join(dist, 'gone.txt'), { force: true });
    return [];
  },
});
const server = http.createServer((req, res) => { if (!handle(req, res)) { res.writeHead(404); res.end(); } });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

function get(p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const { check, finish } = checks('server');

await check('a file of the site is served', async () => {
  const r = await get('/');
  if (r.status !== 200 || r.body !== '<p>page</p>') return `${r.status} ${r.body}`;
});
await check('a link to a file outside the site is refused', async () => {
  const r = await get('/leak.txt');
  if (r.status !== 404 || r.body.includes('SECRET')) return `${r.status} ${r.body}`;
});
await check('a link to a folder outside the site is refused', async () => {
  const r = await get('/models/secret.txt');
  if (r.status !== 404 || r.body.includes('SECRET')) return `${r.status} ${r.body}`;
});
await check('a precompressed copy that links outside is ignored (the plain file is sent)', async () => {
  const r = await get('/app.js', { 'accept-encoding': 'gzip' });
  if (r.status !== 200 || r.body !== 'plain' || r.headers['content-encoding']) return `${r.status} ${r.headers['content-encoding']} ${r.body}`;
});
await check('`..` cannot climb out of the site', async () => {
  for (const p of ['/../outside/secret.txt', '/%2e%2e/outside/secret.txt', '/..%2foutside%2fsecret.txt']) {
    const r = await get(p);
    if (r.status === 200 || r.body.includes('SECRET')) return `${p}: ${r.status} ${r.body}`;
  }
});
await check('a link inside the site is served', async () => {
  const r = await get('/alias.html');
  if (r.status !== 200 || r.body !== '<p>page</p>') return `${r.status} ${r.body}`;
});
await check('a file that vanishes while served is a 500, and the server goes on', async () => {
  const r = await get('/gone.txt');
  if (r.status !== 500 || !/cannot read \/gone\.txt: ENOENT/.test(r.body)) return `${r.status} ${r.body}`;
  const after = await get('/index.html');
  if (after.status !== 200) return `after: ${after.status}`;
});
await check('a file revalidates by its ETag: 304 while it is the same, 200 with a new tag once it changed', async () => {
  const first = await get('/app.js');
  const tag = first.headers.etag;
  if (first.status !== 200 || !tag) return `${first.status}, etag ${tag}`;
  const same = await get('/app.js', { 'if-none-match': tag });
  if (same.status !== 304 || same.body !== '' || same.headers.etag !== tag) return `unchanged: ${same.status} ${same.headers.etag}`;
  // A redeploy of a file of the same size within the same second: Last-Modified cannot tell.
  const file = path.join(dist, 'app.js');
  const before = fs.statSync(file).mtimeMs;
  fs.writeFileSync(file, 'PLAIN');
  const second = Math.floor(before / 1000) * 1000;
  const at = second + ((before - second + 500) % 1000);
  fs.utimesSync(file, new Date(at), new Date(at));
  const changed = await get('/app.js', { 'if-none-match': tag });
  if (changed.headers['last-modified'] !== first.headers['last-modified']) return 'the test meant the same second';
  if (changed.status !== 200 || changed.body !== 'PLAIN' || changed.headers.etag === tag) return `changed: ${changed.status} ${changed.headers.etag} ${changed.body}`;
});

server.close();
fs.rmSync(tmp, { recursive: true, force: true });
finish();
