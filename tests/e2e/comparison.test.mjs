// The tests of a finished comparison, all on ONE run of the bundled model on WebGPU (AtP, IG,
// AP and the scores per position, 2 prompts): on SwiftShader a run takes about 4 minutes, so a
// run per test took most of CI's 90 minutes. The first test makes the run; each later one
// starts from the tab it needs and leaves the page to the next. When the run fails, the first
// test says why and the others fail at once, naming it.
import fs from 'node:fs';
import { axeViolations } from './axe.mjs';
import { RUN_TIMEOUT, assert, compareWithCli, done, exportedResults, hoverChart, open, test, waitResults } from './lib.mjs';
import { setup } from './setup.mjs';

const { gpu, base, onClose } = await setup();

let ran = null;
const onRun = (name, fn) => test(name, async () => {
  if (!ran) throw new Error('no finished run: the first comparison test failed (see above)');
  await fn(ran);
});

test('WebGPU: the bundled model loads and the comparison (AtP, IG, AP, EAP, EAP-IG, per position, faithfulness) runs on the GPU', async () => {
  const page = await open(gpu, base, '?model=bundled&n=2&seed=3&steps=4&faith=1&eap=1&eapig=5&exact=40&tab=heads&prompt=1');
  await waitResults(page);
  const info = await page.innerText('[data-testid="model-info"]');
  assert(info.includes('WebGPU'), `expected to compute on WebGPU, got: ${info}; notices: ${await page.locator('[data-testid="notice"]').allInnerTexts()}`);
  ran = page;
});

onRun('exports: results.json has the CLI schema and the CLI\'s numbers, charts save as PNG', async (page) => {
  const json = await exportedResults(page);
  for (const k of ['config', 'prompts', 'clean_logit_diff', 'ig', 'ap', 'atp', 'stats', 'stats_pairs', 'faithfulness', 'edges', 'complete']) assert(k in json, `results.json lacks ${k}`);
  assert(json.config.run_eap && json.config.run_eapig && json.config.eapig_steps === 5, 'the edge methods ran');
  for (const p of ['ig_ap', 'atp_ap', 'ig_atp']) assert(json.stats_pairs[p]?.heads, `stats_pairs.${p}`);
  for (const m of ['ig', 'ap', 'atp']) assert(json[m].heads_pos?.length === 2, `${m}.heads_pos`);
  assert(json.prompts.length === 2 && json.ig.heads.length === 2, 'two prompts');
  // Same numbers as the native CLI (ndarray, CPU) on the same configuration.
  const worst = compareWithCli(json, { faithfulness: true, edges: true });
  console.log(`     (page on WebGPU vs CLI on ndarray: worst difference ${worst.diff.toFixed(3)} of the tolerance, at ${worst.what})`);
  await page.click('[data-testid="tab-heads"]');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="ap-heads"] .png')]);
  assert(png.suggestedFilename() === 'ap-heads.png', png.suggestedFilename());
  const bytes = fs.readFileSync(await png.path());
  assert(bytes.subarray(1, 4).toString() === 'PNG' && bytes.length > 2000, 'a PNG image');
});

onRun('charts: hover shows every method\'s score, click selects in every chart and in the URL; the link restores the view', async (page) => {
  await page.click('[data-testid="tab-heads"]');
  // Inside the plot area (left margin ~50 px, top ~30 px).
  const { text, click } = await hoverChart(page, 'ig-heads', 80, 60);
  assert(/^L\d+H\d+: AtP -?[\d.]+, IG -?[\d.]+, AP -?[\d.]+$/.test(text), `tooltip: ${text}`);
  await click();
  const sel = text.split(':')[0];
  await page.waitForFunction((s) => location.hash.includes(`sel=${s}`), sel, { timeout: 5000 });
  assert((await page.innerText('[data-testid="selected"]')).startsWith(sel), `selected: ${await page.innerText('[data-testid="selected"]')}`);
  // The neuron tab: the maps and a top-neuron table per method (15 rows, every score each).
  await page.click('[data-testid="tab-neurons"]');
  await page.waitForSelector('[data-chart="ap-neurons"] canvas');
  const rows = await page.locator('table.top tr.clickable').allInnerTexts();
  assert(rows.length === 45 && rows.every((r) => /^L\d+N\d+(\s+-?[\d.]+){3}$/.test(r.trim())), `${rows.length} rows: ${rows.slice(0, 3).join(' | ')}`);
  await page.click('[data-testid="tab-scatter"]');
  const url = page.url();
  assert(url.includes('tab=scatter') && url.includes('prompt=1') && url.includes(`sel=${sel}`), url);
  // The permalink restores tab, prompt and selection (shown on the CLI's results of the same
  // configuration: running it again would take minutes, and the view does not depend on it).
  const again = await open(gpu, base, `${url.slice(base.length)}&results=${encodeURIComponent(base + 'results/cli.json')}`);
  await again.waitForSelector('[data-chart="scatter-heads"] canvas', { timeout: RUN_TIMEOUT });
  assert((await again.innerText('[data-testid="selected"]')).startsWith(sel), 'selection restored');
  assert(await again.$eval('[data-testid="prompt-select"]', (e) => e.value) === '1', 'prompt restored');
  await done(again);
});

