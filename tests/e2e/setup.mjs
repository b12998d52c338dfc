// What each test file starts with: the built site on its test server (server.mjs) and a
// headless Chromium with WebGPU on SwiftShader, both closed when the file's tests end.
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { watchCspReports } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
export const common = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
export const gpuArgs = [...common, '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'];

/**
 * Serves E2E_DIST (default dist/) and, unless `gpu` is false, launches the WebGPU browser;
 * The page is cross-origin isolated as `_headers` says; `isolated: false` serves it without COEP
 * (server.mjs).
 * Returns what the tests need: `{ dist, base, origin, closed, gpu, onClose }` (`onClose(fn)`
 * runs `fn` when the file's tests are over, before the browser closes).
 */
export async function setup({ gpu: withGpu = true, isolated = true } = {}) {
  const dist = path.resolve(process.env.E2E_DIST || path.join(here, '..', '..', 'dist'));
  if (!fs.existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html not found: build the page first (bash web/build/release.sh)`);
  }
  const { server, base, origin, reports, closed } = await startServer(dist, {
    gpt2Dir: process.env.E2E_GPT2_DIR,
    gpt2MediumDir: process.env.E2E_GPT2_MEDIUM_DIR,
    gpt2DistilDir: process.env.E2E_GPT2_DISTIL_DIR,
    cliResults: process.env.E2E_CLI_RESULTS,
    isolated,
  });
  watchCspReports(reports);
  const gpu = withGpu ? await chromium.launch({ executablePath, headless: true, args: gpuArgs }) : null;
  // Run before the browser and the server close, the last registered first.
  const closing = [];
  after(async () => {
    for (const close of closing.reverse()) await close();
    await gpu?.close();
    server.close();
  });
  return { dist, base, origin, closed, gpu, onClose: (close) => closing.push(close) };
}
