// Circuit-tab benchmark of the production page (not a test, not in CI): opens a results file of
// a GPT-2-small-shaped model with EAP scores of every edge (32,491) in headless Chromium, shows
// the Circuit tab, and times a redraw after each slider move: the work (from the input event
// until the page's effects have run and the canvas is drawn: a zero timeout after it, which runs
// after every microtask) and until painted (the second animation frame, so at least one frame
// at 60 Hz). Prints the medians over the repeats and their ratio to the goal (100 ms) and to the
// smallest count's.
//
// Usage: node tests/e2e/bench-graph.mjs [dist] [--results FILE] [--repeats 5]
//   dist       the production build (bash web/build/release.sh), default dist
//   --results  a results.json with edge scores; default: made here with
//              `gradpatch run --model $CARGO_TARGET_DIR/gpt2-random --ioi 1 --methods eap
//              --exact-edges 0` (the model from `gradpatch make-random-gpt2`)
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from './lib.mjs';
import { startServer } from './server.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const dist = path.resolve(args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) || 'dist');
const target = process.env.CARGO_TARGET_DIR || 'target';
const repeats = Number(opt('repeats', 5));
let results = opt('results', null);
if (!results) {
  const model = path.join(target, 'gpt2-random');
  const cli = path.join(target, 'debug', 'gradpatch');
  if (!fs.existsSync(path.join(model, 'model.safetensors'))) execFileSync(cli, ['make-random-gpt2', '--out', model], { stdio: 'inherit' });
  results = path.join(os.tmpdir(), 'gradpatch-bench-graph.json');
  execFileSync(cli, ['run', '--model', model, '--ioi', '1', '--methods', 'eap', '--exact-edges', '0', '--out', results], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'] });
const { server, base } = await startServer(dist, { cliResults: results });
try {
  const t0 = Date.now();
  const page = await open(browser, base, '?results=results/cli.json&tab=circuit&gk=50');
  await page.waitForSelector('[data-chart="circuit-graph"] canvas', { timeout: 120000 });
  const max = await page.$eval('[data-testid="graph-edges"]', (el) => Number(el.max));
  const of = (await page.innerText('[data-testid="graph-caption"]')).split(' ')[0];
  const ranked = JSON.parse(fs.readFileSync(results, 'utf8')).edges.n_edges;
  console.log(`gradpatch Circuit-tab benchmark: ${ranked} ${of} edges ranked, the slider up to ${max}; results opened and the tab drawn in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
    `${os.cpus().length} cores, ${os.cpus()[0].model}; ${new Date().toISOString().slice(0, 10)}`);
  const move = (k) => page.evaluate(async (k) => {
    const el = document.querySelector('[data-testid="graph-edges"]');
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    const start = performance.now();
    el.value = String(k);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
    const work = performance.now() - start;
    await frame();
    await frame();
    return [work, performance.now() - start];
  }, k);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  for (const k of [50, 200, 1000, 5000]) {
    const work = [];
    const painted = [];
    for (let i = 0; i < repeats; i++) {
      await move(k === 50 ? 51 : 50); // a different count first, so each move redraws
      const [w, p] = await move(k);
      work.push(w);
      painted.push(p);
    }
    rows.push([k, median(work), median(painted), work]);
  }
  const baseline = rows[0][1];
  for (const [k, w, p, work] of rows) {
    console.log(`  ${String(k).padStart(5)} edges: redraw work ${w.toFixed(1)} ms median (${work.map((t) => t.toFixed(0)).join(', ')}), painted ${p.toFixed(1)} ms; ` +
      `${(w / 100).toFixed(2)}x the 100 ms goal (painted ${(p / 100).toFixed(2)}x), work ${(w / baseline).toFixed(2)}x the 50-edge redraw's`);
  }
  await page.close();
} finally {
  await browser.close();
  server.close();
}
