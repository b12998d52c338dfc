// One CPU thread of the threaded compute worker (web/worker_loader.js starts it): the worker's
// wasm module instantiated on the worker's shared memory, running the tasks the sweeps queue
// (`gradpatchThread` blocks between them) until the worker ends.
self.onmessage = (e) => {
  self.onmessage = null;
  const { glue, module, memory } = e.data || {};
  const why = (err) => (err && err.message ? err.message : String(err));
  try {
    importScripts(glue);
  } catch (err) {
    postMessage({ failed: `could not load ${glue}: ${why(err)}` });
    return;
  }
  wasm_bindgen({ module_or_path: module, memory }).then(() => {
    postMessage('ready');
    try {
      wasm_bindgen.gradpatchThread();
    } catch (err) {
      // A panic has already said what happened (the worker's panic hook runs here too).
      if (self.__gradpatchPanicked) return;
      postMessage({ Crashed: { out_of_memory: /unreachable/i.test(why(err)), message: `a CPU thread stopped: ${why(err)}` } });
    }
  }, (err) => postMessage({ failed: why(err) }));
};
