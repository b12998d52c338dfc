// GPT-2-size benchmark of the production page (not a test, not in CI): loads a GPT-2-small-shaped
// model (`gradpatch make-random-gpt2`: 124M parameters, 548 MB) from the local test server into
// headless Chromium on WebGPU and runs the full comparison (IG 50 steps and AP, all 144 heads and
// 36,864 neurons, 1 prompt) to the end. Reports the wall time of each stage (download and load,
// the clean/corrupted runs, IG, AP; from the worker's own progress messages), the worker's wasm
// memory after loading and at the end (its peak: wasm memory never shrinks), the GPU buffers
// the worker allocated and, on WebGPU, what each stage asks of the GPU: compute dispatches, queue
// submissions, readbacks and uploads with their bytes (counted by web/worker_loader.js), and
// checks that every score is there.
//
// Usage: node tests/e2e/bench-gpt2.mjs [dist] [--model DIR] [--steps 50] [--n 1] [--gpu | --cpu]
//          [--ig 0|1] [--ap 0|1] [--atp 0|1] [--pos 0|1] [--limit-min 120]
//   dist         the production build (bash web/build/release.sh), default dist
//   --model      the model folder (default $E2E_GPT2_DIR, else $CARGO_TARGET_DIR/gpt2-random)
//   --gpu        the machine's own GPU (Vulkan) instead of SwiftShader, Chromium's CPU WebGPU
//   --cpu        the page's CPU backend (ndarray in the worker's wasm) instead of WebGPU: on
//                its threads (the page served with COEP: cross-origin isolated), or on one
//                with --one-thread (served without COEP)
//   --limit-min  stop after this long: then it reports how far each stage got and the time the
//                stage under way would take at its rate so far (parts of a stage differ in
//                cost, so this is an estimate), and exits with status 3
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
const runAtp = opt('atp', '0') !== '0';
const runPos = opt('pos', '0') !== '0';
const limitMs = Number(opt('limit-min', 120)) * 60_000;
const realGpu = args.includes('--gpu');
const cpu = args.includes('--cpu');
const oneThread = args.includes('--one-thread');
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


const mb = (bytes) => (bytes / 1e6).toFixed(0);
const header = (backend) => `gradpatch GPT-2 benchmark: ${path.basename(modelDir)} ` +
  `(${mb(fs.statSync(path.join(modelDir, 'model.safetensors')).size)} MB), n=${n}, ` +
  `IG ${runIg ? `${steps} steps` : 'off'}, AP ${runAp ? 'on' : 'off'}, AtP ${runAtp ? 'on' : 'off'}, positions ${runPos ? 'on' : 'off'}; ${backend}; ` +
  `${os.cpus().length} cores, ${os.cpus()[0].model}; ${new Date().toISOString().slice(0, 10)}`;

/**
 * Wall time per stage from the worker's messages: the time between one message and the next
 * is the work that produced the later one (a progress message is sent as a part of its stage
 * ends; the runs' message when both runs are done), summed over prompts.
 */
/** A stage as progress reports it (`"Runs"`, `{ Scores: "ig" }`) as one key: `runs`, `scores ig`. */
const stageKey = (s) => (typeof s === 'string' ? s.toLowerCase() : Object.entries(s).map(([k, v]) => `${k.toLowerCase()} ${v}`)[0]);

function stageTimes(msgs) {
  const loaded = msgs.find((m) => m.kind === 'Loaded');
  const times = {};
  let prev = loaded.t;
  for (const m of msgs) {
    if (m.kind !== 'Progress' || m.t < loaded.t) continue;
    const k = stageKey(m.v.stage);
    times[k] = (times[k] || 0) + m.t - prev;
    prev = m.t;
  }
  return { loaded, times, lastProgress: prev };
}

