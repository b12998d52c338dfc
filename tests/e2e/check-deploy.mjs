// The cluster recipes of deploy/ (they cannot run here: no Slurm, no Kubernetes, no registry):
// each is rendered for N = 4 and the commands it would run are run here, as 4 shard processes
// plus the merge, and the merged results.json must equal one `gradpatch run` of the same
// prompts (scores bit for bit, statistics to 1e-12). Slurm's `sbatch` is a stand-in that runs
// the array's tasks as local processes (with SLURM_ARRAY_TASK_ID) and then the dependent job;
// the Kubernetes Jobs' container commands run with JOB_COMPLETION_INDEX, the shared volume's
// /data mapped to a folder. The Dockerfile is checked for what the recipes rely on.
// Usage: node tests/e2e/check-deploy.mjs GRADPATCH_BIN   (prints "deploy: N passed, N failed")
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { checks } from './checks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.resolve(process.argv[2] || path.join(root, 'target', 'debug', 'gradpatch'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradpatch-deploy-'));
const N = 4;
const RUN = ['--ioi', '6', '--seed', '4', '--ig-steps', '4', '--positions'];
const { check, finish } = checks('deploy');
function assert(ok, why) { if (!ok) throw new Error(why); }

// `gradpatch` on the PATH, as in the image and on the nodes.
const binDir = path.join(tmp, 'bin');
fs.mkdirSync(binDir);
fs.symlinkSync(bin, path.join(binDir, 'gradpatch'));
const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}` };

function run(cmd, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.slice(-2000)}`))));
  });
}

/** Equal results, except `seconds`; numbers under `stats*` within 1e-12 (relative). */
function same(a, b, at = '') {
  if (Array.isArray(a)) {
    assert(Array.isArray(b) && a.length === b.length, `${at}: lengths differ`);
    a.forEach((x, i) => same(x, b[i], `${at}[${i}]`));
  } else if (a && typeof a === 'object') {
    assert(b && typeof b === 'object', `${at}: an object in one only`);
    const keys = (o) => Object.keys(o).filter((k) => k !== 'seconds').sort().join(',');
    assert(keys(a) === keys(b), `${at}: fields ${keys(a)} vs ${keys(b)}`);
    for (const k of Object.keys(a)) if (k !== 'seconds') same(a[k], b[k], `${at}.${k}`);
  } else if (typeof a === 'number' && typeof b === 'number' && at.startsWith('.stats')) {
    assert(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)), `${at}: ${a} vs ${b}`);
  } else {
    assert(a === b, `${at}: ${a} vs ${b}`);
  }
}
const read = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

const single = path.join(tmp, 'single.json');
await run('gradpatch', ['run', ...RUN, '--out', single]);

await check(`Slurm: submit.sh ${N} runs the job array (${N} shard processes) and the dependent merge; equal to one run`, async () => {
  // sbatch stand-in: runs an array's tasks side by side and waits; a dependent job afterwards.
  const fake = path.join(binDir, 'sbatch');
  fs.writeFileSync(fake, `#!/usr/bin/env bash
set -euo pipefail
array="" dep="" output="" exports=""
while [ $# -gt 1 ]; do
  case "$1" in
    --parsable) ;;
    --array=*) array="\${1#--array=}" ;;
    --dependency=*) dep="\${1#--dependency=}" ;;
    --output=*) output="\${1#--output=}" ;;
    --export=*) exports="\${1#--export=}" ;;
    *) echo "sbatch stand-in: unexpected $1" >&2; exit 2 ;;
  esac
  shift
done
script="$1"
echo "\${array:-job} \${dep:-none} $script" >> "${tmp}/sbatch.calls"
IFS=, read -ra kv <<< "$exports"
for x in "\${kv[@]}"; do [ "$x" = ALL ] || export "$x"; done
if [ -n "$dep" ]; then grep -qx "ok \${dep#afterok:}" "${tmp}/sbatch.jobs" || { echo "dependency \${dep} not satisfied" >&2; exit 1; }; fi
id=$((1000 + $(wc -l < "${tmp}/sbatch.calls")))
if [ -n "$array" ]; then
  pids=()
  for ((k = \${array%-*}; k <= \${array#*-}; k++)); do
    SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$k bash "$script" > "\${output//%a/$k}" 2>&1 & pids+=($!)
  done
  status=ok; for p in "\${pids[@]}"; do wait "$p" || status=failed; done
else
  status=ok; bash "$script" > "$output" 2>&1 || status=failed
fi
echo "$status $id" >> "${tmp}/sbatch.jobs"
echo "$id;cluster"
`);
  fs.chmodSync(fake, 0o755);
  fs.writeFileSync(path.join(tmp, 'sbatch.jobs'), '');
  const dir = path.join(tmp, 'slurm');
  const out = await run('bash', [path.join(root, 'deploy/slurm/submit.sh'), String(N), dir, '--', ...RUN]);
  assert(/submitted shards 1001 \(array 0-3\) and merge 1002/.test(out), out);
  const calls = fs.readFileSync(path.join(tmp, 'sbatch.calls'), 'utf8').trim().split('\n');
  assert(calls.length === 2 && calls[0].startsWith(`0-${N - 1} none `) && calls[1].startsWith('job afterok:1001 '), calls.join(' | '));
  const jobs = fs.readFileSync(path.join(tmp, 'sbatch.jobs'), 'utf8');
  assert(jobs === 'ok 1001\nok 1002\n', `jobs: ${jobs}; merge log: ${fs.existsSync(path.join(dir, 'logs/merge.log')) ? fs.readFileSync(path.join(dir, 'logs/merge.log'), 'utf8') : 'none'}`);
  for (let k = 0; k < N; k++) assert(fs.existsSync(path.join(dir, 'parts', `part-${k}.json`)), `part-${k}.json`);
  same(read(single), read(path.join(dir, 'results.json')));
  assert(fs.existsSync(path.join(dir, 'csv', 'scores.csv')), 'the merge writes the CSV tables');
  const status = await run('gradpatch', ['status', path.join(dir, 'parts')]);
  assert(status.includes(`total: 100.0% of 6 prompts (${N} of ${N} runs finished)`), status);
});

