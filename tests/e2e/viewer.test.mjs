// The results viewer: a results.json written by the CLI opens by file and by link,
// with no model, and shows the statistics the file holds; the highlight quantile recomputes
// them as a CLI run at that quantile computes them; bad files and other sites are handled.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, done, hoverChart, open, test, waitError } from './lib.mjs';
import { setup } from './setup.mjs';

const cliPath = () => {
  const p = process.env.E2E_CLI_RESULTS;
  if (!p) throw new Error('E2E_CLI_RESULTS is not set (tests/run-all.sh writes it with `gradpatch run`)');
  return p;
};
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

const PAIRS = [['ig_ap', 'IG vs AP'], ['atp_ap', 'AtP vs AP'], ['ig_atp', 'IG vs AtP']];

/** The summary table as { row title: cell text }. */
async function summary(page) {
  await page.click('[data-testid="tab-summary"]');
  await page.waitForSelector('[data-testid="summary"]');
  const rows = await page.$$eval('[data-testid="summary"] tr', (trs) => trs.map((tr) => [tr.querySelector('th').innerText, tr.querySelector('td').innerText]));
  return Object.fromEntries(rows);
}

/**
 * Checks that the summary shows the statistics of `file` (a results.json): Pearson r and the
 * Jaccard overlap of every pair, as the page prints them (4 decimals).
 */
function sameStats(shown, file) {
  const pct = Math.round(100 * (1 - file.config.percentile));
  let n = 0;
  for (const [key, vs] of PAIRS) {
    const stats = file.stats_pairs?.[key];
    if (!stats) continue;
    for (const kind of ['heads', 'neurons']) {
      const c = stats[kind];
      const pearson = shown[`Pearson r ${vs}, ${kind} (mean ± std over prompts)`];
      assert(pearson === `${c.pearson_mean.toFixed(4)} ± ${c.pearson_std.toFixed(4)}`, `${vs} ${kind} Pearson: page ${pearson}, file ${c.pearson_mean} ± ${c.pearson_std}`);
      const jaccard = shown[`top-${pct}% Jaccard overlap ${vs}, ${kind}`];
      assert(jaccard === c.jaccard_mean.toFixed(4), `${vs} ${kind} top-${pct}% Jaccard: page ${jaccard}, file ${c.jaccard_mean}`);
      n += 2;
    }
  }
  assert(n === 12, `expected the statistics of 3 pairs in the file, compared ${n / 4}`);
}

/** Records the page's requests for model files (none may be made by a results link). */
function watchModels(page) {
  const seen = [];
  page.on('request', (r) => { if (/safetensors|tokenizer\.json|huggingface/.test(r.url())) seen.push(r.url()); });
  return seen;
}

const { gpu, base, origin } = await setup();