/** What each stage asked of the GPU (the counts between one progress message and the next). */
function printGpuCounts(gpu) {
  if (!gpu || !gpu.stages || !gpu.stages.length) return;
  const per = {};
  let prev = null;
  for (const snap of gpu.stages) {
    const k = stageKey(snap.stage);
    const d = per[k] || (per[k] = { dispatches: 0, submits: 0, readbacks: 0, readBytes: 0, writes: 0, writeBytes: 0 });
    for (const f of Object.keys(d)) d[f] += snap.counts[f] - (prev ? prev.counts[f] : 0);
    prev = snap;
  }
  console.log('GPU work per stage (from the model loaded on):  dispatches  submits  readbacks  read MB  uploads  upload MB');
  for (const [k, d] of Object.entries(per)) {
    console.log(`  ${k.padEnd(44)}${String(d.dispatches).padStart(10)}${String(d.submits).padStart(9)}${String(d.readbacks).padStart(11)}` +
      `${(d.readBytes / 1e6).toFixed(2).padStart(9)}${String(d.writes).padStart(9)}${(d.writeBytes / 1e6).toFixed(2).padStart(11)}`);
  }
}

/**
 * The compute worker (the one web/worker_loader.js set up, not one of its CPU threads), or null:
 * Playwright does not always list a worker the page started again (the threaded CPU one).
 * The CPU threads are told apart by their script, not asked: an idle one waits in
 * `Atomics.wait`, where an evaluate never returns.
 */
async function computeWorker(page) {
  for (const w of page.workers().reverse().filter((w) => !w.url().endsWith('thread_loader.js'))) {
    if (await w.evaluate(() => Boolean(self.__gradpatchMemory && self.__gradpatchGpu)).catch(() => false)) return w;
  }
  return null;
}

async function reportFinished(page) {
  const msgs = await page.evaluate(() => window.__bench);
  const worker = await computeWorker(page);
  const unknown = { heap: NaN, gpu: { peak: NaN, live: NaN, counts: null, stages: [] } };
  const mem = worker ? await worker.evaluate(() => ({ heap: self.__gradpatchMemory.buffer.byteLength, gpu: self.__gradpatchGpu })) : unknown;
  const { times: early } = stageTimes(msgs);
  console.log(`stage times (s): ${Object.entries(early).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`).join(', ')}`);
  const json = await exportedResults(page);
  const missing = ['ig', 'ap'].filter((m) => (m === 'ig' ? runIg : runAp))
    .flatMap((m) => ['heads', 'neurons'].map((k) => [`${m}.${k}`, ((json.scores || json)[m]?.[k] ?? [null]).flat(3).filter((x) => x === null).length]))
    .filter(([, nulls]) => nulls > 0);
  const { loaded, times, lastProgress } = stageTimes(msgs);
  const done = msgs.find((m) => m.kind === 'Results' && m.v.finished);
  console.log(header(loaded.v.info.backend));
  const row = (label, ms) => console.log(`${label.padEnd(34)}${(ms / 1000).toFixed(1).padStart(8)}`);
  console.log('stage                               wall s');
  row('page open, download and load', loaded.t);
  for (const [k, ms] of Object.entries(times)) row(k === 'scores ig' ? `${k} (${steps} steps)` : k, ms);
  row('statistics and results to the page', done.t - lastProgress);
  row('total', done.t);
  console.log(`load (the worker's own measure) ${loaded.v.info.load_seconds.toFixed(1)} s; wasm memory after loading ` +
    `${mb(loaded.v.info.wasm_heap_bytes)} MB, at the end (its peak) ${mb(mem.heap)} MB; GPU buffers ` +
    `${mb(mem.gpu.peak)} MB at the peak, ${mb(mem.gpu.live)} MB at the end`);
  printGpuCounts(mem.gpu);
  const notices = msgs.filter((m) => m.kind === 'Notice').map((m) => m.v.text);
  if (notices.length) console.log(`notices: ${notices.join(' | ')}`);
  if (missing.length) throw new Error(`scores missing: ${missing.map(([k, c]) => `${k} ${c}`).join(', ')}`);
  console.log('every score is there');
}