await check(`Kubernetes: render.sh ${N} gives an Indexed Job of ${N} pods and a merge Job; their commands, run here (each shard as PID 1 on one volume with a crashed pod's leftover), equal one run`, async () => {
  const out = path.join(tmp, 'k8s');
  // An argument with a space and a quote survives the rendering.
  const prompts = path.join(tmp, "my prompts's.json");
  fs.writeFileSync(prompts, fs.readFileSync(path.join(root, 'web/models/model-a/prompts.json')));
  const runArgs = ['--prompts', prompts, '--ig-steps', '4', '--positions'];
  execFileSync('bash', [path.join(root, 'deploy/k8s/render.sh'), String(N), 'registry.example/gradpatch:1', 'ioi-data', out, '--', ...runArgs], { env });
  const shards = YAML.parse(fs.readFileSync(path.join(out, 'shards.yaml'), 'utf8'));
  const merge = YAML.parse(fs.readFileSync(path.join(out, 'merge.yaml'), 'utf8'));
  for (const job of [shards, merge]) {
    assert(job.apiVersion === 'batch/v1' && job.kind === 'Job', `${job.metadata?.name}: a batch/v1 Job`);
    const pod = job.spec.template.spec;
    assert(pod.restartPolicy === 'Never' && pod.securityContext.runAsNonRoot === true && pod.securityContext.runAsUser === 10001, `${job.metadata.name}: non-root pods`);
    assert(pod.containers[0].image === 'registry.example/gradpatch:1', 'the image');
    assert(pod.volumes[0].persistentVolumeClaim.claimName === 'ioi-data' && pod.containers[0].volumeMounts[0].mountPath === '/data', 'the shared volume at /data');
  }
  assert(shards.spec.completionMode === 'Indexed' && shards.spec.completions === N && shards.spec.parallelism === N, `Indexed, ${N} completions: ${JSON.stringify(shards.spec)}`);
  const data = path.join(tmp, 'volume');
  fs.mkdirSync(data);
  // Pods share the volume and each is PID 1 in its own PID namespace: the shard processes run
  // so here too (unshare, as root), and a crashed pod's leftover write-check file of the old
  // naming (by PID only) is already on the volume.
  fs.mkdirSync(path.join(data, 'parts'));
  fs.writeFileSync(path.join(data, 'parts', '.gradpatch-write-check-1'), '');
  const samePid = (() => { try { return execFileSync('unshare', ['--pid', '--fork', 'sh', '-c', 'echo $$'], { encoding: 'utf8' }).trim() === '1'; } catch { return false; } })();
  if (!samePid) console.log('     (unshare --pid is not permitted here: the shards run with their own PIDs)');
  const command = (job, extraEnv, pid1 = false) => {
    const c = job.spec.template.spec.containers[0];
    const args = c.args.map((a) => a.replaceAll('/data', data));
    const argv = [c.command[0], ...c.command.slice(1), ...args];
    return pid1 ? run('unshare', ['--pid', '--fork', ...argv], extraEnv) : run(argv[0], argv.slice(1), extraEnv);
  };
  await Promise.all([...Array(N).keys()].map((k) => command(shards, { JOB_COMPLETION_INDEX: String(k) }, samePid)));
  const left = fs.readdirSync(path.join(data, 'parts')).filter((f) => f.startsWith('.') && f !== '.gradpatch-write-check-1');
  assert(left.length === 0, `the shards left ${left.join(', ')}`);
  await command(merge, {});
  const one = path.join(tmp, 'single-k8s.json');
  await run('gradpatch', ['run', ...runArgs, '--out', one]);
  same(read(one), read(path.join(data, 'results.json')));
});

await check('Dockerfile: a multi-stage build of the CLI with openblas, the Vulkan loader, run as a non-root user', () => {
  const text = fs.readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8');
  const stages = text.match(/^FROM /gm) || [];
  assert(stages.length >= 2, `multi-stage: ${stages.length} FROM`);
  assert(/cargo build --release --locked -p gradpatch-cli --features openblas/.test(text), 'the openblas build');
  assert(/COPY --from=build /.test(text), 'the runtime stage copies the binary only');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  assert(/libvulkan1/.test(runtime) && /libopenblas0/.test(runtime), 'Vulkan loader and OpenBLAS in the runtime image');
  const user = runtime.match(/^USER (\S+)/m);
  assert(user && !/^(root|0)(:|$)/.test(user[1]), `a non-root USER: ${user?.[1]}`);
  assert(/ENTRYPOINT \["gradpatch"\]/.test(runtime), 'gradpatch is the entry point');
  const ignore = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8');
  assert(/^target$/m.test(ignore), '.dockerignore keeps target/ out of the build context');
});

fs.rmSync(tmp, { recursive: true, force: true });
finish();
