// The browser tests' host: the built site under a sub-path (/gradpatch/), as a static host
// serves it (web/build/static-server.mjs: dist/_headers, precompressed files), with the
// Content-Security-Policy also sent as a header so that it covers the compute worker, violation
// reports collected from page and worker alike, and misbehaving routes for the download tests.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseHeaders, staticHandler } from '../../web/build/static-server.mjs';

export const PREFIX = '/gradpatch/';

/** Starts the server; `reports` collects every CSP violation report the browser sends. */
export async function startServer(dist, { gpt2Dir } = {}) {
  const reports = [];
  // The site's policy with a report endpoint (report-uri is header-only; the endpoint lives
  // outside the site).
  const csp = parseHeaders(fs.readFileSync(path.join(dist, '_headers'), 'utf8'))
    .flatMap((r) => r.headers)
    .find(([name]) => name.toLowerCase() === 'content-security-policy');
  if (!csp) throw new Error(`${dist}/_headers has no Content-Security-Policy`);
  const reported = [['content-security-policy', `${csp[1]}; report-uri /csp-report`]];
  const site = staticHandler(dist, { prefix: PREFIX, extraHeaders: () => reported });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/csp-report') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { reports.push(body); res.writeHead(204); res.end(); });
      return;
    }
    const rel = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length - 1) : null;
    if (rel && rel.startsWith('/fail/')) { res.writeHead(404); res.end('not found'); return; }
    if (rel && rel.startsWith('/html/')) {
      // A real tokenizer, no config, and an HTML page where the weights should be.
      if (rel.endsWith('tokenizer.json')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        fs.createReadStream(path.join(dist, 'models', 'ioi-demo', 'tokenizer.json')).pipe(res);
        return;
      }
      if (rel.endsWith('config.json')) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>' + 'x'.repeat(100000) + '</body></html>');
      return;
    }
    if (gpt2Dir && rel && rel.startsWith('/gpt2/')) {
      const file = path.join(path.resolve(gpt2Dir), path.basename(rel));
      if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(res);
      return;
    }
    if (!site(req, res)) { res.writeHead(404); res.end('outside the site'); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { server, origin, base: origin + PREFIX, reports };
}