async function reportPartial(page, within) {
  const msgs = await page.evaluate(() => window.__bench);
  const now = await page.evaluate(() => performance.now());
  const loaded = msgs.find((m) => m.kind === 'Loaded');
  console.log(header(loaded ? loaded.v.info.backend : 'not loaded'));
  console.log(`did not finish within ${limitMs / 60000} min${loaded ? `; loaded after ${(loaded.t / 1000).toFixed(1)} s` : ''}`);
  const progress = msgs.filter((m) => m.kind === 'Progress');
  const last = progress.at(-1);
  if (loaded && last) {
    const { times } = stageTimes(msgs);
    console.log(`time per stage so far (s): ${Object.entries(times).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`).join(', ')}`);
    const w = within(last.v);
    const spent = (times[stageKey(last.v.stage)] || 0) + (now - last.t);
    console.log(`under way: prompt ${last.v.prompt + 1}, ${stageKey(last.v.stage)}, ${(100 * w).toFixed(1)}% of its parts done in ${(spent / 60000).toFixed(1)} min` +
      (w > 0 ? `: about ${(spent / w / 60000).toFixed(0)} min for the stage at that rate` : ''));
  }
  const worker = await computeWorker(page);
  const mem = worker && await worker.evaluate(() => ({ heap: self.__gradpatchMemory?.buffer.byteLength ?? 0, gpu: self.__gradpatchGpu }))
    .catch(() => null);
  if (mem) console.log(`wasm memory now ${mb(mem.heap)} MB; GPU buffers ${mb(mem.gpu.peak)} MB at the peak so far, ${mb(mem.gpu.live)} MB now`);
  if (mem) printGpuCounts(mem.gpu);
  process.exitCode = 3;
}

const { server, base } = await startServer(dist, { gpt2Dir: modelDir, isolated: !oneThread });
const browser = await chromium.launch({ executablePath, headless: true, args: gpuArgs });
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
          if (kind === 'Download') { window.__bench.push({ t: performance.now(), kind }); return; }
          // Results come after each method (finished: false) and at the end (finished: true).
          if (kind === 'Results') { window.__bench.push({ t: performance.now(), kind, v: { finished: !!d[kind].finished } }); return; }
          window.__bench.push({ t: performance.now(), kind, v: d[kind] });
        });
      }
    };
  });
  const query = `?model=${encodeURIComponent(base + 'gpt2/')}&n=${n}&steps=${steps}&ig=${runIg ? 1 : 0}&ap=${runAp ? 1 : 0}&atp=${runAtp ? 1 : 0}&pos=${runPos ? 1 : 0}${cpu ? '&backend=cpu' : ''}`;
  const t0 = Date.now();
  const page = await open(context, base, query);
  await page.click('[data-testid="confirm-url"] button');
  // Above the auto-run bound the page asks before running.
  page.click('[data-testid="confirm-run-go"]', { timeout: 600_000 }).catch(() => {});
  // The study's progress: IG takes the first 20% of a prompt and AP the rest when both run
  // (crates/study/src/engine.rs); `within` is the fraction of the stage's parts done.
  const [wIg, wAp] = runIg && runAp ? [0.2, 0.8] : runIg ? [1, 0] : [0, 1];
  const within = (p) => {
    const f = p.fraction * p.n_prompts - p.prompt;
    const k = stageKey(p.stage);
    return k === 'scores ig' ? f / wIg : k === 'scores ap' ? (f - (runIg ? wIg : 0)) / wAp : 1;
  };
  let finished = false;
  let lastPrint = Date.now();
  while (Date.now() - t0 < limitMs) {
    await page.waitForTimeout(5000);
    const state = await page.evaluate(() => ({
      done: window.__bench.some((m) => m.kind === 'Results' && m.v.finished),
      error: document.querySelector('[data-testid="error"]')?.innerText || null,
      last: window.__bench.filter((m) => m.kind === 'Progress').at(-1)?.v || null,
    }));
    if (state.error) throw new Error(`page error: ${state.error}`);
    if (state.done) { finished = true; break; }
    if (Date.now() - lastPrint >= 60_000) {
      lastPrint = Date.now();
      const p = state.last;
      console.log(`  ${((Date.now() - t0) / 60000).toFixed(1)} min: ${p ? `prompt ${p.prompt + 1}/${p.n_prompts}, ${stageKey(p.stage)} ${(100 * within(p)).toFixed(1)}% of the stage` : 'loading'}`);
    }
  }
  if (finished) await reportFinished(page);
  else await reportPartial(page, within);
} finally {
  await browser.close();
  server.close();
}
