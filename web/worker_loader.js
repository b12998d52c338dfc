// The compute worker's entry (a classic worker: wasm-bindgen's `no-modules` glue). The page
// starts it from a blob URL (so that it inherits the page's Content-Security-Policy), which
// sets `self.__gradpatchBase` to the page's folder: every URL is relative to it, so the site
// works under any sub-path.
const base = self.__gradpatchBase || './';

// wgpu does not pass the browser's `subgroups` feature through, but cubecl writes
// `enable subgroups;` into some WGSL kernels for the browser: without the feature those
// pipelines are invalid. So the device is always requested with `subgroups` when the adapter
// offers it, and its loss is watched. (Here rather than built from a string in Rust: the CSP
// allows no eval.)

// The GPU buffers the worker holds, in bytes (created minus destroyed, and the peak): named in
// out-of-memory messages and read by the GPT-2 benchmark (tests/e2e/bench-gpt2.mjs).
const gpuBuffers = { live: 0, peak: 0 };
self.__gradpatchGpu = gpuBuffers;

function countBuffers(device) {
  const create = device.createBuffer;
  device.createBuffer = function (desc) {
    const buffer = create.call(this, desc);
    const size = Number(desc && desc.size) || 0;
    gpuBuffers.live += size;
    gpuBuffers.peak = Math.max(gpuBuffers.peak, gpuBuffers.live);
    const destroy = buffer.destroy;
    let freed = false;
    buffer.destroy = function () {
      if (!freed) { freed = true; gpuBuffers.live -= size; }
      return destroy.call(this);
    };
    return buffer;
  };
}

// What a GPU pays for, counted for the GPT-2 benchmark: compute dispatches, queue submissions,
// readbacks (buffers mapped for reading, and their bytes) and uploads (`writeBuffer`), with a
// snapshot at each of the study's progress messages, so that the benchmark can say what each
// stage costs. Counting is a few increments per call.
const gpuCounts = { dispatches: 0, submits: 0, readbacks: 0, readBytes: 0, writes: 0, writeBytes: 0 };
gpuBuffers.counts = gpuCounts;
gpuBuffers.stages = [];
function wrap(proto, name, count) {
  const f = proto && proto[name];
  if (typeof f !== 'function') return;
  proto[name] = function (...args) { count(this, args); return f.apply(this, args); };
}
if (typeof GPUComputePassEncoder !== 'undefined') {
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', () => { gpuCounts.dispatches++; });
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', () => { gpuCounts.dispatches++; });
  wrap(GPUQueue.prototype, 'submit', () => { gpuCounts.submits++; });
  wrap(GPUQueue.prototype, 'writeBuffer', (_, [, , data, , size]) => {
    gpuCounts.writes++;
    gpuCounts.writeBytes += Number(size) || (data && data.byteLength) || 0;
  });
  wrap(GPUBuffer.prototype, 'mapAsync', (buffer, [mode, offset, size]) => {
    if (!(mode & GPUMapMode.READ)) return;
    gpuCounts.readbacks++;
    gpuCounts.readBytes += Number(size) || buffer.size - (Number(offset) || 0);
  });
  const post = self.postMessage;
  self.postMessage = function (msg, ...rest) {
    if (msg && msg.Progress) gpuBuffers.stages.push({ stage: msg.Progress.stage, prompt: msg.Progress.prompt, counts: { ...gpuCounts } });
    return post.call(this, msg, ...rest);
  };
}

if (typeof GPUAdapter !== 'undefined' && !GPUAdapter.prototype.__gradpatch) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = function (desc) {
    const d = Object.assign({}, desc || {});
    const wanted = Array.from(d.requiredFeatures || []);
    if (this.features.has('subgroups') && !wanted.includes('subgroups')) wanted.push('subgroups');
    d.requiredFeatures = wanted;
    // A lost device (GPU process crash, driver reset) is reported to the page, which restarts
    // the worker on the CPU: burn would otherwise wait forever on its queue.
    return requestDevice.call(this, d).then((device) => {
      countBuffers(device);
      device.lost.then((info) => {
        if (info.reason === 'destroyed') return;
        postMessage({ GpuLost: { message: `the WebGPU device was lost (${info.reason || 'unknown reason'}${info.message ? ': ' + info.message : ''})` } });
      });
      return device;
    });
  };
  GPUAdapter.prototype.__gradpatch = true;
}

