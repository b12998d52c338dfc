#!/usr/bin/env bash
# Every test of the project: formatting, lints (native and wasm32), native tests (ndarray and
# wgpu backends; the CLI also with OpenBLAS), the production build of the page (dist/) and the
# browser tests on it in headless Chromium. Installs what is missing first: Rust tools and npm
# packages always, Debian packages when run as root (web/build/tools.sh says what and how).
set -euo pipefail
# shellcheck source=web/build/tools.sh
source "$(dirname "$0")/../web/build/tools.sh"
cd "$repo_root"

# Reference data is read from $GRADPATCH_SHARED (default: ../shared beside the repository).
export GRADPATCH_SHARED="${GRADPATCH_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -f "$GRADPATCH_SHARED/reference/model-a/goldens.json" ]; then
  echo "error: reference data not found in $GRADPATCH_SHARED (set GRADPATCH_SHARED)" >&2
  exit 1
fi

# Vulkan on the CPU (lavapipe) for the native burn-wgpu tests; OpenBLAS for the CLI's `openblas`
# feature; Chromium (SwiftShader's WebGPU) for the browser tests.
need_debian mesa-vulkan-drivers libopenblas-dev chromium
need_page_tools
need_npm tests/e2e
target="${CARGO_TARGET_DIR:-target}"

# Runs a test script that ends with "LABEL: N passed, N failed" and adds its counts (a script
# that dies before that line counts as one failure).
passed=0
failed=0
count() {
  local label="$1" log summary
  shift
  log="$(mktemp)"
  "$@" 2>&1 | tee "$log" || true
  summary=$(grep -Eo "^$label: [0-9]+ passed, [0-9]+ failed" "$log" || echo "$label: 0 passed, 1 failed")
  passed=$((passed + $(echo "$summary" | awk '{print $2}')))
  failed=$((failed + $(echo "$summary" | awk '{print $4}')))
  rm -f "$log"
}

echo "== cargo fmt --check"
cargo fmt --all -- --check

lint_while_compiling

