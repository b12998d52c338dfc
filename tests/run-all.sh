#!/usr/bin/env bash
# Every test of the project: formatting, lints, native tests (ndarray and wgpu backends), and the
# wasm32 build of the engine crates. Prerequisites: see .ci/run (it installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

# Reference data is read from $GRADPATCH_SHARED (default: ../shared beside the repository).
export GRADPATCH_SHARED="${GRADPATCH_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -f "$GRADPATCH_SHARED/reference/model-a/goldens.json" ]; then
  echo "error: reference data not found in $GRADPATCH_SHARED (set GRADPATCH_SHARED)" >&2
  exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (native, all targets)"
cargo clippy --workspace --all-targets -- -D warnings

echo "== wasm32 build check of the engine crates (wgpu backend)"
cargo check -p gradpatch-model -p gradpatch-dataset --features gradpatch-model/wgpu --target wasm32-unknown-unknown

echo "== cargo test (ndarray and wgpu/Vulkan backends)"
# Always at workspace level: a per-package run unifies burn's features differently and rebuilds it.
cargo test --workspace