// A trap that no panic announced is Rust's abort on a failed allocation (the wasm memory could
// not grow; the allocations of model files are checked in Rust and say so themselves): it is
// reported as out of memory with the sizes, instead of as a crash that the page would retry.
let memory = null;
let reported = false;
function reportTrap(text) {
  // Once reported, later echoes of the same trap are kept from the page too.
  if (reported) return true;
  if (self.__gradpatchPanicked || !memory || !/unreachable/i.test(text)) return false;
  const mb = (bytes) => Math.ceil(bytes / 2 ** 20);
  let grows = true;
  try { memory.grow(1); } catch (_) { grows = false; }
  postMessage({ Crashed: { out_of_memory: true, message: 'out of memory: an allocation failed with the worker\'s memory at ' +
    `${mb(memory.buffer.byteLength)} MB${grows ? '' : ', which the browser would not grow further'} (a browser gives a worker ` +
    `at most 4096 MB); ${mb(gpuBuffers.live)} MB of GPU buffers are allocated` } });
  reported = true;
  return true;
}
self.addEventListener('error', (e) => { if (reportTrap(String(e.message))) e.preventDefault(); });
self.addEventListener('unhandledrejection', (e) => { if (reportTrap(String(e.reason))) e.preventDefault(); });

// Which build runs. The threaded CPU build (worker_mt: shared memory, atomics, one Web Worker
// per thread, no WebGPU) where the page is cross-origin isolated (SharedArrayBuffer), the
// machine has cores to share and the CPU will compute: asked for (`cpu`), or no WebGPU adapter.
// Else the usual build: WebGPU, or the CPU on one thread (its label says why).
const purpose = self.__gradpatchPurpose || 'gpu';
// Each thread holds a sweep part's activations (up to ~0.5 GB for GPT-2 small) in the one 4 GiB
// wasm heap beside the model: more threads would trade memory the model needs.
const MAX_THREADS = 4;

async function threadsWanted() {
  if (purpose === 'read' || !self.crossOriginIsolated || typeof SharedArrayBuffer === 'undefined') return 0;
  const cores = Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS);
  if (cores < 2) return 0;
  if (purpose === 'cpu' || !self.navigator.gpu) return cores;
  try { return (await navigator.gpu.requestAdapter()) ? 0 : cores; } catch (_) { return cores; }
}

function failed(err) {
  return err && err.message ? err.message : String(err);
}

// Starts `n` threads on the module and its shared memory; resolves with `n` once each has
// instantiated it. A thread that fails later takes the worker down with it (the page restarts).
function startThreads(module, memory, n) {
  const starts = [];
  for (let i = 0; i < n; i++) {
    const thread = new Worker(base + 'thread_loader.js', { name: `gradpatch CPU thread ${i + 1}` });
    starts.push(new Promise((resolve, reject) => {
      let ready = false;
      thread.onmessage = (e) => {
        if (!ready && e.data === 'ready') { ready = true; resolve(); return; }
        if (!ready) { reject(new Error(e.data && e.data.failed ? e.data.failed : 'a thread did not start')); return; }
        // A thread's panic or trap: passed on to the page as the worker's own.
        postMessage(e.data);
      };
      thread.onerror = (e) => {
        e.preventDefault();
        if (!ready) reject(new Error(e.message || 'a thread did not start'));
        else postMessage({ Crashed: { out_of_memory: /unreachable/i.test(String(e.message)), message: `a CPU thread stopped: ${e.message}` } });
      };
    }));
    thread.postMessage({ glue: base + 'worker_mt.js', module, memory });
  }
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the threads did not start within 60 s')), 60000));
  return Promise.race([Promise.all(starts), timeout]).then(() => n);
}

// The threaded build, or null when it is not there (a debug build has none) or cannot start.
async function threadedBuild(n) {
  let module;
  try {
    const response = await fetch(base + 'worker_mt_bg.wasm');
    if (!response.ok) return null;
    module = await WebAssembly.compile(await response.arrayBuffer());
    importScripts(base + 'worker_mt.js');
  } catch (_) {
    return null;
  }
  // The Rust side awaits this promise when it picks its device (web/…/threads.rs).
  let settle;
  self.__gradpatchThreads = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  const exports = await wasm_bindgen({ module_or_path: module });
  startThreads(module, exports.memory, n).then(settle.resolve, (err) => settle.reject(failed(err)));
  return exports;
}

async function start() {
  const n = await threadsWanted().catch(() => 0);
  const threaded = n > 1 ? await threadedBuild(n) : null;
  if (threaded) return threaded;
  importScripts(base + 'worker.js');
  return wasm_bindgen({ module_or_path: base + 'worker_bg.wasm' });
}

// A failure to load the wasm reaches the page as an ordinary protocol message (FromWorker::Error).
start().then((exports) => {
  memory = exports.memory;
  self.__gradpatchMemory = memory;
}, (err) => {
  postMessage({ Error: { during: 'start', message: `the compute worker could not load its WebAssembly: ${failed(err)}` } });
});