onRun('positions tab: a heatmap per method over the tokens; hover shows token, head and the three scores; click selects', async (page) => {
  await page.click('[data-testid="tab-positions"]');
  for (const m of ['atp', 'ig', 'ap']) await page.waitForSelector(`[data-chart="positions-${m}"] canvas`);
  // Inside the plot area, away from the layer labels (left) and the token labels (bottom).
  const { text, click } = await hoverChart(page, 'positions-ap', 200, 120);
  assert(/^L\d+H\d+ at token \d+ ".*": AtP -?[\d.]+, IG -?[\d.]+, AP -?[\d.]+/.test(text), `tooltip: ${text}`);
  await click();
  const sel = text.split(' ')[0];
  await page.waitForFunction((s) => location.hash.includes(`sel=${s}`), sel, { timeout: 5000 });
  assert((await page.innerText('[data-testid="selected"]')).startsWith(sel), 'selected everywhere');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="positions-atp"] .png')]);
  assert(png.suggestedFilename() === 'positions-atp.png', png.suggestedFilename());
});

onRun('faithfulness tab: a chart per kind with a curve per method and the random band; hover shows k, each value and the component added; a table; PNG', async (page) => {
  await page.click('[data-testid="tab-faithfulness"]');
  await page.waitForFunction(() => location.hash.includes('tab=faithfulness'), null, { timeout: 5000 });
  for (const kind of ['heads', 'neurons']) await page.waitForSelector(`[data-chart="faith-${kind}"] canvas`);
  // Prompt 1 is chosen: the tooltip names the component each method adds at that k.
  const { text } = await hoverChart(page, 'faith-heads', 200, 120);
  assert(/^k = \d+: AtP -?[\d.]+( \(\+L\d+H\d+\))?, IG -?[\d.]+( \(\+L\d+H\d+\))?, AP -?[\d.]+( \(\+L\d+H\d+\))?, random -?[\d.]+/.test(text), `tooltip: ${text}`);
  assert(/\(\+L\d+H\d+\)/.test(text), `names the head added: ${text}`);
  for (const kind of ['heads', 'neurons']) {
    const rows = await page.locator(`[data-testid="faith-table-${kind}"] tr`).allInnerTexts();
    assert(rows.length === 4 && ['AtP', 'IG', 'AP'].every((m) => rows.some((r) => r.includes(m))), `${kind} table: ${rows.join(' | ')}`);
  }
  // The mean over prompts (no prompt chosen): no component names, still every method.
  await page.selectOption('[data-testid="prompt-select"]', 'mean');
  const mean = (await hoverChart(page, 'faith-neurons', 200, 120)).text;
  assert(/^k = \d+: AtP -?[\d.]+, IG -?[\d.]+, AP -?[\d.]+, random/.test(mean), `tooltip: ${mean}`);
  await page.selectOption('[data-testid="prompt-select"]', '1');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="faith-heads"] .png')]);
  assert(png.suggestedFilename() === 'faith-heads.png', png.suggestedFilename());
});

/** Where the Circuit tab draws a head, and the input (charts::graph's layout). */
function graphLayout(layers, heads) {
  const rows = 2 * layers + 2;
  const row = Math.min(48, Math.max(18, 720 / rows));
  const bottom = Math.ceil(56 + rows * row) - 28;
  return { head: (l, h) => [56 + (h + 0.5) * 848 / heads, bottom - (2 * l + 1) * row], input: [480, bottom] };
}

