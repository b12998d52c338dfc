// GPT-2-size benchmark of the production page (not a test, not in CI): loads a GPT-2-small-shaped
// model (`gradpatch make-random-gpt2`: 124M parameters, 548 MB) from the local test server into
// headless Chromium on WebGPU and runs the full comparison (IG 50 steps and AP, all 144 heads and
// 36,864 neurons, 1 prompt) to the end. Reports the wall time of each stage (download and load,
// the clean/corrupted runs, IG, AP; from the worker's own progress messages), the worker's wasm
// memory after loading and at the end (its peak: wasm memory never shrinks) and the GPU buffers
// the worker allocated (counted by web/worker_loader.js), and checks that every score is there.
//
// Usage: node tests/e2e/bench-gpt2.mjs [dist] [--model DIR] [--steps 50] [--n 1] [--gpu]
//          [--ig 0|1] [--ap 0|1] [--timeout-min 120]
//   dist     the production build (bash web/build/release.sh), default dist
//   --model  the model folder (default $E2E_GPT2_DIR, else $CARGO_TARGET_DIR/gpt2-random)
//   --gpu    the machine's own GPU (Vulkan) instead of SwiftShader, Chromium's CPU WebGPU
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportedResults, open } from './lib.mjs';
import { startServer } from './server.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--') && args[i - 1] !== '--gpu'));
const dist = path.resolve(positional[0] || 'dist');
const target = process.env.CARGO_TARGET_DIR || 'target';
const modelDir = path.resolve(opt('model', process.env.E2E_GPT2_DIR || path.join(target, 'gpt2-random')));
const steps = Number(opt('steps', 50));
const n = Number(opt('n', 1));
const runIg = opt('ig', '1') !== '0';
const runAp = opt('ap', '1') !== '0';
const timeoutMs = Number(opt('timeout-min', 120)) * 60_000;
const realGpu = args.includes('--gpu');
if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) {
  console.error(`no model.safetensors in ${modelDir}: make one with \`gradpatch make-random-gpt2 --out ${modelDir}\`, or pass --model DIR`);
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const common = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'];
const gpuArgs = realGpu
  ? [...common, '--enable-features=Vulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist']
  : [...common, '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'];

const { server, base } = await startServer(dist, { gpt2Dir: modelDir });
const browser = await chromium.launch({ executablePath, headless: true, args: gpuArgs });
const mb = (bytes) => (bytes / 1e6).toFixed(0);
try {
  // The worker's messages, timed as the page receives them (names and progress only).
  const context = await browser.newContext({ acceptDownloads: true });
  await context.addInitScript(() => {
    window.__bench = [];
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(...a) {
        super(...a);
        this.addEventListener('message', (e) => {
          const d = e.data;
          if (!d || typeof d !== 'object') return;
          const kind = Object.keys(d)[0];
          if (kind === 'Download' || kind === 'Results') { window.__bench.push({ t: performance.now(), kind }); return; }
          window.__bench.push({ t: performance.now(), kind, v: d[kind] });
        });
      }
    };
  });
  const query = `?model=${encodeURIComponent(base + 'gpt2/')}&n=${n}&steps=${steps}&ig=${runIg ? 1 : 0}&ap=${runAp ? 1 : 0}`;
  const t0 = Date.now();
  const page = await open(context, base, query);
  await page.click('[data-testid="confirm-url"] button');
  // Above the auto-run bound the page asks before running.
  page.click('[data-testid="confirm-run-go"]', { timeout: 600_000 }).catch(() => {});
  const ticker = setInterval(async () => {
    const last = await page.evaluate(() => window.__bench.filter((m) => m.kind === 'Progress').at(-1)?.v).catch(() => null);
    if (last) console.log(`  ${((Date.now() - t0) / 60000).toFixed(1)} min: ${last.stage} ${(100 * last.fraction).toFixed(1)}%`);
  }, 60_000);
  try {
    await page.waitForSelector('[data-chart="ig-heads"] canvas, [data-chart="ap-heads"] canvas, [data-testid="error"]', { timeout: timeoutMs });
    // The charts draw as soon as the first prompt's results arrive; wait for the end.
    await page.waitForFunction(() => window.__bench.some((m) => m.kind === 'Results') || document.querySelector('[data-testid="error"]'), null, { timeout: timeoutMs });
  } finally {
    clearInterval(ticker);
  }
  const err = await page.$('[data-testid="error"]');
  if (err) throw new Error(`page error: ${await err.innerText()}`);
  const msgs = await page.evaluate(() => window.__bench);
  const worker = page.workers().at(-1);
  const mem = await worker.evaluate(() => ({ heap: self.__gradpatchMemory.buffer.byteLength, gpu: self.__gradpatchGpu }));
  const json = await exportedResults(page);
  const missing = ['ig', 'ap'].filter((m) => (m === 'ig' ? runIg : runAp))
    .flatMap((m) => ['heads', 'neurons'].map((k) => [`${m}.${k}`, json[m][k].flat(3).filter((x) => x === null).length]))
    .filter(([, nulls]) => nulls > 0);
  const notices = msgs.filter((m) => m.kind === 'Notice').map((m) => m.v.text);

  const loaded = msgs.find((m) => m.kind === 'Loaded');
  const done = msgs.find((m) => m.kind === 'Results');
  const first = (stage) => msgs.find((m) => m.kind === 'Progress' && m.v.stage === stage)?.t;
  const marks = [['load', 0], ['runs', first('runs')], ['IG', first('IG')], ['AP', first('AP')], ['end', done.t]]
    .filter(([, t]) => t !== undefined);
  const navStart = 0;
  console.log(`gradpatch GPT-2 benchmark: ${path.basename(modelDir)} (${mb(fs.statSync(path.join(modelDir, 'model.safetensors')).size)} MB), ` +
    `n=${n}, IG ${runIg ? `${steps} steps` : 'off'}, AP ${runAp ? 'on' : 'off'}; ${loaded.v.info.backend}; ` +
    `${os.cpus().length} cores, ${os.cpus()[0].model}; ${new Date().toISOString().slice(0, 10)}`);
  console.log('stage                         wall s');
  for (let i = 0; i + 1 < marks.length; i++) {
    const [name, t] = marks[i];
    const label = name === 'load' ? 'page open, download and load' : name === 'runs' ? 'clean and corrupted runs' : name;
    console.log(`${label.padEnd(30)}${((marks[i + 1][1] - (t || navStart)) / 1000).toFixed(1).padStart(7)}`);
  }
  console.log(`${'total'.padEnd(30)}${(done.t / 1000).toFixed(1).padStart(7)}   (${((Date.now() - t0) / 60000).toFixed(1)} min with the export)`);
  console.log(`load (worker's own measure) ${loaded.v.info.load_seconds.toFixed(1)} s; wasm memory after loading ${mb(loaded.v.info.wasm_heap_bytes)} MB, ` +
    `at the end (peak) ${mb(mem.heap)} MB; GPU buffers allocated: ${mb(mem.gpu.peak)} MB at the peak, ${mb(mem.gpu.live)} MB at the end`);
  if (notices.length) console.log(`notices: ${notices.join(' | ')}`);
  if (missing.length) throw new Error(`scores missing: ${missing.map(([k, c]) => `${k} ${c}`).join(', ')}`);
  console.log('every score is there');
} finally {
  await browser.close();
  server.close();
}
