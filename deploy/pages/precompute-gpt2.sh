#!/usr/bin/env bash
# GPT-2 small's results for the hosted page, computed natively by the Pages workflow (the one
# place of this project that can download GPT-2): downloads the pinned files, refuses any whose
# size or SHA-256 differs from the pin, runs `gradpatch run` and writes, under OUT_DIR,
#   precomputed/gpt2-small/results.json   the results the page opens ("See GPT-2 small's results")
#   precomputed/gpt2-small/about.json     how they were computed (commit, configuration, runner, date)
#
# Usage: deploy/pages/precompute-gpt2.sh OUT_DIR
#   GRADPATCH   the gradpatch binary (default: gradpatch on the PATH)
#   PINS        a pins file (default: `gradpatch pins`, GPT-2 small at its pinned revision):
#               {"name", "base", "files": [{"name", "bytes", "sha256"}]}; the tests point it at a
#               local server holding a random model of GPT-2 small's shape
#   RUN_ARGS    the configuration (default below); the tests pass a small one
#   MODEL_DIR   where the files go (default: a temporary folder)
set -euo pipefail

out="${1:?usage: precompute-gpt2.sh OUT_DIR}"
gradpatch="${GRADPATCH:-gradpatch}"
# 16 IOI prompts, every method at the page's defaults (IG: 50 Gauss-Legendre steps, AP:
# noising; EAP-IG: 5 steps, exact patching of the top 200 edges), scores per position and
# faithfulness curves (of nodes and of edges): about 75 minutes on a 4-core runner.
run_args="${RUN_ARGS:---ioi 16 --seed 0 --methods atp,ig,ap,eap,eapig --positions --faithfulness}"
model_dir="${MODEL_DIR:-$(mktemp -d)}"
mkdir -p "$model_dir" "$out/precomputed/gpt2-small"

if [ -n "${PINS:-}" ]; then pins="$(cat "$PINS")"; else pins="$("$gradpatch" pins)"; fi
field() { node -e 'const p = JSON.parse(process.argv[1]); const v = process.argv[2].split(".").reduce((o, k) => o?.[k], p); if (v === undefined) process.exit(1); console.log(typeof v === "object" ? JSON.stringify(v) : v)' "$pins" "$1"; }
name="$(field name)"
base="$(field base)"
count="$(field files.length)"

for i in $(seq 0 $((count - 1))); do
  file="$(field "files.$i.name")"
  bytes="$(field "files.$i.bytes")"
  sha="$(field "files.$i.sha256")"
  case "$file" in */* | .*) echo "error: pinned file name \"$file\" is not a plain file name" >&2; exit 1 ;; esac
  echo "downloading $base$file ($bytes bytes)"
  curl -fsSL --retry 3 --max-filesize "$bytes" -o "$model_dir/$file" "$base$file"
  got_bytes="$(stat -c %s "$model_dir/$file")"
  got_sha="$(sha256sum "$model_dir/$file" | cut -d' ' -f1)"
  if [ "$got_bytes" != "$bytes" ] || [ "$got_sha" != "$sha" ]; then
    echo "error: $file ($got_bytes bytes, sha256 $got_sha) does not match the pinned file ($bytes bytes, sha256 $sha)" >&2
    rm -f "$model_dir/$file"
    exit 1
  fi
done

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# shellcheck disable=SC2086
"$gradpatch" run --model "$model_dir" --model-name "$name" $run_args --out "$out/precomputed/gpt2-small/results.json"
finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
commit="${GITHUB_SHA:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
runner="${RUNNER_NAME:-$(hostname)} ($(uname -sm), $(nproc) cores)"
node -e 'const [commit, config, runner, started, finished, model] = process.argv.slice(1); console.log(JSON.stringify({ model, commit, configuration: config, runner, started, finished }, null, 2))' \
  "$commit" "gradpatch run $run_args" "$runner" "$started" "$finished" "$name" > "$out/precomputed/gpt2-small/about.json"
echo "wrote $out/precomputed/gpt2-small/{results,about}.json"
