// Cold-start benchmark of the production page (not a test): headless Chromium with WebGPU on
// SwiftShader, an empty browser cache and a throttled network (20 Mbit/s, 40 ms round trip,
// through the DevTools protocol; it reaches the worker's downloads too: an uncompressed host
// makes "model ready" 13 s slower), the site under a sub-path as a static host serves it. Reports
// the time to first paint, until the bundled model is loaded (the page ready to run), and until
// the first chart on the bundled model (n=8), cold and then warm (same profile, reloaded); and
// the same visits (to "model ready") from a host that does not compress, as the baseline of the
// same run.
// Usage: node tests/e2e/bench-coldstart.mjs [dist] [--repeats 3] [--steps 50]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { staticHandler } from '../../web/build/static-server.mjs';
import { wasmTotals } from '../../web/build/sizes.mjs';

const args = process.argv.slice(2);
const dist = path.resolve(args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) || 'dist');
const repeats = Number(args[args.indexOf('--repeats') + 1] || 3) || 3;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const gpuArgs = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader'];
const PREFIX = '/gradpatch/';
// --steps: IG steps of the run whose first chart is timed (50, the default, takes minutes on
// SwiftShader).
const steps = Number(args[args.indexOf('--steps') + 1] || 50) || 50;
const QUERY = `?model=bundled&n=8&steps=${steps}`;

async function serve(compress) {
  const site = staticHandler(dist, { prefix: PREFIX, compress });
  const server = http.createServer((req, res) => { if (!site(req, res)) { res.writeHead(404); res.end(); } });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}${PREFIX}` };
}

async function visit(context, base, chart) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 40, downloadThroughput: 20e6 / 8, uploadThroughput: 20e6 / 8,
  });
  let bytes = 0;
  // (The page's own requests; the worker's wasm and the model are not counted here.)
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  const t0 = Date.now();
  // Without the chart, no method runs: the visit ends when the model is ready.
  await page.goto(base + QUERY + (chart ? '' : '&ig=0&ap=0&atp=0'));
  await page.waitForSelector('[data-testid="model-info"]', { timeout: 600_000 });
  const ready = Date.now() - t0;
  let first = NaN;
  if (chart) {
    await page.waitForSelector('[data-chart="ig-heads"] canvas, [data-testid="error"]', { timeout: 1_800_000 });
    first = Date.now() - t0;
  }
  const err = await page.$('[data-testid="error"]');
  if (err) throw new Error(await err.innerText());
  const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
  await page.close();
  return { paint, ready, chart: first, mb: bytes / 1e6 };
}

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

async function scenario(name, compress, chart) {
  const { server, base } = await serve(compress);
  const cold = [], warm = [];
  for (let i = 0; i < repeats; i++) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-bench-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: gpuArgs });
    try {
      cold.push(await visit(context, base, chart));
      console.log(`  ${name}, cold: ${JSON.stringify(cold.at(-1))}`);
      warm.push(await visit(context, base, chart));
      console.log(`  ${name}, warm: ${JSON.stringify(warm.at(-1))}`);
    } finally {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  }
  server.close();
  const m = (runs) => ({ paint: median(runs.map((r) => r.paint)), ready: median(runs.map((r) => r.ready)), chart: median(runs.map((r) => r.chart)), mb: median(runs.map((r) => r.mb)) });
  return { name, cold: m(cold), warm: m(warm) };
}

const w = wasmTotals(dist);
console.log(`dist: ${dist}; wasm ${(w.raw / 1e6).toFixed(2)} MB raw, ${(w.gzip / 1e6).toFixed(2)} MB gzip, ${(w.brotli / 1e6).toFixed(2)} MB brotli; ` +
  `20 Mbit/s, 40 ms RTT; ${QUERY}; median of ${repeats}; ${os.cpus().length} cores; ${new Date().toISOString().slice(0, 10)}`);
// The comparison takes minutes on SwiftShader: the first chart is timed on the real host only.
const rows = [await scenario('precompressed (br)', true, true), await scenario('uncompressed host (baseline)', false, false)];
const s = (ms) => (ms / 1000).toFixed(2).padStart(7);
console.log('host                           visit  page-side MB  first paint s  model ready s  first chart s');
for (const r of rows) {
  for (const k of ['cold', 'warm']) {
    const v = r[k];
    console.log(`${r.name.padEnd(31)}${k.padEnd(6)}${v.mb.toFixed(2).padStart(15)}${s(v.paint).padStart(15)}${s(v.ready).padStart(15)}${s(v.chart).padStart(15)}`);
  }
}
const [a, b] = rows;
console.log(`cold model ready: ${(a.cold.ready / b.cold.ready).toFixed(2)}x the uncompressed host's time; goal <= 5 s: ${a.cold.ready <= 5000 ? 'met' : 'missed'}`);
