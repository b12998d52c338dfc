// The browser tests' host: the built site under a sub-path (/gradpatch/), as a static host
// serves it (web/build/static-server.mjs: dist/_headers, precompressed files), with the
// Content-Security-Policy also sent as a header so that it covers the compute worker, violation
// reports collected from page and worker alike, and misbehaving routes for the download tests.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseHeaders, staticHandler } from '../../web/build/static-server.mjs';

export const PREFIX = '/gradpatch/';

/**
 * Starts the server; `reports` collects every CSP violation report the browser sends.
 * The page is cross-origin isolated as `_headers` makes it (COOP and COEP: the CPU backend then
 * has threads); `isolated: false` leaves COEP out: a host that does not send it.
 */
export async function startServer(dist, { gpt2Dir, gpt2MediumDir, gpt2DistilDir, cliResults, precomputed, isolated = true } = {}) {
  const reports = [];
  // Requests to the misbehaving routes whose connection the browser closed (an aborted fetch).
  const closed = [];
  // The site's policy with a report endpoint (report-uri is header-only; the endpoint lives
  // outside the site).
  const csp = parseHeaders(fs.readFileSync(path.join(dist, '_headers'), 'utf8'))
    .flatMap((r) => r.headers)
    .find(([name]) => name.toLowerCase() === 'content-security-policy');
  if (!csp) throw new Error(`${dist}/_headers has no Content-Security-Policy`);
  const reported = [['content-security-policy', `${csp[1]}; report-uri /csp-report`]];
  if (!isolated) reported.push(['cross-origin-embedder-policy', null]);
  const demo = (name) => fs.readFileSync(path.join(dist, 'models', 'ioi-demo', name));
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
    if (rel && misbehave(rel, req, res, demo)) {
      res.on('close', () => closed.push(rel));
      return;
    }
    if (rel && rel.startsWith('/results/')) { results(rel.slice('/results/'.length), res, cliResults); return; }
    // GPT-2 small's precomputed results as the Pages workflow publishes them, when given.
    if (rel && precomputed && rel.startsWith('/precomputed/gpt2-small/')) {
      const file = path.join(precomputed, path.basename(rel));
      if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    // The random GPT-2-shaped models of `make-random-gpt2` (its three presets).
    const folder = rel && /^\/(gpt2|gpt2-medium|gpt2-distil)\//.exec(rel)?.[1];
    const dir = { gpt2: gpt2Dir, 'gpt2-medium': gpt2MediumDir, 'gpt2-distil': gpt2DistilDir }[folder];
    if (dir) {
      const file = path.join(path.resolve(dir), path.basename(rel));
      if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(res);
      return;
    }
    if (!site(req, res)) { res.writeHead(404); res.end('outside the site'); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { server, origin, base: origin + PREFIX, reports, closed };
}

/**
 * Folders of the bundled model served the ways real servers fail: `rel` is the path
 * under the site. Returns false for paths that are not one of them.
 *   stall-headers/  accepts the request and never answers
 *   stall-body/     the weights' headers and first 64 KiB, then nothing (connection kept open)
 *   short-length/   Content-Length 1000 bytes short of the weights (the body is cut there)
 *   long-length/    Content-Length 1000 bytes beyond the weights, then the connection closes
 *   no-length/      the weights chunked, without Content-Length
 *   gzip/           the weights with Content-Encoding: gzip (Content-Length is the compressed size)
 *   huge/           announces 3 GB of weights (more than a wasm32 buffer holds)
 *   bomb/           a tokenizer.json of 40 MiB of spaces gzipped to 40 KB (its cap is 32 MB)
 *   slow/           the weights in 64 KiB pieces 50 ms apart (about 2.3 s)
 *   large-header/  config and header of GPT-2 large in F16 (774 M parameters, 1.55 GB), no length
 */
function misbehave(rel, req, res, demo) {
  const m = /^\/(stall-headers|stall-body|short-length|long-length|no-length|gzip|huge|large-header|slow|bomb)\/(.*)$/.exec(rel);
  if (!m) return false;
  const [, how, file] = m;
  if (how === 'stall-headers') return true;
  if (file === 'config.json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(how === 'large-header' ? JSON.stringify(LARGE) : demo('config.json'));
    return true;
  }
  if (how === 'bomb' && file === 'tokenizer.json') {
    bomb(40 << 20).then((gz) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    });
    return true;
  }
  if (file === 'tokenizer.json') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(demo('tokenizer.json')); return true; }
  if (file !== 'model.safetensors') { res.writeHead(404); res.end(); return true; }
  const weights = demo('model.safetensors');
  const octet = { 'content-type': 'application/octet-stream' };
  switch (how) {
    case 'stall-body':
      res.writeHead(200, { ...octet, 'content-length': weights.length });
      res.write(weights.subarray(0, 65536));
      return true;
    case 'short-length':
      res.writeHead(200, { ...octet, 'content-length': weights.length - 1000 });
      res.end(weights.subarray(0, weights.length - 1000));
      return true;
    case 'long-length':
      // Written on the socket: Node's HTTP layer would refuse a length that lies.
      res.socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${weights.length + 1000}\r\nconnection: close\r\n\r\n`);
      res.socket.end(weights);
      return true;
    case 'no-length':
      res.writeHead(200, octet);
      for (let i = 0; i < weights.length; i += 100000) res.write(weights.subarray(i, i + 100000));
      res.end();
      return true;
    case 'gzip': {
      const gz = zlib.gzipSync(weights);
      res.writeHead(200, { ...octet, 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
      return true;
    }
    case 'huge':
      res.writeHead(200, { ...octet, 'content-length': 3_000_000_000 });
      res.write(weights.subarray(0, 65536));
      return true;
    case 'slow': {
      res.writeHead(200, { ...octet, 'content-length': weights.length });
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i >= weights.length) { res.end(); return; }
        res.write(weights.subarray(i, i + 65536));
        i += 65536;
        setTimeout(next, 50);
      };
      next();
      return true;
    }
    case 'large-header':
      res.writeHead(200, octet);
      res.write(largeHeader());
      return true;
  }
  return false;
}

/**
 * results.json files for the results viewer, readable from any site (CORS), as a results host
 * would serve them:
 *   cli.json     the CLI's results (E2E_CLI_RESULTS)
 *   broken.json  the same with prompt 1's `labels` cut to one id
 *   huge.json    announces 600 MB
 *   bomb.json    600 MiB of JSON whitespace gzipped to under 1 MB (Content-Encoding: gzip, its
 *                Content-Length the compressed size): the cap must hold while it inflates
 *   page.json    an HTML page
 *   demo-circuit.json  a circuit file for the demo model (tests/e2e/fixtures)
 */
function results(name, res, cliResults) {
  const json = { 'content-type': 'application/json', 'access-control-allow-origin': '*' };
  if (!cliResults) { res.writeHead(404); res.end('E2E_CLI_RESULTS is not set'); return; }
  switch (name) {
    case 'cli.json': res.writeHead(200, json); res.end(fs.readFileSync(cliResults)); return;
    case 'broken.json': {
      const r = JSON.parse(fs.readFileSync(cliResults, 'utf8'));
      r.prompts[1].labels = r.prompts[1].labels.slice(0, 1);
      res.writeHead(200, json);
      res.end(JSON.stringify(r));
      return;
    }
    case 'no-edges.json': {
      const r = JSON.parse(fs.readFileSync(cliResults, 'utf8'));
      delete r.edges;
      for (const k of ['run_eap', 'run_eapig', 'eapig_steps', 'exact_edges']) delete r.config[k];
      res.writeHead(200, json);
      res.end(JSON.stringify(r));
      return;
    }
    case 'bomb.json':
      bomb(600 << 20).then((gz) => {
        res.writeHead(200, { ...json, 'content-encoding': 'gzip', 'content-length': gz.length });
        res.end(gz);
      });
      return;
    case 'huge.json':
      res.writeHead(200, { ...json, 'content-length': 600_000_000 });
      res.write('{"config": ' + ' '.repeat(65536));
      return;
    case 'demo-circuit.json':
      res.writeHead(200, json);
      res.end(fs.readFileSync(new URL('./fixtures/demo-circuit.json', import.meta.url)));
      return;
    case 'page.json':
      res.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' });
      res.end('<!DOCTYPE html><html><body>not here</body></html>');
      return;
    default: res.writeHead(404); res.end();
  }
}

const bombs = new Map();
/** `bytes` of spaces, gzipped once per size a MiB at a time: small until it inflates. */
function bomb(bytes) {
  if (!bombs.has(bytes)) {
    bombs.set(bytes, new Promise((resolve, reject) => {
      const g = zlib.createGzip({ level: 9 });
      const out = [];
      g.on('data', (c) => out.push(c));
      g.on('end', () => resolve(Buffer.concat(out)));
      g.on('error', reject);
      const chunk = Buffer.alloc(1 << 20, ' ');
      let written = 0;
      const pump = () => {
        while (written < bytes) {
          written += chunk.length;
          if (!g.write(chunk)) { g.once('drain', pump); return; }
        }
        g.end();
      };
      pump();
    }));
  }
  return bombs.get(bytes);
}

const LARGE = { n_layer: 36, n_head: 20, n_embd: 1280, n_positions: 1024, vocab_size: 50257 };

/** The safetensors header of GPT-2 large in F16. */
function largeHeader() {
  const [L, d, m, v, ctx] = [36, 1280, 5120, 50257, 1024];
  const tensors = [['wte.weight', [v, d]], ['wpe.weight', [ctx, d]]];
  for (let l = 0; l < L; l++) {
    for (const [n, s] of [['ln_1.weight', [d]], ['ln_1.bias', [d]], ['attn.c_attn.weight', [d, 3 * d]], ['attn.c_attn.bias', [3 * d]],
      ['attn.c_proj.weight', [d, d]], ['attn.c_proj.bias', [d]], ['ln_2.weight', [d]], ['ln_2.bias', [d]],
      ['mlp.c_fc.weight', [d, m]], ['mlp.c_fc.bias', [m]], ['mlp.c_proj.weight', [m, d]], ['mlp.c_proj.bias', [d]]]) tensors.push([`h.${l}.${n}`, s]);
  }
  tensors.push(['ln_f.weight', [d]], ['ln_f.bias', [d]]);
  const header = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const size = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json]);
}
