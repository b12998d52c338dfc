// What every browser test shares: tests on Node's runner with the page's CSP watched,
// assertions, opening a page, and waiting for results or errors.
import fs from 'node:fs';
import path from 'node:path';
import { test as nodeTest } from 'node:test';
import { fileURLToPath } from 'node:url';

const demoDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'models', 'ioi-demo');
/** The size of a file of the bundled demo model (what a complete cache entry holds). */
export const demoSize = (name) => fs.statSync(path.join(demoDir, name)).size;

export const RUN_TIMEOUT = Number(process.env.E2E_RUN_TIMEOUT_MS || 600_000);

export const logs = [];
let cspReports = [];
/** Where the server collects CSP reports (set once the server is up). */
export function watchCspReports(reports) { cspReports = reports; }

// Pages open now (`open` adds them): a failed test closes the ones it opened, so a run it left
// going does not slow the tests after it (SwiftShader shares two cores between them).
const openPages = new Set();

/**
 * A test on Node's runner (`node --test`; one file per area, see run.mjs): any CSP violation
 * the server was sent during it fails it, and when it fails, the pages it opened are closed and
 * the browser's last console lines printed. E2E_ONLY=substring still picks tests by name.
 */
export function test(name, fn) {
  const skip = !!process.env.E2E_ONLY && !name.includes(process.env.E2E_ONLY);
  return nodeTest(name, { skip }, async () => {
    const reportsBefore = cspReports.length;
    const pagesBefore = new Set(openPages);
    const logsBefore = logs.length;
    try {
      await fn();
      const fresh = cspReports.slice(reportsBefore);
      if (fresh.length) throw new Error(`Content-Security-Policy violations reported: ${fresh.join(' | ').slice(0, 2000)}`);
    } catch (e) {
      for (const page of [...openPages].filter((p) => !pagesBefore.has(p))) await page.close().catch(() => {});
      const seen = logs.slice(logsBefore).slice(-60);
      if (seen.length) console.log(`--- browser console during "${name}" (last ${seen.length} lines)\n${seen.join('\n')}`);
      throw e;
    }
  });
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

/**
 * Watches a page for CSP trouble: `securitypolicyviolation` events (recorded from before the
 * first script runs) and the console errors Chromium writes for blocked content. `check()` throws
 * if any was seen.
 */
export async function watchCsp(page) {
  const seen = [];
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) seen.push(m.text());
  });
  page.check = async () => {
    const events = page.isClosed() ? [] : await page.evaluate(() => window.__csp || []).catch(() => []);
    const all = [...seen, ...events];
    if (all.length) throw new Error(`CSP violations: ${all.join(' | ')}`);
  };
  return page;
}

export async function open(browserOrContext, base, query, opts = {}) {
  const page = await browserOrContext.newPage({ viewport: { width: 1500, height: 1000 }, acceptDownloads: true, ...opts });
  openPages.add(page);
  page.on('close', () => openPages.delete(page));
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  await watchCsp(page);
  await page.goto(base + query);
  return page;
}

/**
 * Opens a link naming a model folder of the test server (no method on, so nothing runs; `extra`
 * adds link parameters) and agrees to download it.
 */
export async function loadFrom(browserOrContext, base, folder, extra = '') {
  const page = await open(browserOrContext, base, `?model=${encodeURIComponent(base + folder)}&ig=0&ap=0&atp=0${extra}`);
  await page.click('[data-testid="confirm-url"] button');
  return page;
}

/** Waits for the model to load; a load error fails the test with its text. */
export async function loaded(page) {
  await page.waitForSelector('[data-testid="model-info"], [data-testid="error"]', { timeout: RUN_TIMEOUT });
  const err = await page.$('[data-testid="error"]');
  if (err) throw new Error(await err.innerText());
}

/** Closes a page after checking it saw no CSP violation. */
export async function done(page) {
  await page.check();
  await page.close();
}