test('results viewer: the CLI results.json opens from a file, no model, with its configuration read only; the quantile recomputes the statistics', async () => {
  const cli = readJson(cliPath());
  const page = await open(gpu, base, '?tab=summary');
  const models = watchModels(page);
  await page.setInputFiles('[data-testid="results-file"]', cliPath());
  await page.waitForSelector('[data-testid="summary"]', { timeout: 30000 });
  const shown = await summary(page);
  assert(shown['results from'] === `the file ${path.basename(cliPath())}`, `results from: ${shown['results from']}`);
  assert(shown.model === cli.config.model && /^ioi: corrupt aba, n 2, seed 3$/.test(shown['prompts from']), JSON.stringify(shown));
  sameStats(shown, cli);
  assert(await page.$('[data-testid="model-info"]') === null, 'no model was loaded');
  // The form shows the file's configuration, read only, and says so.
  const form = await page.innerText('[data-testid="file-config"]');
  assert(/read only/.test(form) && form.includes(cli.config.model) && /IOI, 2 pairs, seed 3, aba/.test(form)
    && /AtP, EAP, EAP-IG, IG, AP/.test(form) && form.includes(`${cli.config.ig_steps} steps`)
    && form.includes('EAP-IG 5 steps; exact patching of the top 40 by |EAP-IG|'), form);
  assert(await page.$('[data-testid="run"]') === null, 'no Run while a file is shown');
  // Another quantile: the statistics of a CLI run at 0.8, from the same scores.
  const at80 = process.env.E2E_CLI_RESULTS_PCT;
  if (!at80) throw new Error('E2E_CLI_RESULTS_PCT is not set (tests/run-all.sh writes it with `gradpatch run --percentile 0.8`)');
  await page.$eval('[data-testid="pct"]', (el) => { el.value = '0.8'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.waitForFunction(() => location.hash.includes('pct=0.8'), null, { timeout: 5000 });
  sameStats(await summary(page), readJson(at80));
  // A file that is not results: an error naming the field, and the results stay.
  const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-viewer-')), 'bad.json');
  const broken = readJson(cliPath());
  broken.ig.heads[1][0] = [1, 2];
  fs.writeFileSync(bad, JSON.stringify(broken));
  await page.setInputFiles('[data-testid="results-file"]', bad);
  await waitError(page, /bad\.json is not a results\.json this page can show: `ig\.heads\[1\]\[0\]`: prompt 1 has/);
  assert((await summary(page))['results from'].includes(path.basename(cliPath())), 'the results on screen stay');
  assert(models.length === 0, `model files requested: ${models.join(', ')}`);
  // Closing the file brings the page's own configuration back.
  await page.click('[data-testid="close-file-config"]');
  await page.waitForSelector('[data-testid="config-panel"]');
  assert(await page.$('[data-testid="summary"]') === null, 'the file is closed');
  await done(page);
});

test('results viewer: a link opens results with its view (tab, prompt, sel, pair, pct); charts hover and the keyboard work without a model', async () => {
  const cli = readJson(cliPath());
  const link = encodeURIComponent(base + 'results/cli.json');
  const page = await open(gpu, base, `?results=${link}&tab=positions&prompt=1&sel=L0H1&pair=atp-ap`);
  const models = watchModels(page);
  for (const m of ['atp', 'ig', 'ap']) await page.waitForSelector(`[data-chart="positions-${m}"] canvas`, { timeout: 30000 });
  assert(await page.$('[data-testid="confirm-results"]') === null, 'a link on the same site does not ask');
  assert((await page.innerText('[data-testid="selected"]')).startsWith('L0H1: AtP'), await page.innerText('[data-testid="selected"]'));
  assert(await page.$eval('[data-testid="pair-select"]', (e) => e.value) === 'atp-ap', 'pair from the link');
  // The token text comes from the file.
  const { text } = await hoverChart(page, 'positions-ap', 200, 120);
  const m = /^L\d+H\d+ at token (\d+) "(.*)": AtP -?[\d.]+, IG -?[\d.]+, AP -?[\d.]+/.exec(text);
  assert(m, `tooltip: ${text}`);
  assert(m[2] === cli.prompts[1].clean_tokens[Number(m[1])], `token ${m[1]}: "${m[2]}" vs the file's "${cli.prompts[1].clean_tokens[Number(m[1])]}"`);
  // The keyboard moves over the heads (dimensions from the scores).
  await page.click('[data-testid="tab-heads"]');
  await page.focus('[data-chart="ig-heads"] canvas');
  await page.keyboard.press('ArrowRight');
  const cursor = await page.innerText('[data-chart="ig-heads"] [data-testid="cursor"]');
  assert(cursor.startsWith('L0H2'), `cursor after → from L0H1: ${cursor}`);
  const shown = await summary(page);
  assert(shown['results from'] === `the link ${base}results/cli.json`, shown['results from']);
  sameStats(shown, cli);
  assert(page.url().includes(`results=${link}`), `the link keeps naming the file: ${page.url()}`);
  await done(page);
  // The link's own quantile applies to the file.
  const p2 = await open(gpu, base, `?results=${link}&tab=summary&pct=0.8`);
  await p2.waitForSelector('[data-testid="summary"]', { timeout: 30000 });
  sameStats(await summary(p2), readJson(process.env.E2E_CLI_RESULTS_PCT));
  assert(models.length === 0, `model files requested: ${models.join(', ')}`);
  await done(p2);
});

test('results viewer: another site asks first; broken, oversized and non-JSON files say why', async () => {
  // localhost is another origin than 127.0.0.1.
  const other = origin.replace('127.0.0.1', 'localhost') + new URL(base).pathname + 'results/cli.json';
  const page = await open(gpu, base, `?results=${encodeURIComponent(other)}&tab=summary`);
  let fetched = false;
  page.on('request', (r) => { if (r.url() === other) fetched = true; });
  await page.waitForSelector('[data-testid="confirm-results"]');
  // The host (and port) the browser will fetch from, as it resolves the link.
  const shown = await page.innerText('[data-testid="confirm-results-host"]');
  assert(shown === new URL(other).host, `the host is shown: ${shown}`);
  await page.waitForTimeout(500);
  assert(!fetched, 'nothing fetched before the user agrees');
  await page.click('[data-testid="confirm-results-go"]');
  await page.waitForSelector('[data-testid="summary"]', { timeout: 30000 });
  assert((await summary(page))['results from'] === `the link ${other}`, 'opened after agreeing');
  await done(page);
  for (const [file, re] of [
    ['broken.json', /`prompts\[1\]\.labels`: invalid length 1, expected an array of length 2/],
    ['huge.json', /the server announces 572 MiB, more than the 512 MiB this page opens/],
    // Under 1 MB on the wire: refused once 512 MiB have inflated, not after all of it.
    ['bomb.json', /it is larger than the 512 MiB this page opens/],
    ['page.json', /not a results\.json: expected value at line 1 column 1/],
    ['missing.json', /HTTP 404/],
  ]) {
    // A path on the page's site.
    const p = await open(gpu, base, `?results=results/${file}`);
    await waitError(p, re);
    assert(await p.$('[data-testid="summary"]') === null, 'nothing shown');
    await done(p);
  }
});

test('circuit tab by link: the method, the number of edges and the selection come from the link and stay in it; the circuit file\'s true edges are haloed with their share', async () => {
  const q = 'tab=circuit&gm=eap&gk=30&sel=L1H2';
  const page = await open(gpu, base, `?results=results/cli.json&circuit=results/demo-circuit.json&${q}`);
  await page.waitForSelector('[data-chart="circuit-graph"] canvas', { timeout: 30000 });
  assert(await page.$eval('[data-testid="graph-method"]', (el) => el.value) === 'eap', 'the method from the link');
  assert(await page.$eval('[data-testid="graph-edges"]', (el) => el.value) === '30', 'the edge count from the link');
  assert((await page.innerText('[data-testid="selected"]')).startsWith('L1H2'), 'the selection from the link');
  await page.waitForFunction(() => /\d+ of the 30 edges drawn \(\d+%\) lie on the connections/.test(document.querySelector('[data-testid="graph-circuit"]')?.innerText || ''), null, { timeout: 10000 });
  assert((await page.innerText('[data-testid="graph-circuit"]')).includes('demo-circuit.json'), 'names the circuit');
  for (const p of q.split('&')) assert(page.url().includes(p), `the link keeps ${p}: ${page.url()}`);
  // The SVG has a halo (wider, yellow) under each drawn edge on the circuit.
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="graph-svg"]')]);
  const doc = fs.readFileSync(await svg.path(), 'utf8');
  const on = Number(/^(\d+) of/.exec(await page.innerText('[data-testid="graph-circuit"]'))[1]);
  assert((doc.match(/stroke="#ffd666"/g) || []).length === on && (doc.match(/<line /g) || []).length === 30 + on, `${on} halos`);
  // Results without edge scores say how to get them.
  const plain = await open(gpu, base, '?results=results/no-edges.json&tab=circuit');
  await plain.waitForSelector('[data-testid="graph-none"]', { timeout: 30000 });
  await done(plain);
  await done(page);
});

test('circuit scoreboard: a circuit file for the demo model scores every method as the CLI does, outlines heads and positions; circuit=none hides it; a bad file changes nothing', async () => {
  const fixture = fileURLToPath(new URL('./fixtures/demo-circuit.json', import.meta.url));
  const page = await open(gpu, base, '?results=results/cli.json&circuit=results/demo-circuit.json&tab=summary&prompt=0');
  await page.waitForSelector('[data-testid="scoreboard"]', { timeout: 30000 });
  assert(/Scoring against .*demo-circuit\.json \(4 heads in 3 classes\)/.test(await page.innerText('[data-testid="circuit-in-use"]')), 'the circuit in use');
  // The page's AUCs equal the CLI's `score-circuit --json` on the same file and circuit.
  const cli = path.join(process.env.CARGO_TARGET_DIR || 'target', 'debug', 'gradpatch');
  const board = JSON.parse(execFileSync(cli, ['score-circuit', cliPath(), '--circuit', fixture, '--json'], { encoding: 'utf8' }));
  const rows = await page.$$eval('[data-testid="scoreboard"] tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.innerText)));
  for (const [key, label] of [['atp', 'AtP'], ['ig', 'IG'], ['ap', 'AP']]) {
    const start = rows.findIndex((r) => r[0].startsWith(`${label} (ranked`));
    assert(start >= 0, `${label}'s block: ${JSON.stringify(rows)}`);
    for (const [i, set] of board.methods[key].sets.entries()) {
      const row = rows[start + 1 + i];
      assert(row[0] === set.name, `${label}: ${row[0]} vs ${set.name}`);
      const auc = set.auc === null ? '—' : set.auc.toFixed(4);
      assert(row[2] === auc || Math.abs(Number(row[2]) - set.auc) < 1e-4, `${label} ${set.name}: AUC ${row[2]} vs the CLI's ${set.auc}`);
    }
    const pp = await page.innerText(`[data-testid="per-position-${key}"]`);
    assert(Math.abs(Number(pp) - board.methods[key].per_position.auc) < 1e-4, `${label} per position ${pp}`);
  }
  // The heads tab outlines the circuit (a legend and a switch, in the link).
  await page.click('[data-testid="tab-heads"]');
  const legend = await page.innerText('[data-testid="circuit-legend"]');
  assert(legend.includes('late (2, at END)') && legend.includes('early (1, at S1+1)'), legend);
  await page.click('[data-testid="outlines"]');
  await page.waitForFunction(() => location.hash.includes('outline=0'), null, { timeout: 5000 });
  await page.click('[data-testid="outlines"]');
  // The positions tab says where each class acts in the chosen prompt.
  await page.click('[data-testid="tab-positions"]');
  const where = await page.innerText('[data-testid="circuit-positions"]');
  assert(/late at END = token \d+/.test(where) && /middle at S2 = token \d+/.test(where) && /early at S1\+1 = token \d+/.test(where), where);
  // A bad circuit file is refused naming the entry; the scoreboard stays.
  const bad = path.join(os.tmpdir(), `bad-circuit-${process.pid}.json`);
  fs.writeFileSync(bad, JSON.stringify({ classes: [{ name: 'x', acts_at: 'END', heads: [[7, 0]] }, { name: 'y', acts_at: 'S9', heads: [[0, 0]] }] }));
  await page.click('[data-testid="tab-summary"]');
  await page.setInputFiles('[data-testid="circuit-file"]', bad);
  await waitError(page, /Circuit file bad-circuit-\d+\.json: class “y”: unknown position “S9”/);
  assert(await page.$('[data-testid="scoreboard"]') !== null, 'the scoreboard stays');
  // A circuit file dropped onto the chooser is read like a picked one.
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped-circuit.json', { type: 'application/json' }));
    document.querySelector('[data-testid="circuit-chooser"]').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, fs.readFileSync(fixture, 'utf8'));
  await page.waitForFunction(() => /dropped-circuit\.json \(4 heads in 3 classes\)/.test(document.querySelector('[data-testid="circuit-in-use"]')?.innerText || ''), null, { timeout: 10000 });
  // GPT-2 small's circuit does not fit the demo model: said, naming a head.
  await page.selectOption('[data-testid="circuit-choice"]', 'bundled');
  await page.waitForSelector('[data-testid="scoreboard-error"]');
  assert(/head L9H9 is outside the model \(3 layers × 4 heads\)/.test(await page.innerText('[data-testid="scoreboard-error"]')), 'names the head');
  // `none`: no scoreboard, no outlines, and the link says so.
  await page.selectOption('[data-testid="circuit-choice"]', 'none');
  await page.waitForFunction(() => location.hash.includes('circuit=none'), null, { timeout: 5000 });
  assert(await page.$('[data-testid="scoreboard"]') === null && await page.$('[data-testid="scoreboard-error"]') === null, 'no scoreboard');
  await page.click('[data-testid="tab-heads"]');
  assert(await page.$('[data-testid="circuit-legend"]') === null, 'no legend');
  await done(page);
});

/** Writes `text` (a string or an array of strings) to a temporary file named `name`. */
function tmpFile(dir, name, text) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, Array.isArray(text) ? text.join('') : text);
  return p;
}

