// The page as a real site: the first visit asks before any large download, a cached GPT-2
// loads at once, accessibility (axe-core), a whole flow by keyboard, and a narrow window.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { RUN_TIMEOUT, assert, demoSize, done, open, test, waitError, waitResults, watchCsp } from './lib.mjs';
import { executablePath, gpuArgs, setup } from './setup.mjs';
import { startServer } from './server.mjs';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { staticHandler } from '../../web/build/static-server.mjs';

const HF = 'https://huggingface.co/';
// The GPT-2 preset, at its pinned revision (gradpatch_config::HF_GPT2_BASE).
const GPT2_BASE = 'https://huggingface.co/openai-community/gpt2/resolve/607a30d783dfa663caf39e06633721c8d4cfcd7e/';
const artefacts = path.resolve(process.env.E2E_ARTEFACTS || path.join(process.env.CARGO_TARGET_DIR || 'target', 'e2e-artefacts'));

/** Counts the page's requests to Hugging Face (refused: the tests are offline). */
async function watchHub(page) {
  const seen = [];
  await page.route(`${HF}**`, (route) => { seen.push(route.request().url()); return route.abort(); });
  return seen;
}

/** Presses Tab (or Shift+Tab) until `selector` has the focus (at most `max` times). */
async function tabTo(page, selector, { back = false, max = 80 } = {}) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} never reached ${selector}`);
}

/** A page whose requests to Hugging Face are refused and counted from the very start. */
async function openWatched(browser, base, query, { init, ...opts } = {}) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 }, ...opts });
  await watchCsp(page);
  const hub = await watchHub(page);
  if (init) await page.addInitScript(init);
  await page.goto(base + query);
  return { page, hub };
}

const { gpu, base, dist } = await setup();

test('first visit: the page offers GPT-2 (with its size) or the bundled model, and downloads nothing first', async () => {
  const { page, hub } = await openWatched(gpu, base, '');
  await page.waitForSelector('[data-testid="choose-model"]', { timeout: 60000 });
  const text = await page.innerText('[data-testid="choose-model"]');
  assert(/GPT-2 small/.test(text) && /548 MB/.test(text) && /3 MB/.test(text), text);
  await page.waitForTimeout(1500);
  assert(hub.length === 0, `requested before the click: ${hub.join(', ')}`);
  assert(await page.$('[data-testid="download"]') === null, 'no download under way');
  await page.click('[data-testid="choose-bundled"]');
  await page.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
  assert(page.url().includes('model=bundled'), page.url());
  await done(page);
});

test('first visit: GPT-2 small\'s precomputed results are offered only where the site has them, and open with the IOI circuit scoreboard', async () => {
  // Without them (this server): two choices.
  const { page: plain } = await openWatched(gpu, base, '');
  await plain.waitForSelector('[data-testid="choose-model"]', { timeout: 60000 });
  await plain.waitForTimeout(1500);
  assert(await plain.$('[data-testid="choose-precomputed"]') === null, 'not offered without the file');
  await done(plain);
  // With them: what the Pages workflow's step writes, from a GPT-2-small-shaped model (AtP on
  // one prompt here; the workflow runs the full configuration on the real weights).
  const gpt2 = process.env.E2E_GPT2_DIR;
  if (!gpt2) throw new Error('E2E_GPT2_DIR is not set (tests/run-all.sh makes a random GPT-2-shaped model)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'precomputed-'));
  const cli = path.join(process.env.CARGO_TARGET_DIR || 'target', 'debug', 'gradpatch');
  const name = JSON.parse(execFileSync(cli, ['pins'], { encoding: 'utf8' })).name;
  execFileSync(cli, ['run', '--model', gpt2, '--ioi', '1', '--methods', 'atp', '--positions', '--model-name', name, '--out', path.join(dir, 'results.json')], { stdio: 'ignore' });
  fs.writeFileSync(path.join(dir, 'about.json'), JSON.stringify({ model: name, commit: '0123456789abcdef', configuration: 'gradpatch run --ioi 1 --methods atp --positions', runner: 'the test', started: 'now', finished: '2026-12-04T10:00:00Z' }));
  const site = await startServer(path.resolve(process.env.E2E_DIST || 'dist'), { precomputed: dir });
  try {
    const { page, hub } = await openWatched(gpu, site.base, '');
    await page.waitForSelector('[data-testid="choose-precomputed"]', { timeout: 60000 });
    const about = await page.innerText('[data-testid="precomputed-about"]');
    assert(about.includes('gradpatch run --ioi 1 --methods atp --positions') && about.includes('0123456789ab') && about.includes('the test'), about);
    await page.click('[data-testid="choose-precomputed"]');
    await page.waitForSelector('[data-chart="atp-heads"] canvas', { timeout: 60000 });
    assert(page.url().includes('results=precomputed'), page.url());
    assert(hub.length === 0, `requested from the hub: ${hub.join(', ')}`);
    // GPT-2 small's results: the IOI circuit applies by default (outlines, scoreboard).
    assert((await page.innerText('[data-testid="circuit-legend"]')).includes('name mover (3, at END)'), 'the legend');
    await page.click('[data-testid="tab-summary"]');
    await page.waitForSelector('[data-testid="scoreboard"]');
    const board = await page.innerText('[data-testid="scoreboard"]');
    assert(/AtP \(ranked by \|mean score\| over 1 prompts\)/.test(board) && board.includes('variant strict') && board.includes('class name mover'), board);
    assert((await page.innerText('[data-testid="published"]')).includes('ACDC 0.8730'), 'published AUCs');
    await done(page);
  } finally {
    site.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('first visit: a shared link naming GPT-2 shows the size and the estimated run time before it starts', async () => {
  const { page, hub } = await openWatched(gpu, base, '?n=4&steps=20&tab=scatter');
  await page.waitForSelector('[data-testid="estimate"]', { timeout: 60000 });
  const estimate = await page.innerText('[data-testid="estimate"]');
  assert(/about \d+m\d\ds/.test(estimate), estimate);
  await page.click('[data-testid="choose-gpt2"]');
  // Offline here: the download fails with a message and offers the bundled model.
  await page.waitForSelector('[data-testid="error"]', { timeout: 60000 });
  assert(hub.length > 0 && hub[0].startsWith(GPT2_BASE), `GPT-2 requested after the click: ${hub.join(', ')}`);
  await done(page);
});

test('first visit: GPT-2 in the cache loads at once, without asking; a cached file that is not the pinned one is evicted', async () => {
  // A persistent profile, as a real browser has. GPT-2's cache entries hold the demo model,
  // which the page takes for GPT-2 (it loads at once) and the worker refuses: not the pinned
  // files. Offline here, the download that follows fails.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-e2e-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: gpuArgs });
  try {
    const seed = await watchCsp(await context.newPage());
    await seed.goto(base + '?model=bundled&ig=0&ap=0&atp=0');
    await seed.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
    await seed.evaluate(async (hf) => {
      const cache = await caches.open('gradpatch-models-v1');
      for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) {
        const r = await fetch(`models/ioi-demo/${f}`);
        await cache.put(hf + f, new Response(await r.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } }));
      }
    }, GPT2_BASE);
    await done(seed);
    const page = await watchCsp(await context.newPage());
    const hub = await watchHub(page);
    await page.goto(base + '?ig=0&ap=0&atp=0');
    await page.waitForSelector('[data-testid="error"]', { timeout: RUN_TIMEOUT });
    assert(await page.$('[data-testid="choose-model"]') === null, 'no question for a cached model');
    const notices = (await page.locator('[data-testid="notice"]').allInnerTexts()).join('\n');
    assert(notices.includes(`The cached copy of config.json was damaged (config.json is ${demoSize('config.json')} bytes, the pinned file has 665: refused)`), notices);
    assert(hub.length === 1 && hub[0] === GPT2_BASE + 'config.json', `downloaded again from the pinned revision: ${hub.join(', ')}`);
    await done(page);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('a GPT-2 file whose SHA-256 differs from the pinned one is refused', async () => {
  // The hub answered by the test: a config.json of the pinned size whose bytes differ.
  const fake = Buffer.from(JSON.stringify({ n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 }).padEnd(665, ' '));
  const page = await open(gpu, base, '?ig=0&ap=0&atp=0');
  await page.route(`${GPT2_BASE}**`, (route) => route.fulfill({ status: 200, body: fake, headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' } }));
  await page.waitForSelector('[data-testid="choose-gpt2"]', { timeout: 60000 });
  await page.click('[data-testid="choose-gpt2"]');
  await waitError(page, /config\.json does not match the pinned SHA-256 \(expected 0daed774[0-9a-f]+, got [0-9a-f]{64}\): refused/);
  await done(page);
});

// The other presets (gradpatch_config::Preset): base at the pinned revision, the pinned size of
// config.json, and what the first-visit choice shows.
const PRESETS = [
  { key: 'distilgpt2', title: 'DistilGPT-2', size: '353 MB', shape: [6, 12, 768], config: 762,
    base: 'https://huggingface.co/distilbert/distilgpt2/resolve/2290a62682d06624634c1f46a6ad5be0f47f38aa/', sha: '4ec5947c' },
  { key: 'gpt2-medium', title: 'GPT-2 medium', size: '1.52 GB', shape: [24, 16, 1024], config: 718,
    base: 'https://huggingface.co/openai-community/gpt2-medium/resolve/6dcaa7a952f72f9298047fd5137cd6e4f05f41da/', sha: 'ef1a44d8' },
];

for (const p of PRESETS) {
  test(`${p.key}: a link names it, the page shows its size and estimate before downloading, and a file of its shape that is not the pinned one is refused`, async () => {
    const { page, hub } = await openWatched(gpu, base, `?model=${p.key}&n=4&ig=0&ap=1&atp=0`);
    await page.waitForSelector('[data-testid="choose-model"]', { timeout: 60000 });
    const text = await page.innerText('[data-testid="choose-model"]');
    assert(text.includes(p.title) && text.includes(p.size), text);
    const estimate = await page.innerText('[data-testid="estimate"]');
    assert(estimate.includes(`on ${p.title}: about`) && estimate.includes(`download of ${p.size}`), estimate);
    assert(hub.length === 0, `requested before the click: ${hub.join(', ')}`);
    // The hub, answered by the test with a model of the preset's shape: its config.json has the
    // pinned size but not the pinned bytes.
    const [n_layer, n_head, n_embd] = p.shape;
    const fake = Buffer.from(JSON.stringify({ model_type: 'gpt2', n_layer, n_head, n_embd, n_positions: 1024, n_ctx: 1024, vocab_size: 50257 }).padEnd(p.config, ' '));
    const asked = [];
    await page.unroute(`${HF}**`);
    await page.route(`${HF}**`, (route) => {
      asked.push(route.request().url());
      return route.fulfill({ status: 200, body: fake, headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' } });
    });
    await page.click(`[data-testid="choose-${p.key}"]`);
    await waitError(page, new RegExp(`config\\.json does not match the pinned SHA-256 \\(expected ${p.sha}[0-9a-f]+, got [0-9a-f]{64}\\): refused`));
    assert(asked.length === 1 && asked[0] === p.base + 'config.json', asked.join(', '));
    assert(page.url().includes(`model=${p.key}`), page.url());
    await done(page);
  });
}

/**
 * Stops a site copy's server: `close` alone waits for every open connection, and the page may
 * still have a request under way on one (it did, once, for ten minutes), so they are closed.
 */
function stop(server) {
  return new Promise((r) => {
    server.close(r);
    server.closeAllConnections();
  });
}

/**
 * A copy of dist/ in a folder of its own, to change as a host would (a redeploy, no headers),
 * served by the static host on `port` (0: any free one); `remove()` deletes it.
 */
function siteCopy(name) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `gradpatch-${name}-`));
  const site = path.join(tmp, 'site');
  fs.cpSync(dist, site, { recursive: true });
  const serve = (port = 0) => new Promise((resolve) => {
    const handle = staticHandler(site);
    const server = http.createServer((req, res) => { if (!handle(req, res)) { res.writeHead(404); res.end(); } });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
  return { site, serve, remove: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

test('a redeployed demo model is what the page loads, never the old one from the cache (the bundled model is addressed by its content)', async () => {
  // A site of its own (a copy of dist/) on a fixed port, so the redeployed site has the same
  // origin, hence the same Cache API storage, as the first.
  const { site, serve, remove } = siteCopy('redeploy');
  let server = await serve();
  const port = server.address().port;
  const context = await gpu.newContext({ viewport: { width: 1500, height: 1000 } });
  try {
    const page = await watchCsp(await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/?model=bundled&ig=0&ap=0&atp=0`);
    await page.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
    const before = await page.innerText('[data-testid="model-info"]');
    assert(before.includes('3 layers × 4 heads'), before);
    // The redeploy: model-a (2 layers) in place of the demo model, with its manifest.
    await stop(server);
    const folder = path.join(site, 'models', 'ioi-demo');
    const shared = process.env.GRADPATCH_SHARED || path.resolve('..', 'shared');
    const files = [];
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) {
      const bytes = fs.readFileSync(path.join(shared, 'reference', 'model-a', f));
      for (const old of [f, f + '.gz', f + '.br']) fs.rmSync(path.join(folder, old), { force: true });
      fs.writeFileSync(path.join(folder, f), bytes);
      files.push({ name: f, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    }
    for (const old of ['manifest.json.gz', 'manifest.json.br']) fs.rmSync(path.join(folder, old), { force: true });
    fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify({ files }));
    server = await serve(port);
    await page.reload();
    await page.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
    const after = await page.innerText('[data-testid="model-info"]');
    assert(after.includes('2 layers × 4 heads'), `the new model: ${after}`);
    // The cache holds the new weights under their hash, and no longer the old ones.
    const keys = await page.evaluate(async () => (await (await caches.open('gradpatch-models-v1')).keys()).map((r) => r.url).filter((u) => u.includes('model.safetensors')));
    const sha = files.find((f) => f.name === 'model.safetensors').sha256;
    assert(keys.length === 1 && keys[0].endsWith(`model.safetensors?sha256=${sha}`), keys.join(', '));
    await done(page);
  } finally {
    await context.close();
    server.close();
    remove();
  }
});

