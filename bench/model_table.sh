#!/usr/bin/env bash
# One table for every model: parameters, training seconds per epoch and inference clips/s, all
# measured in one run on the same data. The data: AudioSet OpenMIC-20 from the shared
# bal_train release, clips with 10 instances (FC needs a fixed length): 8,867 clips.
# Each model is trained for EPOCHS epochs with `tutti experiment` (seconds per epoch = the whole
# training time including each epoch's validation pass, over the epochs; RF: its whole fit) and
# then predicts on the same 8,867 clips (inference clips/s, including the model file's loading).
#   bench/model_table.sh [BUILD_DIR]   (env: THREADS=2 EPOCHS=3 MODELS=att,fc_t,...)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-3}
MODELS=${MODELS:-rf,fc,fc_t,rnn,att,mmgat,mmgat-single,mmgat-principal,mmgat-graph}
SHARED=${TUTTI_SHARED_DATA:-$PWD/../shared/data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
T="$BUILD/tutti"
"$T" data convert audioset "$SHARED/audioset/bal_train" --taxonomy openmic20 -o "$TMP/as20.npz" >/dev/null
"$T" data filter "$TMP/as20.npz" --instances 10 -o "$TMP/k10.npz" >/dev/null
echo "== $MODELS: $EPOCHS epochs, $THREADS threads (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
"$T" experiment --train "$TMP/k10.npz" --test "$TMP/k10.npz" --models "$MODELS" --seeds 1 \
  --epochs "$EPOCHS" --threads "$THREADS" -o "$TMP/exp" >/dev/null
/usr/bin/python3 - "$TMP/exp/results.json" "$THREADS" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
print(f"| model | parameters | training s/epoch ({sys.argv[2]} threads) | inference clips/s |")
print("|---|---:|---:|---:|")
for r in runs:
    params = f"{r['params']:,}" if r["params"] else "(100 trees x depth 8 per class)"
    print(f"| {r['model']} | {params} | {r['seconds_per_epoch']:.2f} | {r['infer_clips_per_s']:,.0f} |")
PY
