#!/usr/bin/env bash
# ATT side by side: tutti (LibTorch, fused engine) vs PyTorch eager (Debian torch 1.13) on the same
# machine, threads and batch size; OpenMIC-sized random data (20,000 x 10 x 128 uint8).
# The machine may be shared, so the two sides are measured interleaved, ROUNDS times, and the
# report gives the median of each side and the median of the per-round ratios, with the load
# average before each round. Also the peak memory of `tutti train --model att` on the same data
# (/usr/bin/time -v).
#   bench/att_side_by_side.sh [BUILD_DIR]      (env: CLIPS=20000 THREADS=2 ROUNDS=3 AUTOGRAD=0)
#
# Thread environment. tutti runs as the `tutti` program runs itself (apps/tutti/main.cpp): one
# BLAS thread inside LibTorch's intra-op threads, OpenMP workers spinning up to ~10 ms between
# ops. PyTorch gets torch.set_num_threads(THREADS) and, in every round, each of the environments
# in TORCH_ENVS (the same one, passive waits, and passive waits with OpenBLAS threads); its best
# one counts (the defaults, OpenBLAS's own threads plus spinning OpenMP workers, were ~100x
# slower on this 2-core machine, so they are not in the default list).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CLIPS=${CLIPS:-20000}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
AUTOGRAD=${AUTOGRAD:-0}
TUTTI_ENV="OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000"
TORCH_ENVS=${TORCH_ENVS:-"OPENBLAS_NUM_THREADS=1,GOMP_SPINCOUNT=30000000 OPENBLAS_NUM_THREADS=1,OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=$THREADS,OMP_WAIT_POLICY=PASSIVE"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FILTER='BM_AttEpoch/0|BM_AttInference'
[ "$AUTOGRAD" = 1 ] && FILTER='BM_Att'

for r in $(seq 1 "$ROUNDS"); do
  cut -d' ' -f1-3 /proc/loadavg >"$TMP/load$r.txt"
  echo "== round $r/$ROUNDS (load $(cat "$TMP/load$r.txt")): tutti" >&2
  env $TUTTI_ENV TUTTI_BENCH_CLIPS=$CLIPS TUTTI_BENCH_THREADS=$THREADS "$BUILD/bench/bench_train" \
    --benchmark_filter="$FILTER" --benchmark_format=json >"$TMP/tutti$r.json"
  i=0
  for e in $TORCH_ENVS; do
    i=$((i + 1))
    echo "== round $r/$ROUNDS: PyTorch eager (${e//,/ })" >&2
    env ${e//,/ } /usr/bin/python3 bench/pytorch_att.py --clips "$CLIPS" --threads "$THREADS" \
      --epochs 2 >"$TMP/torch$r-$i.json"
  done
done

echo "== peak memory: tutti train --model att on $CLIPS clips (2 epochs)" >&2
/usr/bin/python3 bench/att_random_data.py "$TMP/data.npz" "$CLIPS"
/usr/bin/time -v "$BUILD/tutti" train "$TMP/data.npz" --model att --epochs 2 --threads "$THREADS" \
  -o "$TMP/m.tutti" 2>"$TMP/time.txt" || { cat "$TMP/time.txt" >&2; exit 1; }
PEAK_KB=$(grep "Maximum resident set size" "$TMP/time.txt" | awk '{print $NF}')

/usr/bin/python3 - "$TMP" "$ROUNDS" "$PEAK_KB" "$TORCH_ENVS" <<'PY'
import json, statistics as st, sys
tmp, rounds, peak_kb, envs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
def bench(r, name):
    for b in json.load(open(f"{tmp}/tutti{r}.json"))["benchmarks"]:
        if b["name"].startswith(name):
            return b
rows = []
for r in range(1, rounds + 1):
    load = open(f"{tmp}/load{r}.txt").read().strip()
    fused = bench(r, "BM_AttEpoch/0")["real_time"] / 1000.0
    ag = bench(r, "BM_AttEpoch/1")
    inf = bench(r, "BM_AttInference")["items_per_second"]
    torch = [json.load(open(f"{tmp}/torch{r}-{i + 1}.json")) for i in range(len(envs))]
    rows.append(dict(load=load, fused=fused, autograd=ag["real_time"] / 1000.0 if ag else None,
                     inf=inf, torch=torch))
    ts = " | ".join(f"{t['seconds_per_epoch']:.3f} s/epoch {t['infer_clips_per_s']:.0f} clips/s"
                    for t in torch)
    print(f"round {r} (load {load}): tutti {fused:.3f} s/epoch {inf:.0f} clips/s | PyTorch {ts}")
med = st.median
# PyTorch's best environment: the one with the lowest median epoch time.
best = min(range(len(envs)), key=lambda i: med(r["torch"][i]["seconds_per_epoch"] for r in rows))
best_inf = max(range(len(envs)), key=lambda i: med(r["torch"][i]["infer_clips_per_s"] for r in rows))
t_ep = med(r["torch"][best]["seconds_per_epoch"] for r in rows)
t_inf = med(r["torch"][best_inf]["infer_clips_per_s"] for r in rows)
u_ep = med(r["fused"] for r in rows)
u_inf = med(r["inf"] for r in rows)
r_ep = med(r["torch"][best]["seconds_per_epoch"] / r["fused"] for r in rows)
r_inf = med(r["inf"] / r["torch"][best_inf]["infer_clips_per_s"] for r in rows)
print(f"PyTorch eager {rows[0]['torch'][0]['torch']}, best env for training: {envs[best]}, "
      f"for inference: {envs[best_inf]}")
print(f"training: tutti fused {u_ep:.3f} s/epoch vs PyTorch {t_ep:.3f} s/epoch: "
      f"{r_ep:.2f}x (median of per-round ratios)")
if rows[0]["autograd"]:
    print(f"tutti autograd: {med(r['autograd'] for r in rows):.3f} s/epoch")
print(f"inference: tutti {u_inf:.0f} clips/s vs PyTorch {t_inf:.0f} clips/s: {r_inf:.2f}x")
print(f"tutti train peak RSS ({rows[0]['torch'][0]['clips']} clips): {peak_kb / 1024:.0f} MB")
PY
