// End-to-end tests of the built page in headless Chromium: WebGPU on SwiftShader, and the CPU
// fallback in a Chromium without WebGPU. The site is served under a sub-path with its
// Content-Security-Policy (server.mjs); any violation fails the test that caused it.
//
// Usage: node tests/e2e/run.mjs [dist-dir] [node --test options, e.g. --test-name-pattern=…]
// The tests are Node's test runner's, one file per area (*.test.mjs), run one file at a time
// (SwiftShader shares the 2 cores); one test alone:
//   node tests/e2e/run.mjs dist --test-name-pattern="results viewer"
// or `E2E_DIST=dist node --test tests/e2e/viewer.test.mjs`.
// Environment: CHROMIUM=/usr/bin/chromium by default; E2E_GPT2_DIR=a GPT-2-small-shaped model
// from `gradpatch make-random-gpt2`, served at gpt2/; E2E_GPT2_MEDIUM_DIR and
// E2E_GPT2_DISTIL_DIR=the same with `--preset medium` and `--preset distil`, served at
// gpt2-medium/ and gpt2-distil/; E2E_CLI_RESULTS=the CLI's results.json for the parity test and
// the results viewer; E2E_CLI_RESULTS_PCT=the same run at --percentile 0.8;
// E2E_ARTEFACTS=folder for screenshots, default target/e2e-artefacts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 10)) {
  console.error(`error: Node.js ${process.versions.node} is too old for the browser tests: they need 20.10 or newer (node --test with --test-concurrency and a custom reporter)`);
  process.exit(1);
}
const args = process.argv.slice(2);
const dist = path.resolve(args[0] && !args[0].startsWith('--') ? args.shift() : path.join(here, '..', '..', 'dist'));
if (!fs.existsSync(path.join(dist, 'index.html'))) {
  console.error(`error: ${dist}/index.html not found: build the page first (bash web/build/release.sh)`);
  process.exit(1);
}
// Every area (Node's runner takes them in name order).
const files = fs.readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort()
  .map((name) => path.join(here, name));
const result = spawnSync(process.execPath, [
  '--test', '--test-concurrency=1',
  `--test-reporter=${path.join(here, 'reporter.mjs')}`, '--test-reporter-destination=stdout',
  ...args, ...files,
], { stdio: 'inherit', env: { ...process.env, E2E_DIST: dist } });
process.exit(result.status ?? 1);
