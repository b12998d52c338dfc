// End-to-end tests of the built page in headless Chromium: WebGPU on SwiftShader, and the CPU
// fallback in a Chromium without WebGPU. The site is served under a sub-path with its
// Content-Security-Policy (server.mjs); any violation fails the test that caused it.
// Usage: node tests/e2e/run.mjs [dist-dir]   (the release build: `trunk build --release`;
// CHROMIUM=/usr/bin/chromium by default; E2E_GPT2_DIR=a GPT-2-small-shaped model from
// `gradpatch make-random-gpt2`, served at gpt2/; E2E_GPT2_MEDIUM_DIR and E2E_GPT2_DISTIL_DIR=the
// same with `--preset medium` and `--preset distil`, served at gpt2-medium/ and gpt2-distil/; E2E_CLI_RESULTS=the CLI's results.json for the
// parity test and the results viewer; E2E_CLI_RESULTS_PCT=the same run at --percentile 0.8;
// E2E_ARTEFACTS=folder for screenshots, default target/e2e-artefacts)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { RUN_TIMEOUT, assert, done, hoverChart, loadFrom, loaded, logs, open as openPage, test, totals, waitError, waitResults, watchCsp, watchCspReports } from './lib.mjs';
import { siteTests } from './site.mjs';
import { failureTests } from './failures.mjs';
import { viewerTests } from './viewer.mjs';
import { comparisonTests } from './comparison.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(process.argv[2] || path.join(here, '..', '..', 'dist'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const gpt2Dir = process.env.E2E_GPT2_DIR;
const gpt2MediumDir = process.env.E2E_GPT2_MEDIUM_DIR;
const gpt2DistilDir = process.env.E2E_GPT2_DISTIL_DIR;

if (!fs.existsSync(path.join(dist, 'index.html'))) {
  console.error(`error: ${dist}/index.html not found: build the page first (trunk build --release)`);
  process.exit(1);
}

const { server, base, origin, reports, closed } = await startServer(dist, { gpt2Dir, gpt2MediumDir, gpt2DistilDir, cliResults: process.env.E2E_CLI_RESULTS });
watchCspReports(reports);
const open = (browser, query, _logs, opts) => openPage(browser, base, query, opts);

const common = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const gpuArgs = [...common, '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'];


const gpu = await chromium.launch({ executablePath, headless: true, args: gpuArgs });

await comparisonTests({ gpu, base });

await test('results appear as each method finishes: AtP while IG and AP still run', async () => {
  // Enough IG steps that IG and AP run for a while after AtP (still a link that runs without
  // asking); AP alone takes minutes on SwiftShader.
  const page = await open(gpu, '?model=bundled&n=3&seed=1&steps=100&pos=0', logs);
  await page.waitForSelector('[data-chart="atp-heads"] canvas', { timeout: RUN_TIMEOUT });
  assert(await page.$('[data-testid="cancel"]') !== null, 'the run goes on while AtP is shown');
  assert(await page.$('[data-chart="ap-heads"]') === null, 'AP is not there yet');
  const status = await page.innerText('[data-testid="status"]');
  assert(/^AtP(, IG)? done on 3 prompts/.test(status), status);
  // The finished method's charts are usable meanwhile: hover shows its score.
  const { text } = await hoverChart(page, 'atp-heads', 80, 60);
  assert(/^L\d+H\d+: AtP -?[\d.]+/.test(text), text);
  await page.click('[data-testid="cancel"]');
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('[data-testid="status"]')?.innerText || ''), null, { timeout: 120000 });
  await page.waitForSelector('[data-chart="atp-heads"] canvas');
  await done(page);
});

await test('links: bad parameters warn, text from the URL stays text, unknown model URLs ask first', async () => {
  const evil = encodeURIComponent('<img src=x onerror="window.__owned=1">|b|c|d');
  const page = await open(gpu, `?model=bundled&n=0&zzz=1&task=custom&pairs=${evil}&tab=prompts`, logs);
  await page.waitForSelector('[data-testid="warning"]');
  const warnings = await page.locator('[data-testid="warning"]').allInnerTexts();
  assert(warnings.some((w) => w.includes('`n`')) && warnings.some((w) => w.includes('`zzz`')), warnings.join('\n'));
  assert(await page.$('img') === null, 'no element from the URL');
  assert(await page.evaluate(() => window.__owned) === undefined, 'no script from the URL');
  await done(page);
  let requested = false;
  const p2 = await open(gpu, `?model=${encodeURIComponent(base + 'elsewhere/')}`, logs);
  p2.on('request', (r) => { if (r.url().includes('/elsewhere/')) requested = true; });
  await p2.waitForSelector('[data-testid="confirm-url"]');
  await p2.waitForTimeout(1000);
  assert(!requested, 'nothing downloaded before the user agrees');
  await done(p2);
});

await test('downloads: a wrong file is refused early, a failed download offers the bundled model', async () => {
  const page = await open(gpu, `?model=${encodeURIComponent(base + 'html/')}`, logs);
  await page.click('[data-testid="confirm-url"] button');
  await waitError(page, /refused after \d+ bytes: not a safetensors file/);
  await done(page);
  const p2 = await open(gpu, `?model=${encodeURIComponent(base + 'fail/')}`, logs);
  await p2.click('[data-testid="confirm-url"] button');
  await waitError(p2, /HTTP 404/);
  await p2.click('[data-testid="error"] button');
  await p2.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
  await done(p2);
});

