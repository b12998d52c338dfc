// The CPU fallback: in a Chromium without WebGPU the page says so and still computes.
import { chromium } from 'playwright-core';
import { assert, done, open, test, waitResults } from './lib.mjs';
import { common, executablePath, setup } from './setup.mjs';

const { base } = await setup({ gpu: false });

test('no WebGPU: the CPU fallback says so and gives results', async () => {
  const cpu = await chromium.launch({ executablePath, headless: true, args: common });
  try {
    // One prompt, IG and AP with 2 steps: the CPU is slow, and the numbers are checked elsewhere.
    const page = await open(cpu, base, '?model=bundled&n=1&seed=3&steps=2&atp=0&pos=0');
    await waitResults(page);
    const notices = await page.locator('[data-testid="notice"]').allInnerTexts();
    // It says it computes on one thread (a page that is not a threaded build never has more).
    assert(notices.some((n) => n.includes('no WebGPU') && n.includes('(one thread)')), notices.join('\n'));
    const info = await page.innerText('[data-testid="model-info"]');
    assert(info.includes('CPU (ndarray, one thread, SIMD)'), `computing on the CPU: ${info}`);
    await done(page);
  } finally {
    await cpu.close();
  }
});