echo "== cargo test, linted by clippy (ndarray and wgpu/Vulkan backends)"
# Always at workspace level: a per-package run unifies burn's features differently and rebuilds it.
# (No doc tests: the crates have no examples in their docs.)
log="$(mktemp)"
cargo test --workspace --all-targets 2>&1 | tee "$log"
passed=$((passed + $(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')))
failed=$((failed + $(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')))
rm -f "$log"

echo "== the installer (web/build/tools.sh) against an unreachable registry"
count tools bash tests/tools-test.sh

echo "== the GitHub Pages workflow (validated; its build step is the next one)"
count workflow node tests/e2e/check-workflow.mjs

echo "== the static host (web/build/static-server.mjs): links out of dist/ refused, read errors survived"
count server node tests/e2e/check-server.mjs

echo "== the cluster recipes (deploy/): Slurm and Kubernetes rendered for 4 shards, their commands run here"
count deploy node tests/e2e/check-deploy.mjs "$target/debug/gradpatch"

echo "== the page: the production build (dist/, linted by clippy for wasm32), then browser tests in headless Chromium"
bash web/build/release.sh
# The threaded CPU worker is built by a nightly toolchain that the stable clippy cannot drive:
# its code (the worker without WebGPU) is linted here, on the stable toolchain.
echo "== clippy on the worker's threaded CPU build (wasm32, without WebGPU)"
cargo check --locked --target wasm32-unknown-unknown -p gradpatch-worker --no-default-features
count budget bash tests/budget-test.sh dist
e2e_log="$(mktemp)"
e2e_rc=0
# A GPT-2-small-shaped model with random weights (548 MB) for the full-size browser test.
gpt2_dir="$target/gpt2-random"
[ -f "$gpt2_dir/model.safetensors" ] || "$target/debug/gradpatch" make-random-gpt2 --out "$gpt2_dir"
# And the other presets' shapes (gpt2-medium: 1.52 GB of f32), loaded part by part.
for preset in medium distil; do
  [ -f "$target/gpt2-$preset-random/model.safetensors" ] || "$target/debug/gradpatch" make-random-gpt2 --preset "$preset" --out "$target/gpt2-$preset-random"
done
echo "== the Pages workflow's precompute step on that model, its pins replaced"
count precompute bash tests/precompute-test.sh "$target/debug/gradpatch" "$gpt2_dir"
# The page's numbers are checked against the CLI's on the same configuration.
cli_results="$(mktemp --suffix=.json)"
"$target/debug/gradpatch" run --model web/models/ioi-demo --ioi 2 --seed 3 --ig-steps 4 --methods atp,ig,ap,eap,eapig --exact-edges 40 --positions --faithfulness --out "$cli_results" 2>/dev/null
# The same run at another highlight quantile: the results viewer recomputes its statistics.
cli_results_pct="$(mktemp --suffix=.json)"
"$target/debug/gradpatch" run --model web/models/ioi-demo --ioi 2 --seed 3 --ig-steps 4 --percentile 0.8 --out "$cli_results_pct" 2>/dev/null
E2E_GPT2_DIR="$gpt2_dir" E2E_GPT2_MEDIUM_DIR="$target/gpt2-medium-random" E2E_GPT2_DISTIL_DIR="$target/gpt2-distil-random" E2E_CLI_RESULTS="$cli_results" E2E_CLI_RESULTS_PCT="$cli_results_pct" node tests/e2e/run.mjs dist 2>&1 | tee "$e2e_log" || e2e_rc=$?
e2e_passed=$(grep -Eo '^e2e: [0-9]+ passed' "$e2e_log" | awk '{print $2}')
e2e_failed=$(grep -Eo '[0-9]+ failed$' "$e2e_log" | tail -1 | awk '{print $1}')
rm -f "$e2e_log" "$cli_results" "$cli_results_pct"
passed=$((passed + ${e2e_passed:-0}))
failed=$((failed + ${e2e_failed:-0}))
# The CLI's `openblas` variant rebuilds burn's CPU backend and everything above it: ~15 min on
# 2 cores from a clean target dir, about a minute once built. So it runs last, and is skipped,
# loudly, when building it from nothing would take the run past CI's limit
# (GRADPATCH_TIME_LIMIT_MIN, default 90; 0 = never skip).
limit_min="${GRADPATCH_TIME_LIMIT_MIN:-90}"
openblas_built="$target/.openblas-tests-built"
elapsed_min=$((SECONDS / 60))
if [ -f "$openblas_built" ] || [ "$limit_min" -eq 0 ] || [ $((elapsed_min + 20)) -le "$limit_min" ]; then
  echo "== the CLI's tests again with its openblas feature (ndarray's matrix products through OpenBLAS)"
  log="$(mktemp)"
  # (The feature only switches a dependency's feature: no code of ours to lint again.)
  cargo test -p gradpatch-cli --all-targets --features openblas 2>&1 | tee "$log"
  passed=$((passed + $(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')))
  openblas_failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
  failed=$((failed + openblas_failed))
  [ "$openblas_failed" -eq 0 ] && touch "$openblas_built"
  rm -f "$log"
else
  echo "== SKIPPED the CLI's tests with --features openblas: building them from a clean target dir"
  echo "   takes ~15 min and this run is at ${elapsed_min} of ${limit_min} min. The next run (same"
  echo "   target dir) builds them if it has the time; or: cargo test -p gradpatch-cli --all-targets --features openblas"
fi
echo
echo "tests: ${passed} passed, ${failed} failed"
if [ "$e2e_rc" -ne 0 ] && [ "${e2e_failed:-0}" -eq 0 ]; then
  echo "error: the browser tests did not run to the end" >&2
  exit 1
fi
[ "$failed" -eq 0 ]