test('results viewer: files that would expand beyond the page\'s budget are refused, read off the page\'s thread; big scatters draw a sample', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-budget-'));
  const head = '{"config": {"model": "m", "percentile": 0.9, "prompts_source": ';
  const crafted = [
    // 10⁵ prompts (each an empty object: small on disk, a record each in memory).
    ['many-prompts.json', [head, '"x"}, "prompts": [', Array(100000).fill('{}').join(','), ']}'],
      /more than 4096 prompts, the most this page shows at once/],
    // 5 million empty arrays: 15 MB of `[],` would be 5 million vectors.
    ['empty-arrays.json', [head, '"x"}, "prompts": [], "ig": {"heads": [', Array(5_000_000).fill('[]').join(','), ']}}'],
      /holds more than 4194304 arrays, the most this page builds from one file/],
    // A 100 MB prompts_source.
    ['huge-source.json', [head, '"', 'x'.repeat(100 << 20), '"}, "prompts": []}'],
      /`config\.prompts_source` is 104857600 bytes, more than the 4 MiB this page shows/],
  ];
  const page = await open(gpu, base, '#tab=summary');
  for (const [name, text, re] of crafted) {
    const file = tmpFile(dir, name, text);
    // A timer on the page's thread: the longest gap between its ticks while the file is read.
    await page.evaluate(() => {
      window.__gap = 0;
      let last = performance.now();
      clearInterval(window.__tick);
      window.__tick = setInterval(() => { const now = performance.now(); window.__gap = Math.max(window.__gap, now - last); last = now; }, 20);
    });
    await page.setInputFiles('[data-testid="results-file"]', file);
    await waitError(page, new RegExp(`Open results: ${name} could not be read|${re.source}`));
    const banner = await page.innerText('[data-testid="error"]');
    assert(re.test(banner), `${name}: ${banner}`);
    const gap = await page.evaluate(() => window.__gap);
    console.log(`${name} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB): refused; longest pause of the page's thread ${gap.toFixed(0)} ms`);
    assert(gap < 1000, `${name}: the page's thread paused ${gap.toFixed(0)} ms`);
    assert(await page.$('[data-testid="summary"]') === null, 'nothing shown');
    fs.rmSync(file);
  }
  // The page still works: a real file opens after them.
  await page.setInputFiles('[data-testid="results-file"]', process.env.E2E_CLI_RESULTS_PCT);
  await page.waitForSelector('[data-testid="summary"]', { timeout: 30000 });
  await done(page);

  // 32 prompts of the demo model: 49,152 neuron points pooled, more than a scatter draws.
  const r = readJson(process.env.E2E_CLI_RESULTS_PCT);
  const k = 16;
  const rep = (a) => Array.from({ length: k }, () => a).flat();
  r.prompts = rep(r.prompts);
  r.clean_logit_diff = rep(r.clean_logit_diff);
  r.corrupted_logit_diff = rep(r.corrupted_logit_diff);
  for (const m of ['ig', 'ap', 'atp']) for (const [key, v] of Object.entries(r[m])) r[m][key] = rep(v);
  delete r.stats;
  delete r.stats_pairs;
  const big = tmpFile(dir, 'many.json', JSON.stringify(r));
  const p2 = await open(gpu, base, '#tab=scatter');
  await p2.setInputFiles('[data-testid="results-file"]', big);
  const note = await p2.waitForSelector('[data-testid="sampled-scatter-neurons"]', { timeout: 30000 });
  const total = r.prompts.length * r.ig.neurons[0].flat().length;
  const text = await note.innerText();
  assert(text.startsWith(`20,000 of ${total.toLocaleString('en-US')} points drawn`), text);
  assert(await p2.$('[data-testid="sampled-scatter-heads"]') === null, 'the heads scatter draws all its points');
  await done(p2);
  fs.rmSync(dir, { recursive: true, force: true });
});
