// Validates the GitHub Pages workflow (it cannot run here): the YAML parses, it has the jobs,
// permissions and actions a Pages deployment needs, and its build step is web/build/release.sh,
// the script tests/run-all.sh runs, so the tested build is the deployed one.
// Usage: node tests/e2e/check-workflow.mjs   (prints "workflow: N passed, N failed")
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = path.join(root, '.github', 'workflows', 'pages.yml');
let passed = 0, failed = 0;
function check(name, fn) {
  try {
    const why = fn();
    if (why) throw new Error(why);
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

let wf;
check('pages.yml is valid YAML', () => {
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { prettyErrors: true });
  if (doc.errors.length) return doc.errors.map((e) => e.message).join('; ');
  wf = doc.toJS();
});
const steps = (job) => (wf?.jobs?.[job]?.steps || []);
const uses = (job, action) => steps(job).find((s) => typeof s.uses === 'string' && s.uses.startsWith(action + '@'));
check('it runs on pushes to main and by hand', () => {
  const on = wf?.on || {};
  if (!on.push?.branches?.includes('main')) return 'no push trigger on main';
  if (!('workflow_dispatch' in on)) return 'no workflow_dispatch';
});
check('it has the permissions Pages needs', () => {
  const p = wf?.permissions || {};
  if (p.pages !== 'write' || p['id-token'] !== 'write') return `permissions: ${JSON.stringify(p)}`;
});
check('the build job builds with web/build/release.sh and uploads dist/', () => {
  if (!uses('build', 'actions/checkout')) return 'no checkout';
  if (!steps('build').some((s) => /^bash web\/build\/release\.sh\s*$/.test(s.run || ''))) return 'no `bash web/build/release.sh` step';
  const up = uses('build', 'actions/upload-pages-artifact');
  if (!up || up.with?.path !== 'dist') return 'no upload-pages-artifact of dist';
  const tc = steps('build').find((s) => /rustup toolchain install/.test(s.run || ''));
  const pinned = /rust-version = "([\d.]+)"/.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
  if (!tc || !tc.run.includes(pinned)) return `the toolchain step does not install the pinned rust ${pinned}`;
});
check('the deploy job needs the build and uses deploy-pages', () => {
  const d = wf?.jobs?.deploy;
  if (!d || d.needs !== 'build') return 'deploy does not need build';
  if (d.environment?.name !== 'github-pages') return 'no github-pages environment';
  if (!uses('deploy', 'actions/deploy-pages')) return 'no deploy-pages';
});
check('GPT-2 small\'s results are precomputed by the tested script and published in dist/ before the upload', () => {
  const all = steps('build');
  const run = all.findIndex((s) => /bash deploy\/pages\/precompute-gpt2\.sh \.\s*$/m.test(s.run || ''));
  const copy = all.findIndex((s) => /cp -r precomputed dist\//.test(s.run || ''));
  const upload = all.findIndex((s) => typeof s.uses === 'string' && s.uses.startsWith('actions/upload-pages-artifact@'));
  if (run < 0) return 'no `bash deploy/pages/precompute-gpt2.sh .` step';
  if (!(run < copy && copy < upload)) return 'the results must be computed, then copied into dist/, then uploaded';
  const runAll = fs.readFileSync(path.join(root, 'tests', 'run-all.sh'), 'utf8');
  if (!/tests\/precompute-test\.sh/.test(runAll)) return 'tests/run-all.sh does not test the precompute step';
});
check('the build script is the one tests/run-all.sh runs', () => {
  const runAll = fs.readFileSync(path.join(root, 'tests', 'run-all.sh'), 'utf8');
  if (!/^bash web\/build\/release\.sh/m.test(runAll)) return 'tests/run-all.sh does not build with web/build/release.sh';
});
console.log(`workflow: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