// Waits for the whole comparison: the charts of the first methods appear while the rest run.
export async function waitResults(page) {
  await page.waitForFunction(() => /Comparison done/.test(document.querySelector('[data-testid="status"]')?.innerText || '')
    || document.querySelector('[data-testid="error"]'), null, { timeout: RUN_TIMEOUT });
  const err = await page.$('[data-testid="error"]');
  if (err) throw new Error('page error: ' + (await err.innerText()));
}

/**
 * Points at (x, y) inside chart `name`'s canvas (scrolled into view first: a chart may wrap
 * below the fold) and returns its tooltip's text and a click at the same place.
 */
export async function hoverChart(page, name, x, y) {
  const canvas = page.locator(`[data-chart="${name}"] canvas`);
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + x, box.y + y);
  const tip = await page.waitForSelector(`[data-chart="${name}"] [data-testid="tooltip"]`, { timeout: 5000 });
  return { text: await tip.innerText(), click: () => page.mouse.click(box.x + x, box.y + y) };
}

// Waits until the error banner says what `re` expects (the banner re-renders as state changes).
export async function waitError(page, re) {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('[data-testid="error"]')?.innerText || ''), re.source, { timeout: 60000 });
  } catch (e) {
    const banner = await page.$('[data-testid="error"]');
    throw new Error(`expected an error matching ${re}, got: ${banner ? await banner.innerText() : 'no error'}`);
  }
}

/**
 * Checks the page's results.json against the native CLI's (ndarray, CPU) on the same
 * configuration (E2E_CLI_RESULTS, written by tests/run-all.sh) and returns the worst difference
 * as a fraction of its tolerance. f32 on two backends: 1e-3 absolute on logit differences (about
 * 10), 2e-4 of each method's largest |score| on scores (seen: under 4e-5). `methods`: those the
 * page ran (the CLI's file has all three); `positions`: whether it ran the per-position scores;
 * `faithfulness`: whether it ran the faithfulness curves (the CLI's file has them).
 */
export function compareWithCli(json, { methods = ['atp', 'ig', 'ap'], positions = true, faithfulness = false, edges = false } = {}) {
  const cliPath = process.env.E2E_CLI_RESULTS;
  if (!cliPath) throw new Error('E2E_CLI_RESULTS is not set (tests/run-all.sh writes it with `gradpatch run`)');
  const cli = JSON.parse(fs.readFileSync(cliPath, 'utf8'));
  let worst = { diff: 0 };
  const close = (a, b, tol, what) => {
    if (Array.isArray(a)) { assert(Array.isArray(b) && a.length === b.length, `${what}: shapes differ`); a.forEach((x, i) => close(x, b[i], tol, `${what}[${i}]`)); return; }
    if (a === null || b === null) { assert(a === b, `${what}: ${a} vs ${b}`); return; }
    const d = Math.abs(a - b) / tol(b);
    if (d > worst.diff) worst = { diff: d, what, a, b };
  };
  for (const p of ['clean_token_ids', 'corrupted_token_ids']) assert(JSON.stringify(json.prompts.map((x) => x[p])) === JSON.stringify(cli.prompts.map((x) => x[p])), `${p} differ`);
  const scale = (t) => Math.max(...t.flat(3).filter((x) => x !== null).map(Math.abs));
  close(json.clean_logit_diff, cli.clean_logit_diff, () => 1e-3, 'clean_logit_diff');
  // Every method the page ran, and the head scores per position (AtP's and AP's are checked by
  // the CLI against the reference's goldens).
  for (const m of ['atp', 'ig', 'ap']) {
    assert(!!json[m] === methods.includes(m), `${m}: ${json[m] ? 'ran, but should not have' : 'missing from the page\'s results'}`);
    if (!json[m]) continue;
    assert(cli[m], `${m} is missing from the CLI's results`);
    for (const k of positions ? ['heads', 'neurons', 'heads_pos'] : ['heads', 'neurons']) {
      assert(json[m][k] && cli[m][k], `${m}.${k} is missing from the ${json[m][k] ? 'CLI\'s' : 'page\'s'} results`);
      const s = scale(cli[m][k]);
      close(json[m][k], cli[m][k], () => 2e-4 * s, `${m}.${k}`);
    }
  }
  // Faithfulness curves (same sets: the random rankings are seeded by each prompt's tokens):
  // 1e-3 absolute on a fraction of the logit difference.
  if (faithfulness) {
    const [f, g] = [json.faithfulness, cli.faithfulness];
    assert(f && g, `faithfulness is missing from the ${f ? 'CLI\'s' : 'page\'s'} results`);
    assert(f.ranking === g.ranking && JSON.stringify(f.k) === JSON.stringify(g.k), 'faithfulness: ranking or set sizes differ');
    for (const kind of ['heads', 'neurons']) {
      for (const m of methods) close(f[m][kind], g[m][kind], () => 1e-3, `faithfulness.${m}.${kind}`);
      for (const q of ['mean', 'p05', 'p95']) close(f.random[kind][q], g.random[kind][q], () => 1e-3, `faithfulness.random.${kind}.${q}`);
    }
  }
  if (edges) compareEdges(json.edges, cli.edges, close);
  assert(worst.diff <= 1, `page vs CLI: ${worst.what} ${worst.a} vs ${worst.b}`);
  return worst;
}

