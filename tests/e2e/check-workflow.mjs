// Validates the GitHub Pages workflow (it cannot run here): the YAML parses, it has the jobs,
// permissions and actions a Pages deployment needs, and its build step is web/build/release.sh,
// the script tests/run-all.sh runs, so the tested build is the deployed one.
// Usage: node tests/e2e/check-workflow.mjs   (prints "workflow: N passed, N failed")
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { checks } from './checks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = path.join(root, '.github', 'workflows', 'pages.yml');
const { check, finish } = checks('workflow');

let wf;
await check('pages.yml is valid YAML', () => {
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { prettyErrors: true });
  if (doc.errors.length) return doc.errors.map((e) => e.message).join('; ');
  wf = doc.toJS();
});
const steps = (job) => (wf?.jobs?.[job]?.steps || []);
const uses = (job, action) => steps(job).find((s) => typeof s.uses === 'string' && s.uses.startsWith(action + '@'));
await check('it runs on pushes to main and by hand', () => {
  const on = wf?.on || {};
  if (!on.push?.branches?.includes('main')) return 'no push trigger on main';
  if (!('workflow_dispatch' in on)) return 'no workflow_dispatch';
});
await check('permissions are per job: none at the top, the build reads, the deploy publishes', () => {
  const top = wf?.permissions;
  if (!top || typeof top !== 'object' || Object.keys(top).length) return `top-level permissions: ${JSON.stringify(top)}`;
  const b = wf?.jobs?.build?.permissions || {};
  if (JSON.stringify(b) !== JSON.stringify({ contents: 'read' })) return `build permissions: ${JSON.stringify(b)}`;
  const d = wf?.jobs?.deploy?.permissions || {};
  if (d.pages !== 'write' || d['id-token'] !== 'write' || Object.keys(d).length !== 2) return `deploy permissions: ${JSON.stringify(d)}`;
});
await check('every action is pinned by a full commit SHA, and the checkout keeps no credentials', () => {
  const all = Object.entries(wf?.jobs || {}).flatMap(([job, j]) => (j.steps || []).map((s) => [job, s]));
  const loose = all.filter(([, s]) => typeof s.uses === 'string' && !/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/.test(s.uses));
  if (loose.length) return `not pinned by SHA: ${loose.map(([job, s]) => `${job}: ${s.uses}`).join(', ')}`;
  const co = uses('build', 'actions/checkout');
  if (co?.with?.['persist-credentials'] !== false) return 'checkout without persist-credentials: false';
});
await check('every job has a timeout', () => {
  const none = Object.entries(wf?.jobs || {}).filter(([, j]) => !(Number.isInteger(j['timeout-minutes']) && j['timeout-minutes'] > 0));
  if (none.length) return `no timeout-minutes: ${none.map(([k]) => k).join(', ')}`;
});
await check('the build job builds with web/build/release.sh and uploads dist/', () => {
  if (!uses('build', 'actions/checkout')) return 'no checkout';
  if (!steps('build').some((s) => /^bash web\/build\/release\.sh\s*$/.test(s.run || ''))) return 'no `bash web/build/release.sh` step';
  const up = uses('build', 'actions/upload-pages-artifact');
  if (!up || up.with?.path !== 'dist') return 'no upload-pages-artifact of dist';
  const tc = steps('build').find((s) => /rustup toolchain install/.test(s.run || ''));
  const pinned = /rust-version = "([\d.]+)"/.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
  if (!tc || !tc.run.includes(pinned)) return `the toolchain step does not install the pinned rust ${pinned}`;
});
await check('the deploy job needs the build and uses deploy-pages', () => {
  const d = wf?.jobs?.deploy;
  if (!d || d.needs !== 'build') return 'deploy does not need build';
  if (d.environment?.name !== 'github-pages') return 'no github-pages environment';
  if (!uses('deploy', 'actions/deploy-pages')) return 'no deploy-pages';
});
await check('GPT-2 small\'s results are precomputed by the tested script and published in dist/ before the upload', () => {
  const all = steps('build');
  const run = all.findIndex((s) => /bash deploy\/pages\/precompute-gpt2\.sh \.\s*$/m.test(s.run || ''));
  const copy = all.findIndex((s) => /cp -r precomputed dist\//.test(s.run || ''));
  const upload = all.findIndex((s) => typeof s.uses === 'string' && s.uses.startsWith('actions/upload-pages-artifact@'));
  if (run < 0) return 'no `bash deploy/pages/precompute-gpt2.sh .` step';
  if (!(run < copy && copy < upload)) return 'the results must be computed, then copied into dist/, then uploaded';
  const runAll = fs.readFileSync(path.join(root, 'tests', 'run-all.sh'), 'utf8');
  if (!/tests\/precompute-test\.sh/.test(runAll)) return 'tests/run-all.sh does not test the precompute step';
});
await check('the build script is the one tests/run-all.sh runs', () => {
  const runAll = fs.readFileSync(path.join(root, 'tests', 'run-all.sh'), 'utf8');
  if (!/^bash web\/build\/release\.sh/m.test(runAll)) return 'tests/run-all.sh does not build with web/build/release.sh';
});
finish();
