// Starts the page. An external module rather than trunk's inline bootstrap, so that the
// Content-Security-Policy needs no 'unsafe-inline' or hash. Every URL is relative to this
// file, so the site works under any sub-path.
import init from './app.js';

init({ module_or_path: new URL('app_bg.wasm', import.meta.url) }).catch((err) => {
  const p = document.createElement('p');
  p.className = 'banner error';
  p.textContent = `gradpatch could not start: ${err && err.message ? err.message : err}. ` +
    'It needs a browser with WebAssembly (a current Chrome, Edge, Firefox or Safari).';
  document.body.prepend(p);
});
