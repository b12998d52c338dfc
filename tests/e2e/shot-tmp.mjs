import { chromium } from 'playwright-core';
import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
const dist = '/work/main/dist';
const server = http.createServer((req, res) => { const u = new URL(req.url, 'http://x'); const f = path.join(dist, u.pathname === '/' ? '/index.html' : u.pathname);
  if (!fs.existsSync(f) || fs.statSync(f).isDirectory()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, {'content-type': f.endsWith('.wasm') ? 'application/wasm' : f.endsWith('.js') ? 'text/javascript' : f.endsWith('.html') ? 'text/html' : f.endsWith('.css') ? 'text/css' : 'application/octet-stream'}); fs.createReadStream(f).pipe(res); });
await new Promise(r => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox','--enable-unsafe-webgpu','--enable-unsafe-swiftshader','--use-webgpu-adapter=swiftshader'] });
const p = await b.newPage({ viewport: { width: 1500, height: 1000 } });
await p.goto(base + process.env.Q);
await p.waitForSelector('[data-chart="ig-heads"] canvas', { timeout: 300000 });
await p.waitForTimeout(500);
for (const t of (process.argv[2] || 'heads').split(',')) { await p.click(`[data-testid="tab-${t}"]`); await p.waitForTimeout(800); await p.screenshot({ path: `/tmp/demo-${t}.png`, fullPage: true }); }
await b.close(); server.close();
