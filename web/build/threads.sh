#!/usr/bin/env bash
# The threaded CPU build of the compute worker, into the folder $1 as worker_mt.js and
# worker_mt_bg.wasm: the same crate without WebGPU, compiled with atomics and shared memory so
# that web/worker_loader.js can run the CPU backend on several threads (Web Workers on one
# memory) where the page is cross-origin isolated. Run by web/build/postbuild.mjs in release
# builds, before wasm-opt. Rust's std must itself be compiled with atomics (`-Z build-std`),
# hence the pinned nightly toolchain (web/build/tools.sh); its own target folder keeps the
# stable builds' artifacts untouched.
set -euo pipefail
# shellcheck source=web/build/tools.sh
source "$(dirname "$0")/tools.sh"
out="${1:?usage: threads.sh OUT_DIR}"
need_threads_toolchain
cd "$repo_root"
target="${CARGO_TARGET_DIR:-$repo_root/target}/threads"
# The stable clippy-driver cannot drive the nightly rustc (the crates are linted in the usual
# build); RUSTFLAGS replaces .cargo/config.toml's, so its getrandom cfg is repeated.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
say "building the threaded CPU worker (nightly, build-std; first time ~15 min on 2 cores)"
# The linker makes the memory shared and imported (each thread instantiates the module on it),
# up to 4 GiB, and exports what wasm-bindgen needs to give each thread its thread-local storage.
flags=(--cfg 'getrandom_backend="wasm_js"' -C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals)
for arg in --shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls \
  --export=__tls_size --export=__tls_align --export=__tls_base; do
  flags+=(-C "link-arg=$arg")
done
# (CARGO_ENCODED_RUSTFLAGS: unit-separated, so the cfg's quotes pass as they are.)
CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${flags[*]}")" RUSTFLAGS= \
  CARGO_TARGET_DIR="$target" cargo "+$THREADS_TOOLCHAIN" build --quiet --locked --release \
  -Z build-std=std,panic_abort --target wasm32-unknown-unknown \
  -p gradpatch-worker --bin worker --no-default-features --features threads
wasm-bindgen --target no-modules --no-typescript --out-dir "$out" --out-name worker_mt \
  "$target/wasm32-unknown-unknown/release/worker.wasm"
