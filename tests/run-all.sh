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

echo "== wasm32 build check of the engine crates, model to study (wgpu backend)"
cargo check -p gradpatch-model -p gradpatch-dataset -p gradpatch-runs -p gradpatch-methods -p gradpatch-stats -p gradpatch-study \
  --features gradpatch-model/wgpu --target wasm32-unknown-unknown

echo "== cargo test (ndarray and wgpu/Vulkan backends)"
# Always at workspace level: a per-package run unifies burn's features differently and rebuilds it.
# (No doc tests: the crates have no examples in their docs.)
log="$(mktemp)"
cargo test --workspace --all-targets 2>&1 | tee "$log"
passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"
echo
echo "tests: ${passed} passed, ${failed} failed"
