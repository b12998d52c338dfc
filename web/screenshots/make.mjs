// Remakes the README's screenshots of the demo model (demo-heads.png, demo-scatter.png,
// demo-faithfulness.png, demo-circuit.png): the
// page's results viewer showing the CLI's results of the README's configuration (computing 16
// prompts with 50 IG steps on SwiftShader would take most of an hour; the numbers are the same,
// tests/e2e checks the page against the CLI).
//
//   gradpatch run --model web/models/ioi-demo --ioi 16 --seed 0 --methods atp,ig,ap,eap,eapig --faithfulness --out /tmp/demo16.json   (from the repository root)
//   node web/screenshots/make.mjs dist /tmp/demo16.json L0H3
//
// The last argument is the head to select (the README's text names it).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../tests/e2e/server.mjs';

// playwright-core is installed for the browser tests (tests/e2e/node_modules).
const { chromium } = createRequire(new URL('../../tests/e2e/package.json', import.meta.url))('playwright-core');

const [dist, results, sel = 'L0H3'] = process.argv.slice(2);
if (!dist || !results) {
  console.error('usage: node web/screenshots/make.mjs DIST RESULTS_JSON [HEAD]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const { server, base } = await startServer(path.resolve(dist), { cliResults: path.resolve(results) });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  const link = `#results=${encodeURIComponent(base + 'results/cli.json')}&sel=${sel}`;
  const shots = [['heads', 'ap-heads', 'demo-heads.png'], ['scatter', null, 'demo-scatter.png'], ['faithfulness', 'faith-heads', 'demo-faithfulness.png'], ['circuit&gk=40', 'circuit-graph', 'demo-circuit.png']];
  for (const [tab, chart, file] of shots) {
    await page.goto(`${base}${link}&tab=${tab}`);
    await page.waitForSelector(chart ? `[data-chart="${chart}"] canvas` : '[data-chart] canvas', { timeout: 60_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(here, file) });
    console.log(`wrote ${path.join(here, file)}`);
  }
} finally {
  await browser.close();
  server.close();
}
