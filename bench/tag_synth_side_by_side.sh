#!/usr/bin/env bash
# `tutti tag` with the shipped model (logmel-cnn embedder + ATT, models/synth.tutti) against a
# logmel-stats ATT model (20 synthesized clips, 3 epochs: the model's cost is the same), on the same file, alternated ROUNDS times
# in one run so that load from other work hits both alike. Prints x real time (audio seconds /
# wall seconds, and per CPU second of the process, for the whole process: start-up, decode,
# resample, log-mel, embedder, model) for each and the ratio.
#   bench/tag_synth_side_by_side.sh BUILD_DIR [SECONDS=120] [ROUNDS=3]
# The file: one piece rendered by `tutti synth` at 44.1 kHz stereo (the common input format).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/tag_synth_side_by_side.sh BUILD_DIR [SECONDS] [ROUNDS]}
secs=${2:-120}
rounds=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tutti" synth -n 1 --seed 4 --duration "$secs" -o "$work/s" --threads 2 >/dev/null
wav=$work/s/audio/synth_000000.wav
"$build/tutti" synth -n 20 --seed 5 --duration 10 --sample-rate 16000 --channels 1 \
  --embed logmel-stats -o "$work/small" --threads 2 >/dev/null
"$build/tutti" data filter "$work/small/dataset.npz" --classes drums,bass,piano,guitar \
  -o "$work/small/f.npz" >/dev/null 2>&1
"$build/tutti" train "$work/small/f.npz" --model att --epochs 3 -o "$work/small/m.tutti" \
  >/dev/null 2>&1
run() {  # model -> "wall_seconds cpu_seconds" of the whole `tutti tag` process
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$build/tutti" tag "$wav" --model "$1" --threads 1 \
    >/dev/null 2>&1
  awk '{ print $1, $2 + $3 }' "$work/time"
}
calc() { awk "BEGIN { print $1 }"; }
run models/synth.tutti >/dev/null  # warm the page cache and the model files
echo "x real time = audio seconds / wall seconds (per CPU second in parentheses)"
printf 'round  synth (logmel-cnn)      logmel-stats            wall ratio stats/cnn\n'
sum_c=0 sum_s=0 cpu_c=0 cpu_s=0
for r in $(seq 1 "$rounds"); do
  read -r c cc < <(run models/synth.tutti)
  read -r s cs < <(run "$work/small/m.tutti")
  printf '%5d  %6.1f (%6.1f)         %6.1f (%6.1f)         %5.2f\n' "$r" "$(calc "$secs / $c")" \
    "$(calc "$secs / $cc")" "$(calc "$secs / $s")" "$(calc "$secs / $cs")" "$(calc "$s / $c")"
  sum_c=$(calc "$sum_c + $c"); sum_s=$(calc "$sum_s + $s")
  cpu_c=$(calc "$cpu_c + $cc"); cpu_s=$(calc "$cpu_s + $cs")
done
printf 'total  %6.1f (%6.1f)         %6.1f (%6.1f)         %5.2f   (%s s of audio, %s rounds, load %s)\n' \
  "$(calc "$secs * $rounds / $sum_c")" "$(calc "$secs * $rounds / $cpu_c")" \
  "$(calc "$secs * $rounds / $sum_s")" "$(calc "$secs * $rounds / $cpu_s")" \
  "$(calc "$sum_s / $sum_c")" "$secs" "$rounds" "$(cut -d' ' -f1 /proc/loadavg)"