onRun('circuit tab: the top edges as a graph; hover gives an edge\'s three scores, a click selects the head, the slider and the method are in the link; SVG and PNG', async (page) => {
  const json = await exportedResults(page);
  await page.click('[data-testid="tab-circuit"]');
  await page.waitForFunction(() => location.hash.includes('tab=circuit'), null, { timeout: 5000 });
  await page.waitForSelector('[data-chart="circuit-graph"] canvas');
  await page.selectOption('[data-testid="prompt-select"]', 'mean');
  const caption = await page.innerText('[data-testid="graph-caption"]');
  assert(caption.startsWith('EAP-IG edges (mean over prompts)'), caption);
  // Every edge drawn: the slider's maximum is the number of edges.
  const max = await page.$eval('[data-testid="graph-edges"]', (el) => el.max);
  assert(Number(max) === json.edges.n_edges, `slider max ${max} vs ${json.edges.n_edges} edges`);
  await page.$eval('[data-testid="graph-edges"]', (el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); }, max);
  await page.waitForFunction((v) => location.hash.includes(`gk=${v}`), max, { timeout: 5000 });
  // The edge input -> a0.0<k, hovered at its middle: its EAP, EAP-IG and exact scores.
  const g = graphLayout(json.edges.layers, json.edges.heads);
  const [hx, hy] = g.head(0, 0);
  const mid = [(g.input[0] + hx) / 2, (g.input[1] - 6 + hy + 6) / 2];
  const { text } = await hoverChart(page, 'circuit-graph', mid[0], mid[1]);
  const m = /^input->a0\.0<k: EAP (-?[\d.]+), EAP-IG (-?[\d.]+), exact (-?[\d.]+|—)$/.exec(text);
  assert(m, `tooltip: ${text}`);
  const index = 1; // input's edges first: a0.0<q, a0.0<k, …
  assert(Math.abs(Number(m[1]) - json.edges.scores.eap.mean[index]) < 1e-3, `EAP ${m[1]} vs ${json.edges.scores.eap.mean[index]}`);
  assert(Math.abs(Number(m[2]) - json.edges.scores.eapig.mean[index]) < 1e-3, `EAP-IG ${m[2]}`);
  // A click on a head selects it everywhere.
  const [sx, sy] = g.head(1, 2);
  const head = await hoverChart(page, 'circuit-graph', sx, sy);
  assert(head.text.startsWith('L1H2'), head.text);
  await head.click();
  await page.waitForFunction(() => location.hash.includes('sel=L1H2'), null, { timeout: 5000 });
  assert((await page.innerText('[data-testid="selected"]')).startsWith('L1H2'), 'the toolbar shows the selection');
  // The method and the number of edges, in the link.
  await page.selectOption('[data-testid="graph-method"]', 'eap');
  await page.$eval('[data-testid="graph-edges-n"]', (el) => { el.value = '12'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.waitForFunction(() => location.hash.includes('gm=eap') && location.hash.includes('gk=12'), null, { timeout: 5000 });
  assert((await page.innerText('[data-testid="graph-caption"]')).startsWith('EAP edges'), 'EAP shown');
  const table = await page.locator('[data-testid="edge-table"] tr').allInnerTexts();
  assert(table.length === 3 && /^EAP\s+\d+ of \d+ \(top 10 per prompt\)\s+-?\d\.\d{4}/.test(table[1]), table.join(' | '));
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="graph-svg"]')]);
  assert(svg.suggestedFilename() === 'circuit-graph.svg', svg.suggestedFilename());
  const doc = fs.readFileSync(await svg.path(), 'utf8');
  assert(doc.startsWith('<svg') && (doc.match(/<line /g) || []).length === 12, `an SVG with the 12 edges: ${(doc.match(/<line /g) || []).length} lines`);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="circuit-graph"] .png')]);
  assert(png.suggestedFilename() === 'circuit-graph.png', png.suggestedFilename());
  await page.selectOption('[data-testid="prompt-select"]', '1');
});

onRun('pair selector: AtP–AP drives the scatter, overlap and mean difference, and the link', async (page) => {
  await page.click('[data-testid="tab-overlap"]');
  const before = await page.innerText('[data-testid="jaccard-heads"]');
  assert(before.startsWith('IG–AP heads'), before);
  await page.selectOption('[data-testid="pair-select"]', 'atp-ap');
  await page.waitForFunction(() => location.hash.includes('pair=atp-ap'), null, { timeout: 5000 });
  const after = await page.innerText('[data-testid="jaccard-heads"]');
  assert(after.startsWith('AtP–AP heads') && after.includes('|AtP|'), after);
  await page.waitForSelector('[data-chart="top-atp-heads"] canvas');
  await page.click('[data-testid="tab-scatter"]');
  await page.waitForSelector('[data-chart="scatter-heads"] canvas');
  await page.click('[data-testid="tab-summary"]');
  const summary = await page.innerText('[data-testid="summary"]');
  assert(/prompts\s+2/.test(summary), summary);
  for (const vs of ['IG vs AP', 'AtP vs AP', 'IG vs AtP']) assert(summary.includes(`Pearson r ${vs}, heads`), summary);
  // The faithfulness summary per method and kind (area; k at 80%; value at the highlighted set).
  for (const m of ['AtP', 'IG', 'AP']) assert(new RegExp(`faithfulness of ${m} heads \\(area; k at 80%; at the highlighted set\\)\\s+\\d\\.\\d{4}; (\\d+|—); -?\\d\\.\\d{4} \\(\\d+ of them\\)`).test(summary), summary);
});

onRun('accessibility: no serious or critical axe-core violation on the page and on every results tab', async (page) => {
  const found = await axeViolations(page, 'loaded');
  const tabs = await page.locator('[data-testid^="tab-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
  assert(tabs.length >= 7, `tabs: ${tabs}`);
  for (const t of tabs) {
    await page.click(`[data-testid="${t}"]`);
    await page.waitForTimeout(300);
    found.push(...await axeViolations(page, t));
  }
  assert(found.length === 0, found.join('\n'));
});

onClose(async () => { if (ran) await done(ran); });
