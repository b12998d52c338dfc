// Precompression and size accounting of the built site (used by postbuild.mjs and the benches).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';

// The page's own assets are precompressed; the models are not: the worker reads their
// Content-Length to check a download, which a Content-Encoding would change.
const COMPRESSED = new Set(['.wasm', '.js', '.html', '.css']);

function walk(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = path.join(rel, e.name);
    return e.isDirectory() ? walk(dir, r) : [r];
  });
}

const gzip = (buf) => zlib.gzipSync(buf, { level: 9 });
const brotli = (buf) => zlib.brotliCompressSync(buf, {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
  },
});

/**
 * Writes FILE.gz and FILE.br next to every asset of the page (not the models). With `cacheDir`,
 * the compressed copies of large files are kept there by content hash (brotli at quality 11
 * takes a minute on the worker), so an unchanged file is not compressed again.
 */
export function compressAll(dir, cacheDir) {
  const used = new Set();
  for (const rel of walk(dir)) {
    if (rel.startsWith('models' + path.sep) || !COMPRESSED.has(path.extname(rel))) continue;
    const file = path.join(dir, rel);
    const buf = fs.readFileSync(file);
    const key = crypto.createHash('sha256').update(buf).digest('hex');
    for (const [ext, make] of [['.gz', gzip], ['.br', brotli]]) {
      const cached = cacheDir && buf.length > 1e6 ? path.join(cacheDir, `${key}${ext}`) : null;
      if (cached) used.add(path.basename(cached));
      if (cached && fs.existsSync(cached)) {
        fs.copyFileSync(cached, file + ext);
        continue;
      }
      const out = make(buf);
      fs.writeFileSync(file + ext, out);
      if (cached) {
        fs.mkdirSync(cacheDir, { recursive: true });
        fs.writeFileSync(cached, out);
      }
    }
  }
  // Only this build's entries stay.
  if (cacheDir && fs.existsSync(cacheDir)) {
    for (const f of fs.readdirSync(cacheDir)) if (!used.has(f)) fs.rmSync(path.join(cacheDir, f));
  }
}

function sizes(file) {
  const raw = fs.statSync(file).size;
  const read = (ext, make) => (fs.existsSync(file + ext) ? fs.statSync(file + ext).size : make(fs.readFileSync(file)).length);
  return { raw, gzip: read('.gz', gzip), brotli: read('.br', brotli) };
}

/** Raw, gzip and brotli bytes of the wasm files a first visit downloads, together. */
export function wasmTotals(dir) {
  const t = { raw: 0, gzip: 0, brotli: 0 };
  // The threaded CPU worker is downloaded only by a browser computing on the CPU.
  for (const rel of walk(dir).filter((f) => f.endsWith('.wasm') && !path.basename(f).startsWith('worker_mt'))) {
    const s = sizes(path.join(dir, rel));
    t.raw += s.raw;
    t.gzip += s.gzip;
    t.brotli += s.brotli;
  }
  return t;
}

/** A table of every file a first visit downloads (the models apart), with its three sizes. */
export function sizeTable(dir) {
  const mb = (n) => (n / 1e6).toFixed(3).padStart(8);
  const rows = walk(dir)
    .filter((f) => !f.startsWith('models' + path.sep) && !f.endsWith('.gz') && !f.endsWith('.br') && !f.startsWith('.'))
    .sort()
    .map((rel) => ({ rel, ...sizes(path.join(dir, rel)) }));
  const lines = ['file                          raw MB  gzip MB  brotli MB'];
  for (const r of rows) lines.push(`${r.rel.padEnd(28)}${mb(r.raw)} ${mb(r.gzip)} ${mb(r.brotli)}`);
  const sum = rows.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip, brotli: a.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  lines.push(`${'total'.padEnd(28)}${mb(sum.raw)} ${mb(sum.gzip)} ${mb(sum.brotli)}`);
  return lines.join('\n');
}
