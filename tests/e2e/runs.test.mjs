// A comparison while it runs: each method's results are shown as soon as it finishes, and a
// cancel keeps the prompts that finished.
import { RUN_TIMEOUT, assert, done, hoverChart, open, test } from './lib.mjs';
import { setup } from './setup.mjs';

const { gpu, base } = await setup();

test('results appear as each method finishes: AtP while IG and AP still run', async () => {
  // Enough IG steps that IG and AP run for a while after AtP (still a link that runs without
  // asking); AP alone takes minutes on SwiftShader.
  const page = await open(gpu, base, '?model=bundled&n=3&seed=1&steps=100&pos=0');
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

test('cancel keeps the prompts that finished', async () => {
  const page = await open(gpu, base, '?model=bundled&n=40&steps=4&atp=0&pos=0');
  await page.waitForSelector('[data-testid="run-progress"]', { timeout: RUN_TIMEOUT });
  await page.waitForFunction(() => /prompt [2-9]/.test(document.querySelector('[data-testid="run-progress"]')?.innerText || ''), null, { timeout: RUN_TIMEOUT });
  await page.click('[data-testid="cancel"]');
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('[data-testid="status"]')?.innerText || ''), null, { timeout: 120000 });
  await page.click('[data-testid="tab-summary"]');
  const summary = await page.innerText('[data-testid="summary"]');
  assert(summary.includes('cancelled'), summary);
  await done(page);
});