/** Edge scores: every edge's mean, each prompt's listed scores by edge (the order of near-ties
 * may differ), the exact scores of the edges both patched, the curves. */
function compareEdges(e, g, close) {
  assert(e && g, `edges are missing from the ${e ? 'CLI\'s' : 'page\'s'} results`);
  assert(e.n_edges === g.n_edges && e.layers === g.layers && e.heads === g.heads, 'edges: graphs differ');
  const byEdge = (list) => new Map(list.edges.map((x, i) => [x, list.scores[i]]));
  const lists = (what, a, b, tol) => a.forEach((list, p) => {
    const other = byEdge(b[p]);
    const common = list.edges.filter((x) => other.has(x));
    assert(common.length >= 0.95 * list.edges.length, `${what}[${p}]: ${common.length} of ${list.edges.length} edges in common`);
    for (const x of common) close(byEdge(list).get(x), other.get(x), tol, `${what}[${p}] edge ${x}`);
  });
  for (const m of ['eap', 'eapig']) {
    assert(e.scores[m] && g.scores[m], `edges.scores.${m} is missing`);
    const scale = Math.max(...g.scores[m].mean.map(Math.abs));
    close(e.scores[m].mean, g.scores[m].mean, () => 2e-4 * scale, `edges.${m}.mean`);
    lists(`edges.${m}.top`, e.scores[m].top, g.scores[m].top, () => 2e-4 * scale);
  }
  assert(e.exact && g.exact && e.exact.ranked_by === 'eapig' && e.exact.n === g.exact.n, 'edges.exact');
  lists('edges.exact', e.exact.prompts, g.exact.prompts, () => 2e-4);
  for (const m of ['eap', 'eapig']) {
    e.exact.found[m].forEach((f, p) => assert(Math.abs(f - g.exact.found[m][p]) <= 2, `edges.exact.found.${m}[${p}]: ${f} vs ${g.exact.found[m][p]}`));
  }
  if (g.faithfulness) {
    assert(e.faithfulness && JSON.stringify(e.faithfulness.k) === JSON.stringify(g.faithfulness.k), 'edges.faithfulness: set sizes differ');
    for (const m of ['eap', 'eapig']) close(e.faithfulness.methods[m], g.faithfulness.methods[m], () => 1e-3, `edges.faithfulness.${m}`);
    for (const q of ['mean', 'p05', 'p95']) close(e.faithfulness.random[q], g.faithfulness.random[q], () => 1e-3, `edges.faithfulness.random.${q}`);
  }
}

/** The page's results.json, through its export button. */
export async function exportedResults(page) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-json"]')]);
  return JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
}
