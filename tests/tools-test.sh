#!/usr/bin/env bash
# Tests of web/build/tools.sh, the installer behind web/serve.sh and tests/run-all.sh, against a
# real npm with an unreachable registry: one line says what is being installed, a failure says
# so clearly and leaves nothing half-installed, and a second run installs nothing.
# Prints "tools: N passed, N failed".
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }

# A package folder whose lockfile pins a real package (binaryen, as web/build does).
mkdir -p "$work/pkg"
cp "$here/../web/build/package.json" "$here/../web/build/package-lock.json" "$work/pkg/"

# 1. Registry unreachable (a closed local port), empty npm cache: a clear error, exit 1, no
#    node_modules left behind.
out="$(cd "$work" && npm_config_registry=http://127.0.0.1:9/ npm_config_cache="$work/cache" \
  npm_config_fetch_retries=0 bash -c "source '$here/../web/build/tools.sh'; need_npm '$work/pkg'" 2>&1)"
rc=$?
check "unreachable registry: non-zero exit" '[ "$rc" -ne 0 ]'
check "unreachable registry: says what it installs, then what failed" \
  'echo "$out" | grep -q "installing the npm packages of" && echo "$out" | grep -q "error: could not install"'
check "unreachable registry: nothing half-installed" '[ ! -e "$work/pkg/node_modules" ]'

# 2. Installed for real (from the machine's npm cache or the registry), then a second run says
#    nothing and installs nothing.
(source "$here/../web/build/tools.sh"; need_npm "$work/pkg") >/dev/null 2>&1
check "install: the tool is there" '[ -x "$work/pkg/node_modules/.bin/wasm-opt" ]'
again="$(bash -c "source '$here/../web/build/tools.sh'; need_npm '$work/pkg'" 2>&1)"
check "second run: installs nothing" '[ -z "$again" ]'
# 3. A changed lockfile is installed again.
echo >>"$work/pkg/package-lock.json"
changed="$(bash -c "source '$here/../web/build/tools.sh'; need_npm '$work/pkg'" 2>&1)"
check "changed lockfile: installs again" 'echo "$changed" | grep -q "installing the npm packages"'

echo "tools: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
