#!/usr/bin/env bash
# The bench-methods table on a GPU machine: the same GPT-2-small-shaped model and prompt on
# burn-wgpu (Vulkan) and on ndarray (CPU), one after the other in the same run.
#
#   deploy/gpu-bench.sh [MODEL_DIR]   (default: a random GPT-2-small-shaped model, made once)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${GRADPATCH_BIN:-$root/target/release/gradpatch}"
[ -x "$bin" ] || (cd "$root" && cargo build --release -p gradpatch-cli)
model="${1:-$root/target/gpt2-random}"
[ -f "$model/model.safetensors" ] || "$bin" make-random-gpt2 --out "$model"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
for backend in wgpu ndarray; do
  echo "== bench-methods --backend $backend ($(date -u +%FT%TZ))"
  "$bin" bench-methods --model "$model" --backend "$backend"
done
