#!/usr/bin/env bash
# Renders the Kubernetes manifests of a sharded run into OUT_DIR:
#
#   deploy/k8s/render.sh N IMAGE CLAIM OUT_DIR -- RUN_ARGS...
#   deploy/k8s/render.sh 16 registry.example/gradpatch:1 ioi-data out -- --model /data/gpt2 --ioi 2000
#   kubectl apply -f out/shards.yaml
#   kubectl wait --for=condition=complete --timeout=48h job/gradpatch-shards
#   kubectl apply -f out/merge.yaml
#
# CLAIM is a ReadWriteMany PersistentVolumeClaim mounted at /data in every pod (the model, if it
# is not in the image, and the parts and results); progress: `gradpatch status /data/parts`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage="usage: $0 N IMAGE CLAIM OUT_DIR -- RUN_ARGS..."
[ $# -ge 4 ] || { echo "$usage" >&2; exit 2; }
n="$1" image="$2" claim="$3" out="$4"
shift 4
[ "${1:-}" = "--" ] && shift
if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 10000 ]; then
  echo "N must be a number from 1 to 10000, got '$n'; $usage" >&2
  exit 2
fi
# Each argument single-quoted for sh (a ' inside becomes '\'').
args=""
for a in "$@"; do args+=" '${a//\'/\'\\\'\'}'"; done
args="${args# }"
# "&" in a replacement is the matched text in bash 5.2 unless this is off.
shopt -u patsub_replacement 2>/dev/null || true
mkdir -p "$out"
render() {
  local text
  text="$(cat "$1")"
  text="${text//@SHARDS@/$n}"
  text="${text//@IMAGE@/$image}"
  text="${text//@CLAIM@/$claim}"
  text="${text//@RUN_ARGS@/$args}"
  printf '%s\n' "$text" > "$2"
}
render "$here/shards-job.yaml" "$out/shards.yaml"
render "$here/merge-job.yaml" "$out/merge.yaml"
echo "wrote $out/shards.yaml ($n shards) and $out/merge.yaml"