await test('cancel keeps the prompts that finished', async () => {
  const page = await open(gpu, '?model=bundled&n=40&steps=4&atp=0&pos=0', logs);
  await page.waitForSelector('[data-testid="run-progress"]', { timeout: RUN_TIMEOUT });
  await page.waitForFunction(() => /prompt [2-9]/.test(document.querySelector('[data-testid="run-progress"]')?.innerText || ''), null, { timeout: RUN_TIMEOUT });
  await page.click('[data-testid="cancel"]');
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('[data-testid="status"]')?.innerText || ''), null, { timeout: 120000 });
  await page.click('[data-testid="tab-summary"]');
  const summary = await page.innerText('[data-testid="summary"]');
  assert(summary.includes('cancelled'), summary);
  await done(page);
});

await test('GPT-2 small shape: 548 MB of weights load on WebGPU part by part (147 MiB wte), worker memory under 1.2 GB', async () => {
  if (!gpt2Dir) throw new Error('E2E_GPT2_DIR is not set (tests/run-all.sh makes the model with `gradpatch make-random-gpt2`)');
  // A persistent profile, as a real browser has: incognito contexts get a tiny storage quota.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-e2e-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: gpuArgs, viewport: { width: 1500, height: 1000 } });
  try {
  // No method selected: the link loads the model without running the comparison.
  const page = await watchCsp(await context.newPage());
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  await page.goto(base + `?model=${encodeURIComponent(base + 'gpt2/')}&n=1&ig=0&ap=0&atp=0`);
  await page.click('[data-testid="confirm-url"] button');
  await page.waitForSelector('[data-testid="model-info"], [data-testid="error"]', { timeout: RUN_TIMEOUT });
  const err = await page.$('[data-testid="error"]');
  if (err) throw new Error(await err.innerText());
  const info = await page.innerText('[data-testid="model-info"]');
  assert(info.includes('12 layers × 12 heads, 3072 neurons per layer, vocabulary 50257, context 1024'), info);
  assert(info.includes('WebGPU'), info);
  const heap = Number(/Worker memory ([\d.]+) MB/.exec(info)[1]);
  // The file (548 MB) and one part of the model in f32 at a time (goal: at most 1.2 GB).
  assert(heap > 500 && heap <= 1200, `worker memory ${heap} MB`);
  console.log(`     (${info.split('. ').slice(-2).join('. ')})`);
  // Reloading comes from the Cache API.
  try {
    await page.waitForFunction(() => /3 files/.test(document.querySelector('.cache summary')?.innerText || ''), null, { timeout: 60000 });
  } catch (e) {
    const notices = await page.locator('[data-testid="notice"]').allInnerTexts();
    throw new Error(`cache: ${await page.innerText('.cache summary')}; notices: ${notices.join(' | ')}`);
  }
  await page.click('[data-testid="load"]');
  await page.waitForFunction(() => /from the cache/.test(document.querySelector('[data-testid="download"]')?.innerText || ''), null, { timeout: 120000 });
  await page.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
  await done(page);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

// The other presets' shapes (random weights, the hub's layout with its mask buffers): loaded part
// by part, the worker's memory about the file plus twice the embeddings in f32 (210 MB for
// medium, 157 MB for distil). Loaded only: a run of the medium shape on SwiftShader did not finish
// AtP on one prompt in 10 minutes (its forward passes are measured natively: BENCHMARKS.md).
const presets = [
  ['gpt2-medium', gpt2MediumDir, 'E2E_GPT2_MEDIUM_DIR', 'medium', '1.52 GB', '24 layers × 16 heads, 4096 neurons per layer', 1400, 2500],
  ['gpt2-distil', gpt2DistilDir, 'E2E_GPT2_DISTIL_DIR', 'distil', '353 MB', '6 layers × 12 heads, 3072 neurons per layer', 350, 1000],
];
for (const [folder, dir, env, preset, size, shape, low, high] of presets) {
  await test(`${folder} shape: ${size} of f32 weights load on WebGPU part by part; worker memory under ${high} MB`, async () => {
    if (!dir) throw new Error(`${env} is not set (tests/run-all.sh makes the model with \`gradpatch make-random-gpt2 --preset ${preset}\`)`);
    const page = await loadFrom(gpu, base, `${folder}/`);
    await loaded(page);
    const info = await page.innerText('[data-testid="model-info"]');
    assert(info.includes(`${shape}, vocabulary 50257, context 1024`) && info.includes('WebGPU'), info);
    const heap = Number(/Worker memory ([\d.]+) MB/.exec(info)[1]);
    assert(heap > low && heap <= high, `worker memory ${heap} MB`);
    console.log(`     (${info.split('. ').slice(-2).join('. ')})`);
    await done(page);
  });
}

await viewerTests({ gpu, base, origin });
await siteTests({ gpu, base, executablePath, gpuArgs, common });
await failureTests({ gpu, base, closed, executablePath, common, gpuArgs });

await gpu.close();

await test('no WebGPU: the CPU fallback says so and gives results', async () => {
  const cpu = await chromium.launch({ executablePath, headless: true, args: common });
  try {
    // One prompt, IG and AP with 2 steps: the CPU is slow, and the numbers are checked elsewhere.
    const page = await open(cpu, '?model=bundled&n=1&seed=3&steps=2&atp=0&pos=0', logs);
    await waitResults(page);
    const notices = await page.locator('[data-testid="notice"]').allInnerTexts();
    assert(notices.some((n) => n.includes('no WebGPU')), notices.join('\n'));
    assert((await page.innerText('[data-testid="model-info"]')).includes('CPU'), 'computing on the CPU');
    await done(page);
  } finally {
    await cpu.close();
  }
});

server.close();
const { passed, failed } = totals();
if (failed) {
  console.log('--- browser console (last 60 lines)');
  console.log(logs.slice(-60).join('\n'));
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
