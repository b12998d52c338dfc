// Which crates the code of a wasm file comes from (a `cargo bloat` for wasm): reads the code
// section and the function names (wasm-bindgen keeps the name section, demangled, until
// wasm-opt strips it) and sums the function bodies by crate.
// Usage: node web/build/wasm-size.mjs FILE.wasm [top=25]
import fs from 'node:fs';

function leb(buf, pos) {
  let result = 0, shift = 0, b;
  do {
    b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [result, pos];
}

function readName(buf, pos) {
  const [len, p] = leb(buf, pos);
  return [buf.toString('utf8', p, p + len), p + len];
}

/** Sizes of the function bodies by function index, the names, and the section sizes. */
export function analyse(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm file');
  let pos = 8, importedFns = 0;
  const bodies = [], names = new Map(), sections = {};
  while (pos < buf.length) {
    const id = buf[pos];
    let [size, p] = leb(buf, pos + 1);
    const end = p + size;
    let key = `section ${id}`;
    if (id === 0) {
      const [name, q] = readName(buf, p);
      key = `custom "${name}"`;
      if (name === 'name') {
        let s = q;
        while (s < end) {
          const sub = buf[s];
          const [len, t] = leb(buf, s + 1);
          if (sub === 1) {
            let [count, u] = leb(buf, t);
            for (let i = 0; i < count; i++) {
              let idx, nm;
              [idx, u] = leb(buf, u);
              [nm, u] = readName(buf, u);
              names.set(idx, nm);
            }
          }
          s = t + len;
        }
      }
    } else if (id === 2) {
      let [count, q] = leb(buf, p);
      for (let i = 0; i < count; i++) {
        let m, f;
        [m, q] = readName(buf, q);
        [f, q] = readName(buf, q);
        const kind = buf[q++];
        if (kind === 0) { [, q] = leb(buf, q); importedFns++; }
        else if (kind === 1) { q++; const flags = buf[q++]; [, q] = leb(buf, q); if (flags & 1) [, q] = leb(buf, q); }
        else if (kind === 2) { const flags = buf[q++]; [, q] = leb(buf, q); if (flags & 1) [, q] = leb(buf, q); }
        else if (kind === 3) { q += 2; }
        else if (kind === 4) { q++; [, q] = leb(buf, q); }
      }
    } else if (id === 10) {
      key = 'code';
      let [count, q] = leb(buf, p);
      for (let i = 0; i < count; i++) {
        const [len, r] = leb(buf, q);
        bodies.push(len);
        q = r + len;
      }
    } else if (id === 11) key = 'data';
    sections[key] = (sections[key] || 0) + (end - pos);
    pos = end;
  }
  return { bodies, names, importedFns, sections };
}

/**
 * The crate a function belongs to, from its name: mangled (`_ZN4core3fmt...E`, as rustc
 * writes the name section) or demangled (`core::fmt::...`); a trait impl
 * (`<a::B as c::D>::f`) counts for the crate of its type, `a`.
 */
export function crateOf(name) {
  if (!name) return '(unnamed)';
  const mangled = /^_ZN(\d+)(.*)$/.exec(name);
  if (mangled) {
    let first = mangled[2].slice(0, Number(mangled[1]));
    // `_$LT$a..B$u20$as$u20$c..D$GT$` is `<a::B as c::D>`; `$RF$` is `&`.
    first = first.replace(/^_?(\$LT\$|\$RF\$|\$BP\$|mut\$u20\$|dyn\$u20\$)+/g, '');
    const m = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(first);
    return m ? m[1] : '(unnamed)';
  }
  const m = /^[<&*\s]*(?:mut\s+|const\s+|dyn\s+)*([A-Za-z_][A-Za-z0-9_]*)/.exec(name);
  if (!m) return '(unnamed)';
  return name.includes('::') ? m[1] : `(${/^(__|wasm|dl|mem|str|sbrk|rust_)/.test(m[1]) ? 'runtime' : 'unnamed'})`;
}

export function byCrate(buf) {
  const { bodies, names, importedFns, sections } = analyse(buf);
  const crates = new Map();
  bodies.forEach((len, i) => {
    const c = crateOf(names.get(importedFns + i));
    const e = crates.get(c) || { bytes: 0, fns: 0 };
    e.bytes += len;
    e.fns += 1;
    crates.set(c, e);
  });
  return { crates: [...crates.entries()].sort((a, b) => b[1].bytes - a[1].bytes), sections, named: names.size };
}

if (process.argv[1] && process.argv[1].endsWith('wasm-size.mjs')) {
  const file = process.argv[2];
  const top = Number(process.argv[3] || 25);
  if (!file) { console.error('usage: node web/build/wasm-size.mjs FILE.wasm [top]'); process.exit(2); }
  const buf = fs.readFileSync(file);
  const { crates, sections, named } = byCrate(buf);
  console.log(`${file}: ${(buf.length / 1e6).toFixed(2)} MB; sections: ${Object.entries(sections).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)} MB`).join(', ')}`);
  if (!named) console.log('(no name section: run this on the wasm before wasm-opt, e.g. target/wasm32-unknown-unknown/release/worker.wasm)');
  const code = crates.reduce((a, [, e]) => a + e.bytes, 0);
  console.log('crate                          code MB   share  functions');
  for (const [c, e] of crates.slice(0, top)) {
    console.log(`${c.padEnd(30)}${(e.bytes / 1e6).toFixed(3).padStart(8)} ${(100 * e.bytes / code).toFixed(1).padStart(6)}% ${String(e.fns).padStart(9)}`);
  }
}
