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

test('links: the state lives in the fragment; old ? links still open and are rewritten; long links warn', async () => {
  // An older `?` link opens as before, and the address moves its state to the fragment.
  const page = await open(gpu, base, '?model=bundled&n=3&seed=5&ig=0&ap=0&atp=0');
  await page.waitForFunction(() => location.hash.includes('n=3') && location.search === '', null, { timeout: 10000 });
  assert(await page.inputValue('[data-testid="n"]') === '3', 'the old link set N');
  // A change is written to the fragment only: nothing of the state reaches the server.
  await page.fill('[data-testid="n"]', '6');
  await page.dispatchEvent('[data-testid="n"]', 'change');
  await page.waitForFunction(() => location.hash.includes('n=6'), null, { timeout: 5000 });
  assert(!page.url().includes('?'), page.url());
  // A fragment pasted into the address bar opens what it names (a fragment alone does not reload).
  const reloaded = page.waitForEvent('load');
  await page.evaluate(() => { location.hash = 'model=bundled&n=7&seed=5&ig=0&ap=0&atp=0'; });
  await reloaded;
  await page.waitForFunction(() => document.querySelector('[data-testid="n"]')?.value === '7', null, { timeout: 10000 });
  assert(await page.$('[data-testid="long-link"]') === null, 'a short link gives no warning');
  await done(page);

  // A link over 8 KB (long custom pairs) is flagged with its size next to "Copy link".
  const field = 'x'.repeat(250);
  const pairs = Array.from({ length: 20 }, (_, i) => `${field} ${i}|${field}|a|b`).join('\n');
  const p2 = await open(gpu, base, `#model=bundled&ig=0&ap=0&atp=0&task=custom&pairs=${encodeURIComponent(pairs)}`);
  const note = await p2.waitForSelector('[data-testid="long-link"]', { timeout: 10000 });
  const text = await note.innerText();
  assert(/This link is \d+\.\d KB, over the 8 KB/.test(text), text);
  const kb = Number(text.match(/(\d+\.\d) KB/)[1]);
  const href = await p2.evaluate(() => location.href.length);
  assert(Math.abs(kb - href / 1024) < 0.1, `${kb} KB named, the address is ${href} bytes`);
  await done(p2);
});
