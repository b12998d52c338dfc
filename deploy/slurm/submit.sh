#!/usr/bin/env bash
# Submits a sharded `gradpatch run` to Slurm: a job array of N shards, then the merge as a job
# that starts when every shard has succeeded.
#
#   deploy/slurm/submit.sh N DIR -- RUN_ARGS...
#   deploy/slurm/submit.sh 16 /scratch/ioi -- --model /models/gpt2 --ioi 2000 --seed 0 --positions
#
# Shard K writes DIR/parts/part-K.json (progress: `gradpatch status DIR/parts`); the merge writes
# DIR/results.json and DIR/csv/. `gradpatch` must be on the nodes' PATH (or set GRADPATCH_BIN);
# the resources each job asks for are the #SBATCH lines of shard.sbatch and merge.sbatch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage="usage: $0 N DIR -- RUN_ARGS... (N shards, 1 to 10000; DIR on storage every node sees)"
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
n="$1" dir="$2"
shift 2
[ "${1:-}" = "--" ] && shift
if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 10000 ]; then
  echo "N must be a number from 1 to 10000, got '$n'; $usage" >&2
  exit 2
fi
mkdir -p "$dir/parts" "$dir/logs"
dir="$(cd "$dir" && pwd)"
# The run's arguments, one per line: the jobs read them back as they were given.
printf '%s\n' "$@" > "$dir/run.args"
export_vars="ALL,GRADPATCH_SHARDS=$n,GRADPATCH_DIR=$dir"
array="$(sbatch --parsable --array="0-$((n - 1))" --output="$dir/logs/shard-%a.log" \
  --export="$export_vars" "$here/shard.sbatch")"
array="${array%%;*}" # --parsable prints "jobid" or "jobid;cluster"
merge="$(sbatch --parsable --dependency="afterok:$array" --output="$dir/logs/merge.log" \
  --export="$export_vars" "$here/merge.sbatch")"
echo "submitted shards $array (array 0-$((n - 1))) and merge ${merge%%;*}; progress: gradpatch status $dir/parts"
