#!/usr/bin/env bash
# Every test of the project: formatting, lints, native tests (ndarray and wgpu backends; the CLI
# also with OpenBLAS), the wasm32 build of the engine crates, and the page in headless Chromium.
# Prerequisites: see .ci/run (it installs them).
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

echo "== cargo clippy (wasm32: the page, the worker and every engine crate they use)"
cargo clippy -p gradpatch-web --target wasm32-unknown-unknown -- -D warnings

echo "== cargo test (ndarray and wgpu/Vulkan backends)"
# Always at workspace level: a per-package run unifies burn's features differently and rebuilds it.
# (No doc tests: the crates have no examples in their docs.)
log="$(mktemp)"
cargo test --workspace --all-targets 2>&1 | tee "$log"
passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"

echo "== the CLI's tests again with its openblas feature (ndarray's matrix products through OpenBLAS)"
log="$(mktemp)"
# (The feature only switches a dependency's feature: no code of ours to lint again.)
cargo test -p gradpatch-cli --all-targets --features openblas 2>&1 | tee "$log"
passed=$((passed + $(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')))
failed=$((failed + $(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')))
rm -f "$log"

echo "== the page: trunk build (dev profile), then browser tests in headless Chromium"
trunk build --config Trunk.toml
e2e_log="$(mktemp)"
e2e_rc=0
# A GPT-2-small-shaped model with random weights (548 MB) for the full-size browser test.
gpt2_dir="${CARGO_TARGET_DIR:-target}/gpt2-random"
[ -f "$gpt2_dir/model.safetensors" ] || "${CARGO_TARGET_DIR:-target}/debug/gradpatch" make-random-gpt2 --out "$gpt2_dir"
# The page's numbers are checked against the CLI's on the same configuration.
cli_results="$(mktemp --suffix=.json)"
"${CARGO_TARGET_DIR:-target}/debug/gradpatch" run --model web/models/ioi-demo --ioi 2 --seed 3 --ig-steps 4 --out "$cli_results" 2>/dev/null
E2E_GPT2_DIR="$gpt2_dir" E2E_CLI_RESULTS="$cli_results" node tests/e2e/run.mjs dist 2>&1 | tee "$e2e_log" || e2e_rc=$?
e2e_passed=$(grep -Eo '^e2e: [0-9]+ passed' "$e2e_log" | awk '{print $2}')
e2e_failed=$(grep -Eo '[0-9]+ failed$' "$e2e_log" | tail -1 | awk '{print $1}')
rm -f "$e2e_log"
passed=$((passed + ${e2e_passed:-0}))
failed=$((failed + ${e2e_failed:-0}))
echo
echo "tests: ${passed} passed, ${failed} failed"
if [ "$e2e_rc" -ne 0 ] && [ "${e2e_failed:-0}" -eq 0 ]; then
  echo "error: the browser tests did not run to the end" >&2
  exit 1
fi
[ "$failed" -eq 0 ]
