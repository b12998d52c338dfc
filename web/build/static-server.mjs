// A static host for the built site, as a real one behaves: the files under a sub-path, the
// headers of dist/_headers (Netlify/Cloudflare Pages syntax), precompressed .br/.gz copies when
// the browser accepts them, 404 for anything else. Used by `web/serve.sh --release`, the
// browser tests and the cold-start benchmark (which import `staticHandler`).
// Usage: node web/build/static-server.mjs DIST [--port 8080] [--prefix /gradpatch/]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.safetensors': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** Parses a `_headers` file into [{ pattern: RegExp, headers: [[name, value]] }]. */
export function parseHeaders(text) {
  const rules = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      const glob = line.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
      rules.push({ pattern: new RegExp(`^${glob}$`), headers: [] });
    } else if (rules.length) {
      const i = line.indexOf(':');
      if (i > 0) rules.at(-1).headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
  }
  return rules;
}

/**
 * A request handler serving `dir` under `prefix`; returns false for paths outside the prefix
 * (so a caller can add routes of its own). `extraHeaders(pathname)` adds to `_headers` (a
 * null value removes that header);
 * `compress: false` ignores the precompressed copies (a host that sends files as they are).
 */
export function staticHandler(dir, { prefix = '/', extraHeaders = () => [], compress = true } = {}) {
  const root = fs.realpathSync(path.resolve(dir));
  const headersFile = path.join(root, '_headers');
  const rules = fs.existsSync(headersFile) ? parseHeaders(fs.readFileSync(headersFile, 'utf8')) : [];
  const notFound = (res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  };
  /** The real file under `root` for `rel`, or null: links leading out of dist/ are refused. */
  const resolve = (rel) => {
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep)) return null;
    let real;
    try {
      real = fs.realpathSync(file);
    } catch {
      return null;
    }
    if (!real.startsWith(root + path.sep)) return null;
    const st = fs.statSync(real);
    return st.isFile() ? { file: real, st } : null;
  };
  const serve = (req, res) => {
    const url = new URL(req.url, 'http://host');
    if (!url.pathname.startsWith(prefix)) return false;
    let rel;
    try {
      rel = decodeURIComponent(url.pathname.slice(prefix.length));
    } catch {
      res.writeHead(400);
      res.end('bad path');
      return true;
    }
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const found = resolve(rel);
    if (!found) {
      notFound(res);
      return true;
    }
    const { file, st } = found;
    // Revalidated on each visit (as GitHub Pages and most hosts do): a warm cache costs a 304.
    // The ETag changes with the file's size or modification time (to the millisecond, where
    // Last-Modified has whole seconds).
    const modified = st.mtime.toUTCString();
    const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const match = req.headers['if-none-match'];
    if (match !== undefined ? match.split(',').some((t) => t.trim() === etag) : req.headers['if-modified-since'] === modified) {
      res.writeHead(304, { etag, 'last-modified': modified, 'cache-control': 'no-cache' });
      res.end();
      return true;
    }
    const headers = { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-cache', 'last-modified': modified, etag };
    const sitePath = '/' + rel.split(path.sep).join('/');
    for (const r of rules) if (r.pattern.test(sitePath)) for (const [k, v] of r.headers) headers[k.toLowerCase()] = v;
    for (const [k, v] of extraHeaders(sitePath)) {
      if (v === null) delete headers[k.toLowerCase()];
      else headers[k.toLowerCase()] = v;
    }
    const accept = String(req.headers['accept-encoding'] || '');
    let body = file;
    let size = st.size;
    for (const [enc, ext] of [['br', '.br'], ['gzip', '.gz']]) {
      const copy = compress && accept.includes(enc) ? resolve(rel + ext) : null;
      if (copy) {
        headers['content-encoding'] = enc;
        headers.vary = 'Accept-Encoding';
        body = copy.file;
        size = copy.st.size;
        break;
      }
    }
    headers['content-length'] = size;
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      res.end();
      return true;
    }
    // Opened before the status is sent: a file that cannot be read is a 500, not a crash; an
    // error mid-stream ends the response early (the client sees it short of content-length).
    const stream = fs.createReadStream(body);
    stream.once('open', () => {
      res.writeHead(200, headers);
      stream.pipe(res);
    });
    stream.once('error', (e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`cannot read ${sitePath}: ${e.code || e.message}`);
      } else {
        res.destroy(e);
      }
    });
    return true;
  };
  return (req, res) => {
    try {
      return serve(req, res);
    } catch (e) {
      // A file that vanished or is unreadable between the checks: this request fails, the
      // server stays up.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`server error: ${e.code || e.message}`);
      }
      return true;
    }
  };
}

if (process.argv[1] && process.argv[1].endsWith('static-server.mjs')) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const dir = args[0] && !args[0].startsWith('--') ? args[0] : 'dist';
  let prefix = opt('--prefix', '/');
  if (!prefix.startsWith('/')) prefix = '/' + prefix;
  if (!prefix.endsWith('/')) prefix += '/';
  const port = Number(opt('--port', 8080));
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    console.error(`error: ${dir}/index.html not found: build the site first (trunk build --release)`);
    process.exit(1);
  }
  const handle = staticHandler(dir, { prefix });
  const server = http.createServer((req, res) => {
    if (!handle(req, res)) {
      res.writeHead(302, { location: prefix });
      res.end();
    }
  });
  server.on('error', (e) => {
    console.error(e.code === 'EADDRINUSE'
      ? `error: port ${port} is in use: stop what serves there, or choose another port (PORT=9000 bash web/serve.sh)`
      : `error: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => console.log(`serving ${dir} at http://127.0.0.1:${port}${prefix}`));
}
