#!/usr/bin/env bash
# The wasm budget check of the production build (web/build/postbuild.mjs) on the built dist/:
# it passes with the recorded budget and fails loudly with one the build exceeds by over 10%.
# Prints "budget: N passed, N failed". Usage: bash tests/budget-test.sh [dist]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="${1:-$here/../dist}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }

node "$here/../web/build/postbuild.mjs" --report "$dist" >"$work/ok.log" 2>&1
rc=$?
check "the recorded budget holds" '[ "$rc" -eq 0 ]'

# A budget 20% under today's size: the check must fail and say why.
node -e "
const b = JSON.parse(require('fs').readFileSync('$here/../web/build/wasm-budget.json', 'utf8'));
b.gzip_bytes = Math.round(b.gzip_bytes * 0.8);
require('fs').writeFileSync('$work/small.json', JSON.stringify(b));"
GRADPATCH_WASM_BUDGET="$work/small.json" node "$here/../web/build/postbuild.mjs" --report "$dist" >"$work/over.log" 2>&1
rc=$?
check "a budget exceeded by more than 10% fails the build" '[ "$rc" -ne 0 ]'
check "it says the budget is exceeded, and by what" 'grep -q "error: the wasm budget is exceeded" "$work/over.log"'

echo "budget: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
