// Starts the page. An external module rather than trunk's inline bootstrap, so that the
// Content-Security-Policy needs no 'unsafe-inline' or hash. Every URL is relative to this
// file, so the site works under any sub-path.
import init from './app.js';

// `frame-ancestors 'none'` needs a response header, which some hosts (GitHub Pages) cannot
// send: the page itself refuses to run inside another site's frame (clickjacking), and offers
// to open it on its own.
function framed() {
  try {
    return window.top !== window.self;
  } catch (_) {
    return true;
  }
}

if (framed()) {
  const p = document.createElement('p');
  p.className = 'banner error';
  p.dataset.testid = 'framed';
  p.textContent = 'gradpatch does not run inside another page\'s frame. ';
  const a = document.createElement('a');
  a.href = window.location.href;
  a.target = '_top';
  a.rel = 'noopener noreferrer';
  a.textContent = 'Open it on its own.';
  p.append(a);
  document.body.prepend(p);
} else {
  init({ module_or_path: new URL('app_bg.wasm', import.meta.url) }).catch((err) => {
    const p = document.createElement('p');
    p.className = 'banner error';
    p.textContent = `gradpatch could not start: ${err && err.message ? err.message : err}. ` +
      'It needs a browser with WebAssembly (a current Chrome, Edge, Firefox or Safari).';
    document.body.prepend(p);
  });
}