test('a model URL without a manifest: a file changed on its server (a new ETag) is downloaded again, unchanged files come from the cache', async () => {
  const { site, serve, remove } = siteCopy('etag');
  let server = await serve();
  const port = server.address().port;
  const folder = path.join(site, 'm');
  const put = (from) => {
    fs.mkdirSync(folder, { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) fs.copyFileSync(path.join(from, f), path.join(folder, f));
  };
  put(path.join(dist, 'models', 'ioi-demo'));
  const context = await gpu.newContext({ viewport: { width: 1500, height: 1000 } });
  const load = async (page) => {
    const asked = await page.waitForSelector('[data-testid="confirm-url"] button, [data-testid="model-info"]', { timeout: RUN_TIMEOUT });
    if (await asked.evaluate((e) => e.tagName === 'BUTTON')) await asked.click();
    await page.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
    return page.innerText('[data-testid="model-info"]');
  };
  try {
    const page = await watchCsp(await context.newPage());
    const model = encodeURIComponent(`http://127.0.0.1:${port}/m/`);
    await page.goto(`http://127.0.0.1:${port}/#model=${model}&ig=0&ap=0&atp=0`);
    const before = await load(page);
    assert(before.includes('3 layers × 4 heads'), before);
    // Unchanged: every file from the cache, nothing said.
    await page.reload();
    await load(page);
    assert(await page.$('[data-testid="notice"]') === null, 'no change, no notice');
    // The server's files change (model-a: 2 layers) under the same URLs.
    await stop(server);
    put(path.join(process.env.GRADPATCH_SHARED || path.resolve('..', 'shared'), 'reference', 'model-a'));
    server = await serve(port);
    await page.reload();
    const after = await load(page);
    assert(after.includes('2 layers × 4 heads'), `the new model: ${after}`);
    const notices = (await page.locator('[data-testid="notice"]').allInnerTexts()).join('\n');
    assert(/model\.safetensors changed on its server since it was cached: the new version is downloaded/.test(notices), notices);
    const keys = await page.evaluate(async () => (await (await caches.open('gradpatch-models-v1')).keys()).map((r) => r.url).filter((u) => u.includes('/m/model.safetensors')));
    assert(keys.length === 1, `one cached copy, the new one: ${keys.join(', ')}`);
    await done(page);
  } finally {
    await context.close();
    server.close();
    remove();
  }
});

test('framed by another page on a host that sends no headers (GitHub Pages), the page refuses to run and offers to open on its own', async () => {
  // dist/ without its _headers file: no frame-ancestors header protects it.
  const { site, serve, remove } = siteCopy('framed');
  fs.rmSync(path.join(site, '_headers'));
  const server = await serve();
  const url = `http://127.0.0.1:${server.address().port}/?model=bundled`;
  const page = await gpu.newPage();
  try {
    await page.setContent(`<iframe src="${url}" width="800" height="600"></iframe>`);
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForSelector('[data-testid="framed"]', { timeout: 30000 });
    const text = await frame.innerText('[data-testid="framed"]');
    assert(/does not run inside another page's frame/.test(text), text);
    assert(await frame.getAttribute('[data-testid="framed"] a', 'target') === '_top', 'the link opens the page on its own');
    await page.waitForTimeout(1500);
    assert(await frame.$('[data-testid="model-info"], [data-testid="choose-model"], .panels') === null, 'nothing of the app started');
    assert(page.workers().length === 0, 'no compute worker');
  } finally {
    await page.close();
    server.close();
    remove();
  }
});

test('first visit: with the data saver on, not even the bundled model loads unasked', async () => {
  const { page } = await openWatched(gpu, base, '?model=bundled', {
    init: () => Object.defineProperty(Navigator.prototype, 'connection', { get: () => ({ saveData: true, effectiveType: '4g' }) }),
  });
  await page.waitForSelector('[data-testid="choose-model"]', { timeout: 60000 });
  await page.waitForTimeout(1000);
  assert(await page.$('[data-testid="model-info"]') === null, 'nothing loaded');
  await done(page);
});

test('keyboard: load, run, switch tab, move and select in a chart, copy the link, all without a mouse', async () => {
  const context = await gpu.newContext({ viewport: { width: 1500, height: 1000 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await watchCsp(await context.newPage());
  // The link loads the bundled model with no method on, so nothing runs by itself; the
  // keyboard then ticks AtP only (a run of seconds, where IG and AP take minutes here).
  await page.goto(base + '?model=bundled&n=2&seed=3&steps=4&ig=0&ap=0&atp=0&pos=0');
  await page.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
  await tabTo(page, '[data-testid="method-atp"]');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(outline !== 'none', `focus is visible (outline: ${outline})`);
  await page.keyboard.press('Space');
  await tabTo(page, '[data-testid="run"]');
  await page.keyboard.press('Enter');
  await waitResults(page);
  await tabTo(page, '[data-testid="tab-heads"]');
  await page.keyboard.press('Enter');
  await tabTo(page, '[data-chart="atp-heads"] canvas');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowUp');
  const cursor = await page.innerText('[data-testid="cursor"]');
  assert(cursor.startsWith('L1H1'), `cursor: ${cursor}`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('sel=L1H1'), null, { timeout: 5000 });
  assert((await page.innerText('[data-testid="selected"]')).startsWith('L1H1'), 'selected L1H1');
  await tabTo(page, '[data-testid="prompt-select"]', { back: true });
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => /prompt=/.test(location.hash), null, { timeout: 5000 });
  await tabTo(page, '[data-testid="copy-link"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /copied/.test(document.querySelector('[data-testid="copy-link"]').innerText), null, { timeout: 5000 });
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert(copied.includes('sel=L1H1') && !copied.includes('atp='), `copied link: ${copied}`);
  await page.check();
  await context.close();
});

test('narrow window (760 px): panels stack, no horizontal scrolling of the page (screenshot kept)', async () => {
  // The CLI's results of the bundled model (the results viewer): the same panels and charts
  // as after a run, without minutes of SwiftShader.
  const results = encodeURIComponent(base + 'results/cli.json');
  const page = await open(gpu, base, `?results=${results}&tab=neurons`, { viewport: { width: 760, height: 1000 } });
  await page.waitForSelector('[data-chart="ig-neurons"] canvas', { timeout: 60000 });
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  fs.mkdirSync(artefacts, { recursive: true });
  const shot = path.join(artefacts, 'narrow-760.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert(scroll <= client, `the page scrolls sideways: ${scroll} px of content in ${client} px (screenshot: ${shot})`);
  await done(page);
});
