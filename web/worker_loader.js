// The compute worker's entry (a classic worker: wasm-bindgen's `no-modules` glue). Every URL is
// relative to this file, so the site works under any sub-path.

// wgpu does not pass the browser's `subgroups` feature through, but cubecl writes
// `enable subgroups;` into some WGSL kernels for the browser: without the feature those
// pipelines are invalid. So the device is always requested with `subgroups` when the adapter
// offers it, and its loss is watched. (Here rather than built from a string in Rust: the CSP
// allows no eval.)
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
      device.lost.then((info) => {
        if (info.reason === 'destroyed') return;
        postMessage({ GpuLost: { message: `the WebGPU device was lost (${info.reason || 'unknown reason'}${info.message ? ': ' + info.message : ''})` } });
      });
      return device;
    });
  };
  GPUAdapter.prototype.__gradpatch = true;
}

importScripts('./worker.js');
// A failure to load the wasm reaches the page as an ordinary protocol message (FromWorker::Error).
wasm_bindgen({ module_or_path: './worker_bg.wasm' }).catch((err) => {
  postMessage({ Error: { during: 'start', message: `the compute worker could not load its WebAssembly: ${err && err.message ? err.message : err}` } });
});
