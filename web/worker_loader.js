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

importScripts(base + 'worker.js');
// A failure to load the wasm reaches the page as an ordinary protocol message (FromWorker::Error).
wasm_bindgen({ module_or_path: base + 'worker_bg.wasm' }).then((exports) => {
  memory = exports.memory;
  self.__gradpatchMemory = memory;
}, (err) => {
  postMessage({ Error: { during: 'start', message: `the compute worker could not load its WebAssembly: ${err && err.message ? err.message : err}` } });
});
