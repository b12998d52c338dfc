// Links and downloads: bad parameters warn and text from a link stays text, a model on another
// site is asked for first, a wrong file is refused early and a failed download offers the
// bundled model.
import { RUN_TIMEOUT, assert, done, open, test, waitError } from './lib.mjs';
import { setup } from './setup.mjs';

const { gpu, base } = await setup();

test('links: bad parameters warn, text from the URL stays text, unknown model URLs ask first', async () => {
  const evil = encodeURIComponent('<img src=x onerror="window.__owned=1">|b|c|d');
  const page = await open(gpu, base, `?model=bundled&n=0&zzz=1&zzz=2&task=custom&pairs=${evil}&tab=prompts`);
  await page.waitForSelector('[data-testid="warning"]');
  const warnings = await page.locator('[data-testid="warning"]').allInnerTexts();
  assert(warnings.some((w) => w.includes('`n`')) && warnings.some((w) => w.includes('`zzz`')), warnings.join('\n'));
  // Two equal warnings are two banners (they were keyed by their text).
  assert(warnings.filter((w) => w.includes('`zzz`')).length === 2, warnings.join('\n'));
  assert(await page.$('img') === null, 'no element from the URL');
  assert(await page.evaluate(() => window.__owned) === undefined, 'no script from the URL');
  await done(page);
  let requested = false;
  const p2 = await open(gpu, base, `?model=${encodeURIComponent(base + 'elsewhere/')}`);
  p2.on('request', (r) => { if (r.url().includes('/elsewhere/')) requested = true; });
  await p2.waitForSelector('[data-testid="confirm-url"]');
  await p2.waitForTimeout(1000);
  assert(!requested, 'nothing downloaded before the user agrees');
  await done(p2);
});

test('downloads: a wrong file is refused early, a failed download offers the bundled model', async () => {
  const page = await open(gpu, base, `?model=${encodeURIComponent(base + 'html/')}`);
  await page.click('[data-testid="confirm-url"] button');
  await waitError(page, /refused after \d+ bytes: not a safetensors file/);
  await done(page);
  const p2 = await open(gpu, base, `?model=${encodeURIComponent(base + 'fail/')}`);
  await p2.click('[data-testid="confirm-url"] button');
  await waitError(p2, /HTTP 404/);
  await p2.click('[data-testid="error"] button');
  await p2.waitForSelector('[data-testid="model-info"]', { timeout: RUN_TIMEOUT });
  await done(p2);
});
