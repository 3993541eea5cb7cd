#!/usr/bin/env bash
# ./run bench [NAME...]: the benchmark programs and side-by-side comparisons of docs/benchmarks.md.
# Without names, runs all of them. Numbers vary with machine load: compare ratios from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000  # as the tutti program runs (main.cpp)
SHARED=${TUTTI_SHARED_DATA:-$PWD/../shared/data}
names=("$@")
run_if() { local n=$1; shift; if [ ${#names[@]} -eq 0 ] || [[ " ${names[*]} " == *" $n "* ]]; then echo "== $n" >&2; "$@"; fi; }

run_if npz build/bench/bench_npz_load --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
run_if audioset /usr/bin/python3 bench/audioset_reader.py "$SHARED/audioset/bal_train" \
  --compare build/bench/bench_audioset_convert
run_if frontend build/bench/bench_frontend
run_if synth build/bench/bench_synth --benchmark_filter='TimGM6mb|MuseScore'
run_if att bench/att_side_by_side.sh build
run_if rf /usr/bin/python3 bench/rf_side_by_side.py build/tutti
run_if models bench/model_table.sh build
run_if python bench/predict_side_by_side.sh build
run_if serve bench/serve_load.sh build
mmgat_epochs() {  # MMGAT vs ATT epochs on the AudioSet OpenMIC-20 train part, 1 and 2 threads
  local tmp; tmp=$(mktemp -d)
  build/tutti data convert audioset "$SHARED/audioset/bal_train" --taxonomy openmic20 \
    -o "$tmp/as20.npz" >/dev/null
  build/tutti data split "$tmp/as20.npz" --test-fraction 0.2 --seed 0 >/dev/null
  for t in 1 2; do
    TUTTI_BENCH_NPZ="$tmp/as20-train.npz" TUTTI_BENCH_THREADS=$t build/bench/bench_mmgat \
      --benchmark_filter=Epoch
  done
  rm -rf "$tmp"
}
run_if mmgat mmgat_epochs
