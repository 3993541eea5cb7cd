#!/usr/bin/env bash
# ATT training under a fixed background load: `tutti train --model att` (the CLI with its default
# thread settings) against PyTorch eager (bench/pytorch_att.py) on the same data, quiet and with
# LOAD busy-loop processes running, alternating, ROUNDS times. Reports the median seconds per
# epoch of each side in each condition and the median of the per-round ratios.
#   bench/load_side_by_side.sh [BUILD_DIR]
#     env: CLIPS=20000 (training clips) LOAD=2 (busy processes) ROUNDS=3 EPOCHS=4
#          TUTTI_ARGS="" (extra `tutti train` flags, e.g. "--threads 2")
#          TUTTI_ENV="" (extra environment for tutti, e.g. OMP_WAIT_POLICY=PASSIVE)
#          TORCH_THREADS=2 TORCH_ENVS (PyTorch environments; its best one counts, as in
#          bench/att_side_by_side.sh)
#
# tutti's seconds per epoch: the median of the epochs after the first, from the model file's
# training history (each includes the epoch's validation pass over the held-out 5 %). PyTorch's:
# the median of 2 epochs after a warm-up epoch, training only. The background load is
# `/usr/bin/python3 -c 'while True: pass'`, one process per LOAD, started before and killed
# after each loaded measurement, so both programs see the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CLIPS=${CLIPS:-20000}
LOAD=${LOAD:-2}
ROUNDS=${ROUNDS:-3}
EPOCHS=${EPOCHS:-4}
TUTTI_ARGS=${TUTTI_ARGS:-}
TUTTI_ENV=${TUTTI_ENV:-}
TORCH_THREADS=${TORCH_THREADS:-2}
TORCH_ENVS=${TORCH_ENVS:-"OPENBLAS_NUM_THREADS=1,OMP_WAIT_POLICY=PASSIVE"}
TMP=$(mktemp -d)
LOAD_PIDS=()
stop_load() {
  for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  LOAD_PIDS=()
}
trap 'stop_load; rm -rf "$TMP"' EXIT
start_load() {
  for _ in $(seq 1 "$LOAD"); do
    /usr/bin/python3 -c 'while True: pass' &
    LOAD_PIDS+=($!)
  done
  sleep 1  # let the scheduler see them running
}

# 5 % validation: TOTAL clips so that the training part has CLIPS clips.
TOTAL=$(( CLIPS * 100 / 95 + 1 ))
/usr/bin/python3 bench/att_random_data.py "$TMP/data.npz" "$TOTAL"

run_pair() {  # $1: tag (quiet|loaded), $2: round
  cut -d' ' -f1-4 /proc/loadavg >"$TMP/$1-load$2.txt"
  echo "== round $2/$ROUNDS, $1 (load $(cat "$TMP/$1-load$2.txt")): tutti" >&2
  # shellcheck disable=SC2086
  env $TUTTI_ENV "$BUILD/tutti" train "$TMP/data.npz" --model att --epochs "$EPOCHS" \
    --val-fraction 0.05 --seed 1 $TUTTI_ARGS -o "$TMP/$1-$2.tutti" 2>/dev/null
  unzip -p "$TMP/$1-$2.tutti" meta.json >"$TMP/$1-tutti$2.json"
  local i=0
  for e in $TORCH_ENVS; do
    i=$((i + 1))
    echo "== round $2/$ROUNDS, $1: PyTorch eager (${e//,/ })" >&2
    env ${e//,/ } /usr/bin/python3 bench/pytorch_att.py --clips "$CLIPS" \
      --threads "$TORCH_THREADS" --epochs 2 >"$TMP/$1-torch$2-$i.json"
  done
}

for r in $(seq 1 "$ROUNDS"); do
  run_pair quiet "$r"
  start_load
  run_pair loaded "$r"
  stop_load
done

/usr/bin/python3 - "$TMP" "$ROUNDS" "$TORCH_ENVS" "$LOAD" <<'PY'
import json, statistics as st, sys
tmp, rounds, envs, load = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
med = st.median
for tag in ("quiet", "loaded"):
    rows = []
    for r in range(1, rounds + 1):
        meta = json.load(open(f"{tmp}/{tag}-tutti{r}.json"))["training"]
        secs = [h["seconds"] for h in meta["history"]][1:]
        torch = [json.load(open(f"{tmp}/{tag}-torch{r}-{i + 1}.json"))["seconds_per_epoch"]
                 for i in range(len(envs))]
        rows.append(dict(load=open(f"{tmp}/{tag}-load{r}.txt").read().strip(), tutti=med(secs),
                         torch=torch, n=meta["n_train"]))
        ts = " / ".join(f"{t:.3f}" for t in torch)
        print(f"{tag} round {r} (loadavg {rows[-1]['load']}): tutti {med(secs):.3f} s/epoch "
              f"({rows[-1]['n']} clips) | PyTorch {ts} s/epoch")
    best = min(range(len(envs)), key=lambda i: med(r["torch"][i] for r in rows))
    u = med(r["tutti"] for r in rows)
    t = med(r["torch"][best] for r in rows)
    ratio = med(r["torch"][best] / r["tutti"] for r in rows)
    what = "no background load" if tag == "quiet" else f"{load} busy-loop processes"
    print(f"{tag} ({what}): tutti {u:.3f} s/epoch vs PyTorch {t:.3f} s/epoch "
          f"({envs[best]}): {ratio:.2f}x (median of per-round ratios)")
PY
