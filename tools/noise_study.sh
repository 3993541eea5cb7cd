#!/usr/bin/env bash
# Noise robustness study: evaluate every model of a folder on a test set whose real instances are
# replaced, with probability P, by instances of a noise pool (tutti eval --noise-instances), then
# print a table: per model type, mean ± std over seeds at each P and the absolute drop from P = 0.
#
#   tools/noise_study.sh MODELS_DIR TEST.npz NOISE_POOL.npz [OUT_DIR]
#   env: TUTTI (the tutti program, default build/tutti), LEVELS (default "0 0.1 0.2"),
#        NOISE_SEED (default 0), METRICS (default "mAP f1_pos f1_attmic"), THREADS (default 0 = all)
#
# MODELS_DIR holds *.tutti files (e.g. a `tutti experiment` folder: <model>-seed<k>.tutti); each
# evaluation's JSON is kept in OUT_DIR (default MODELS_DIR/noise) as <file>-p<P>.json, and files
# already there are reused, so an interrupted study continues. The protocol: docs/analysis.md.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
models_dir=$1 test=$2 pool=$3
out_dir=${4:-$models_dir/noise}
here=$(cd "$(dirname "$0")" && pwd)
tutti=${TUTTI:-$here/../build/tutti}
levels=${LEVELS:-0 0.1 0.2}
seed=${NOISE_SEED:-0}
threads=${THREADS:-0}
mkdir -p "$out_dir"
shopt -s nullglob
models=("$models_dir"/*.tutti)
if [[ ${#models[@]} -eq 0 ]]; then
  echo "noise_study: no .tutti files in $models_dir" >&2
  exit 1
fi
for m in "${models[@]}"; do
  for p in $levels; do
    out="$out_dir/$(basename "$m" .tutti)-p$p.json"
    [[ -s $out ]] && continue
    if [[ $(awk -v p="$p" 'BEGIN { print (p == 0) }') == 1 ]]; then
      "$tutti" eval "$m" "$test" --json --threads "$threads" >"$out.tmp"
    else
      "$tutti" eval "$m" "$test" --json --threads "$threads" --noise-instances "$p" \
        --noise-pool "$pool" --noise-seed "$seed" >"$out.tmp"
    fi
    mv "$out.tmp" "$out"
    echo "noise_study: $(basename "$m") P=$p done" >&2
  done
done
# shellcheck disable=SC2086
/usr/bin/python3 "$here/noise_table.py" --levels $levels --metrics ${METRICS:-mAP f1_pos f1_attmic} \
  -- "$out_dir"/*.json
