#!/usr/bin/env bash
# Streamed training on a 2-million-clip set, 1 process vs 2 ranks (`tutti launch`), one thread
# each: seconds per epoch, speed-up, scaling efficiency, per-step compute and peak RSS of the
# largest process (the target: <= 1 GB per rank). The set is written once to WORK/shards by
# bench/make_perturbed_shards.py from the AudioSet OpenMIC-20 data (docs/results.md), each clip a
# source clip with perturbed features; when the disk has too little room for CLIPS clips, the
# largest count that fits is used and printed. Validation: the AudioSet OpenMIC-20 data itself.
# Usage: bench/stream_2m.sh [TUTTI_BINARY] [WORK_DIR]      (numbers: docs/benchmarks.md)
# Environment: CLIPS (2000000), SHARDS (32), WINDOW (4 shards), MODELS ("att fc_t"), EPOCHS (1),
# USE (the glob of the shards trained on, default all: 'shard-0000?-*' takes the first 10 when
# a loaded machine leaves no time for the whole set; a rank's memory depends on WINDOW, not USE).
# Needs ../shared/data (or $TUTTI_SHARED_DATA) and /usr/bin/python3 with numpy.
set -euo pipefail
T=$(realpath "${1:-build/tutti}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${TUTTI_SHARED_DATA:-$ROOT/../shared/data}
WORK=${2:-/tmp/tutti-stream-2m}
CLIPS=${CLIPS:-2000000}
SHARDS=${SHARDS:-32}
WINDOW=${WINDOW:-4}
MODELS=${MODELS:-att fc_t}
EPOCHS=${EPOCHS:-1}
USE=${USE:-shard-*}
BATCH=128  # global batch: 1 x 128 and 2 x 64
mkdir -p "$WORK"
export OMP_WAIT_POLICY=PASSIVE CI=1
[ -f "$WORK/as20.npz" ] || "$T" data convert audioset "$SHARED/audioset/bal_train" \
  --taxonomy openmic20 -o "$WORK/as20.npz" >/dev/null 2>&1
if [ ! -f "$WORK/shards/.complete-$CLIPS" ]; then
  # X is 1,280 bytes per clip (10 x 128 uint8); labels, keys and zip headers add about 20 %.
  avail=$(df --output=avail -B1 "$WORK" | tail -1)
  fits=$((avail * 8 / 10 / 1536))
  if [ "$fits" -lt "$CLIPS" ]; then
    echo "only room for $fits clips in $WORK (of $CLIPS asked): writing $fits" >&2
    CLIPS=$fits
  fi
  rm -rf "$WORK/shards"
  /usr/bin/python3 "$ROOT/bench/make_perturbed_shards.py" "$WORK/as20.npz" "$WORK/shards" \
    "$CLIPS" "$SHARDS" 2>/dev/null
  touch "$WORK/shards/.complete-$CLIPS"
fi
echo "set: $(ls "$WORK"/shards/*.npz | wc -l) shards, $(du -sh "$WORK/shards" | cut -f1); training on" \
  "$(ls "$WORK"/shards/$USE.npz | wc -l) of them ($USE), window $WINDOW"
for m in $MODELS; do
  args=(train --train "$WORK/shards/$USE.npz" --val "$WORK/as20.npz" --shuffle-window "$WINDOW"
        --model "$m" --epochs "$EPOCHS" --seed 1 --threads 1)
  /usr/bin/time -f "%M" -o "$WORK/$m-1.rss" "$T" "${args[@]}" --batch-size "$BATCH" \
    -o "$WORK/$m-1.tutti" 2>/dev/null
  /usr/bin/time -f "%M" -o "$WORK/$m-2.rss" "$T" launch --nproc-per-node 2 -- "${args[@]}" \
    --batch-size $((BATCH / 2)) -o "$WORK/$m-2.tutti" 2>/dev/null
done
/usr/bin/python3 - "$WORK" "$BATCH" $MODELS <<'PY'
import json, statistics, sys, zipfile
work, batch, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print("model  clips/epoch  s/epoch 1x1  s/epoch 2x1  speed-up  efficiency  step s (1 proc)  "
      "peak RSS MB 1 / largest rank")
for m in models:
    t1 = json.loads(zipfile.ZipFile(f"{work}/{m}-1.tutti").read("meta.json"))["training"]
    t2 = json.loads(zipfile.ZipFile(f"{work}/{m}-2.tutti").read("meta.json"))["training"]
    s1 = statistics.median(e["seconds"] for e in t1["history"])
    s2 = statistics.median(e["seconds"] for e in t2["history"])
    steps = -(-t1["n_train"] // batch)
    rss = [int(open(f"{work}/{m}-{p}.rss").read().split()[-1]) / 1024 for p in (1, 2)]
    print(f"{m:6s} {t1['n_train']:11d} {s1:12.1f} {s2:12.1f} {s1 / s2:9.2f} "
          f"{s1 / (2 * s2):11.2f} {s1 / steps:16.4f}  {rss[0]:.0f} / {rss[1]:.0f}")
PY
