// Trunk's post-build hook (Trunk.toml). For release builds it finishes what trunk leaves undone
// offline: binaryen's wasm-opt on both wasm files (from the npm registry, pinned by
// web/build/package-lock.json), precompressed .gz and .br copies of the page's assets, and the
// wasm budget: the build fails when the gzip size of the wasm a first visit downloads is more
// than 10% over the figure recorded in web/build/wasm-budget.json. Debug builds are left as they
// are (fast `trunk serve`).
//
// Also usable by hand on a built dist/: `node web/build/postbuild.mjs --report dist` prints the
// size table without changing anything.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { compressAll, sizeTable, wasmTotals } from './sizes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// GRADPATCH_WASM_BUDGET names another budget file (the tests use one that is too small).
const budgetFile = process.env.GRADPATCH_WASM_BUDGET || path.join(here, 'wasm-budget.json');

// Optimisation per wasm file: the page (UI) for size. The worker: -O1, measured against -O0
// (strip only), -O3 and -Os (README "Production build"): its gzip size is the smallest of them,
// -O3 costs 10 min of the single-threaded wasm-opt for a larger download, and LLVM has already
// optimised its code for speed (opt-level 3), where the CPU fallback computes.
// GRADPATCH_WASM_OPT_<FILE>=-Oz (e.g. GRADPATCH_WASM_OPT_WORKER) overrides one, for measuring.
const LEVELS = { app: '-Oz', worker: '-O1', worker_mt: '-O1' };
// What rustc 1.95 emits for wasm32-unknown-unknown by default.
const FEATURES = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'];

// binaryen.js runs single-threaded: the worker takes minutes. Its output is kept by the hash of
// its input and options, so a rebuild that did not change the wasm does not optimise it again.
const cacheDir = path.join(process.env.CARGO_TARGET_DIR || path.join(here, '..', '..', 'target'), 'wasm-opt-cache');

function wasmOpt(file) {
  const name = path.basename(file, '_bg.wasm');
  const level = process.env[`GRADPATCH_WASM_OPT_${name.toUpperCase()}`] || LEVELS[name] || '-Os';
  const bin = path.join(here, 'node_modules', '.bin', 'wasm-opt');
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} not found: run \`npm ci\` in web/build (web/serve.sh and tests/run-all.sh do)`);
  }
  // --strip-debug drops DWARF and the name section; --strip-producers the toolchain names.
  const opts = [level, ...FEATURES, '--strip-debug', '--strip-producers'];
  const binaryen = JSON.parse(fs.readFileSync(path.join(here, 'node_modules', 'binaryen', 'package.json'), 'utf8')).version;
  const input = fs.readFileSync(file);
  const key = crypto.createHash('sha256').update(input).update(opts.join(' ')).update(binaryen).digest('hex');
  const cached = path.join(cacheDir, `${name}-${key}.wasm`);
  const t0 = Date.now();
  const hit = fs.existsSync(cached);
  if (hit) {
    fs.copyFileSync(cached, file);
  } else {
    execFileSync(bin, [...opts, file, '-o', file], { stdio: 'inherit' });
    fs.mkdirSync(cacheDir, { recursive: true });
    for (const old of fs.readdirSync(cacheDir).filter((f) => f.startsWith(`${name}-`))) fs.rmSync(path.join(cacheDir, old));
    fs.copyFileSync(file, cached);
  }
  const after = fs.statSync(file).size;
  console.log(`wasm-opt ${level} ${path.basename(file)}: ${(input.length / 1e6).toFixed(2)} -> ${(after / 1e6).toFixed(2)} MB in ${((Date.now() - t0) / 1000).toFixed(0)} s${hit ? ' (from the cache)' : ''}`);
}

function checkBudget(totals) {
  const budget = JSON.parse(fs.readFileSync(budgetFile, 'utf8'));
  const limit = budget.gzip_bytes * 1.1;
  const ratio = totals.gzip / budget.gzip_bytes;
  console.log(`wasm a first visit downloads: ${(totals.raw / 1e6).toFixed(2)} MB raw, ${(totals.gzip / 1e6).toFixed(2)} MB gzip, ` +
    `${(totals.brotli / 1e6).toFixed(2)} MB brotli; ${ratio.toFixed(3)}x the recorded ${(budget.gzip_bytes / 1e6).toFixed(2)} MB gzip ` +
    `(${budget.recorded}); goal ${(budget.goal_bytes / 1e6).toFixed(1)} MB`);
  if (totals.gzip > limit) {
    console.error(`error: the wasm budget is exceeded: ${totals.gzip} bytes gzip > ${Math.round(limit)} (recorded ${budget.gzip_bytes} + 10%). ` +
      'Find what grew (node web/build/wasm-size.mjs FILE.wasm before wasm-opt), or record the new figure in web/build/wasm-budget.json with a reason.');
    process.exit(1);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--report') {
  const dir = path.resolve(args[1] || 'dist');
  console.log(sizeTable(dir));
  checkBudget(wasmTotals(dir));
} else if (process.env.TRUNK_PROFILE === 'release') {
  const dir = process.env.TRUNK_STAGING_DIR;
  if (!dir) throw new Error('TRUNK_STAGING_DIR is not set: this runs as trunk\'s post_build hook');
  // The threaded CPU worker (web/build/threads.sh), optimised and compressed with the rest.
  execFileSync('bash', [path.join(here, 'threads.sh'), dir], { stdio: 'inherit' });
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.wasm'))) wasmOpt(path.join(dir, f));
  // Trunk leaves the main crate's <link data-trunk rel="rust"> in place when it injects no
  // script (inject_scripts = false); a browser ignores it, a reader need not see it.
  const index = path.join(dir, 'index.html');
  fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace(/[ \t]*<link data-trunk [^>]*>\n?/g, '').replace(/\n(\s*\n)+/g, '\n'));
  compressAll(dir, path.join(cacheDir, 'compressed'));
  console.log(sizeTable(dir));
  checkBudget(wasmTotals(dir));
}
