// The CPU fallback: in a Chromium without WebGPU the page says so and still computes, on
// several threads where the page is cross-origin isolated (the threaded CPU build), on one where
// it is not, with the same numbers either way.
import { chromium } from 'playwright-core';
import { assert, done, exportedResults, open, test, waitResults } from './lib.mjs';
import { startServer } from './server.mjs';
import { common, executablePath, setup } from './setup.mjs';

const { base, dist, onClose: atClose } = await setup({ gpu: false });
const plain = await startServer(dist, { isolated: false });
atClose(async () => plain.server.close());

// Two prompts, IG and AP with 2 steps: the CPU is slow, and the numbers are checked elsewhere.
const LINK = '?model=bundled&n=2&seed=3&steps=2&atp=0&pos=0';

/** Runs LINK on `site` in a browser without WebGPU; returns what the page said and computed. */
async function runOnCpu(site) {
  const cpu = await chromium.launch({ executablePath, headless: true, args: common });
  try {
    const page = await open(cpu, site, LINK);
    await waitResults(page);
    const said = {
      isolated: await page.evaluate(() => self.crossOriginIsolated),
      notices: await page.locator('[data-testid="notice"]').allInnerTexts(),
      info: await page.innerText('[data-testid="model-info"]'),
      results: await exportedResults(page),
    };
    await done(page);
    return said;
  } finally {
    await cpu.close();
  }
}

/** Paths where two results differ, timings and the backend's label apart; counts the numbers. */
function differences(a, b, at = '', seen = { numbers: 0 }) {
  if (/seconds|backend/.test(at)) return [];
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    if (typeof a === 'number') seen.numbers++;
    return Object.is(a, b) ? [] : [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences(a[k], b[k], `${at}.${k}`, seen));
}

let threaded;
test('no WebGPU, cross-origin isolated: the CPU computes on several threads and says so', async () => {
  threaded = await runOnCpu(base);
  assert(threaded.isolated, 'this test host sends COOP and COEP as _headers says: the page should be cross-origin isolated');
  const threads = /CPU \(ndarray, (\d+) threads, SIMD\)/.exec(threaded.info);
  assert(threads && Number(threads[1]) >= 2, `computing on the CPU's threads: ${threaded.info}`);
  assert(threaded.notices.some((n) => n.includes('no WebGPU') && n.includes(`(${threads[1]} threads)`)), threaded.notices.join('\n'));
  // The threaded build's memory is a SharedArrayBuffer: its size is read all the same.
  const heap = Number(/Worker memory ([\d.]+) MB/.exec(threaded.info)?.[1]);
  assert(heap > 1 && heap < 4096, `the worker's memory as the page shows it: ${threaded.info}`);
});

test('not isolated: one thread, saying why, and the same numbers as the threads', async () => {
  const single = await runOnCpu(plain.base);
  assert(!single.isolated, 'a host without COEP: the page is not cross-origin isolated');
  assert(single.notices.some((n) => n.includes('no WebGPU') && n.includes('(one thread)')), single.notices.join('\n'));
  assert(single.info.includes('CPU (ndarray, one thread: the page is not cross-origin isolated, SIMD)'), `computing on one thread: ${single.info}`);
  assert(threaded, 'the threaded run came first');
  // Each part of a sweep is computed alike on whichever thread takes it: equal to the bit.
  const seen = { numbers: 0 };
  const diff = differences(threaded.results, single.results, '', seen);
  assert(diff.length === 0, `the threads' results differ from one thread's:\n${diff.slice(0, 10).join('\n')}`);
  // IG and AP for every head and neuron of the demo model, two prompts: thousands of scores.
  assert(seen.numbers > 1000, `only ${seen.numbers} numbers compared`);
});
