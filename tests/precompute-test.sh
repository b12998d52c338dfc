#!/usr/bin/env bash
# The Pages workflow's precompute step (deploy/pages/precompute-gpt2.sh) run here as the workflow
# runs it, on a random model of GPT-2 small's shape served locally with its pins replaced: the
# files are downloaded and checked, the run writes results.json (naming the model as the page
# expects) and about.json; a file whose hash or size differs from its pin is refused and nothing
# is written. Prints "precompute: N passed, N failed".
# Usage: tests/precompute-test.sh GRADPATCH_BINARY MODEL_DIR
set -uo pipefail
gradpatch="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
model="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

port=$((20000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$model" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/config.json" >/dev/null && break; sleep 0.1; done

# Pins of the served files, as `gradpatch pins` gives GPT-2 small's; `$1` replaces one hash.
pins() {
  local files=() f
  for f in config.json tokenizer.json model.safetensors; do
    local sha
    sha="$(sha256sum "$model/$f" | cut -d' ' -f1)"
    [ "$f" = "${1:-}" ] && sha="$(printf '0%.0s' $(seq 64))"
    files+=("{\"name\": \"$f\", \"bytes\": $(stat -c %s "$model/$f"), \"sha256\": \"$sha\"}")
  done
  local name
  name="$("$gradpatch" pins | node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => console.log(JSON.parse(s).name))')"
  (IFS=,; echo "{\"name\": \"$name\", \"base\": \"http://127.0.0.1:$port/\", \"files\": [${files[*]}]}")
}

# The real pins are well-formed: the revision in the base URL, 64-hex hashes.
if "$gradpatch" pins | node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
    const p = JSON.parse(s); const rev = p.name.split("@")[1];
    const ok = /^[0-9a-f]{40}$/.test(rev) && p.base.includes(`/resolve/${rev}/`) && p.files.length === 3
      && p.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256) && f.bytes > 0);
    process.exit(ok ? 0 : 1); })'; then ok "gradpatch pins: GPT-2 small's revision in the base URL, 64-hex hashes"; else fail "gradpatch pins"; fi

pins > "$work/pins.json"
if GRADPATCH="$gradpatch" PINS="$work/pins.json" MODEL_DIR="$work/model" RUN_ARGS="--ioi 1 --methods atp" \
    bash "$root/deploy/pages/precompute-gpt2.sh" "$work/out" > "$work/log" 2>&1 \
  && node -e 'const fs = require("fs"); const d = process.argv[1];
    const r = JSON.parse(fs.readFileSync(d + "/results.json")); const a = JSON.parse(fs.readFileSync(d + "/about.json"));
    const ok = /^openai-community\/gpt2@[0-9a-f]{40}$/.test(r.config.model) && r.prompts.length === 1 && r.atp.heads[0].length === 12
      && a.configuration === "gradpatch run --ioi 1 --methods atp" && a.commit && a.runner && a.finished;
    process.exit(ok ? 0 : 1)' "$work/out/precomputed/gpt2-small"; then
  ok "the pinned files are downloaded and checked; results.json names GPT-2 small; about.json says how"
else
  fail "the precompute step on matching pins: $(tail -5 "$work/log")"
fi

for bad in config.json model.safetensors; do
  pins "$bad" > "$work/bad.json"
  if GRADPATCH="$gradpatch" PINS="$work/bad.json" MODEL_DIR="$work/bad-model" RUN_ARGS="--ioi 1 --methods atp" \
      bash "$root/deploy/pages/precompute-gpt2.sh" "$work/bad-out" > "$work/log" 2>&1; then
    fail "a $bad whose hash differs from its pin was accepted"
  elif grep -q "error: $bad (.*) does not match the pinned file" "$work/log" && [ ! -e "$work/bad-out/precomputed/gpt2-small/results.json" ] && [ ! -e "$work/bad-model/$bad" ]; then
    ok "a $bad whose hash differs from its pin is refused, and nothing is written"
  else
    fail "a wrong $bad: $(tail -3 "$work/log")"
  fi
done

echo "precompute: ${passed} passed, ${failed} failed"
