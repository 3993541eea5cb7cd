#!/usr/bin/env bash
# A small logmel-stats ATT model for the benchmarks that tag audio: 20 generated clips of 8-12 s
# (bench_embed --write-wav), two labels, 3 epochs.
#   bench/small_logmel_model.sh BUILD_DIR WORK_DIR    -> WORK_DIR/m.tutti
set -euo pipefail
build=${1:?usage: bench/small_logmel_model.sh BUILD_DIR WORK_DIR}
work=${2:?usage: bench/small_logmel_model.sh BUILD_DIR WORK_DIR}
mkdir -p "$work/audio"
echo "file,instrument,relevance" > "$work/labels.csv"
for i in $(seq 0 19); do
  "$build/bench/bench_embed" --write-wav "$work/audio/c$i.wav" $((8 + i % 5))
  echo "c$i.wav,a,$((i % 2))" >> "$work/labels.csv"
  echo "c$i.wav,b,$(((i / 2) % 2))" >> "$work/labels.csv"
done
"$build/tutti" embed "$work/audio" --labels "$work/labels.csv" -o "$work/f.npz" --threads 2
"$build/tutti" train "$work/f.npz" --model att --epochs 3 --val-fraction 0.3 -o "$work/m.tutti"
