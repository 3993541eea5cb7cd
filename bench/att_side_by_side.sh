#!/usr/bin/env bash
# ATT side by side: tutti (LibTorch, fused engine and autograd) vs PyTorch eager (Debian torch 1.13)
# on the same machine, threads and batch size; OpenMIC-sized random data (20,000 x 10 x 128 uint8).
# Also the peak memory of `tutti train --model att` on 20,000 clips (/usr/bin/time -v).
#   bench/att_side_by_side.sh [BUILD_DIR]      (env: CLIPS=20000 THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CLIPS=${CLIPS:-20000}
THREADS=${THREADS:-2}
# Both sides run under the thread settings the tutti program gives itself (apps/tutti/main.cpp):
# one BLAS thread inside LibTorch's intra-op threads, passive OpenMP waits.
export OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== tutti (bench_train, $CLIPS clips, $THREADS threads)" >&2
TUTTI_BENCH_CLIPS=$CLIPS TUTTI_BENCH_THREADS=$THREADS "$BUILD/bench/bench_train" \
  --benchmark_filter='BM_Att' --benchmark_format=json >"$TMP/tutti.json"
echo "== PyTorch eager" >&2
/usr/bin/python3 bench/pytorch_att.py --clips "$CLIPS" --threads "$THREADS" --epochs 2 >"$TMP/torch.json"

echo "== peak memory: tutti train --model att on $CLIPS clips (2 epochs)" >&2
/usr/bin/python3 - "$TMP/data.npz" "$CLIPS" <<'PY'
import sys, numpy as np
n = int(sys.argv[2]); rng = np.random.default_rng(1)
m = rng.random((n, 20)) < 0.2; m[0] = True
np.savez(sys.argv[1], X=rng.integers(0, 256, (n, 10, 128), dtype=np.uint8),
         n_instances=np.full(n, 10, np.int32),
         Y_true=np.where(m, (rng.random((n, 20)) < 0.3).astype(np.float32), 0.5).astype(np.float32),
         Y_mask=m, sample_key=np.array([f"c{i}" for i in range(n)]),
         classes=np.array([f"class_{i}" for i in range(20)]))
PY
/usr/bin/time -v "$BUILD/tutti" train "$TMP/data.npz" --model att --epochs 2 --threads "$THREADS" \
  -o "$TMP/m.tutti" 2>"$TMP/time.txt" || { cat "$TMP/time.txt" >&2; exit 1; }
PEAK_KB=$(grep "Maximum resident set size" "$TMP/time.txt" | awk '{print $NF}')

/usr/bin/python3 - "$TMP/tutti.json" "$TMP/torch.json" "$PEAK_KB" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["benchmarks"]
p = json.load(open(sys.argv[2]))
peak_mb = int(sys.argv[3]) / 1024
def get(name):
    for b in t:
        if b["name"].startswith(name):
            return b
fused = get("BM_AttEpoch/0")["real_time"] / 1000.0
autograd = get("BM_AttEpoch/1")["real_time"] / 1000.0
inf = get("BM_AttInference")["items_per_second"]
print(f"PyTorch eager {p['torch']}: {p['seconds_per_epoch']:.3f} s/epoch, {p['infer_clips_per_s']:.0f} clips/s inference")
print(f"tutti fused:    {fused:.3f} s/epoch  -> {p['seconds_per_epoch'] / fused:.2f}x PyTorch")
print(f"tutti autograd: {autograd:.3f} s/epoch  -> {p['seconds_per_epoch'] / autograd:.2f}x PyTorch")
print(f"tutti inference: {inf:.0f} clips/s  -> {inf / p['infer_clips_per_s']:.2f}x PyTorch")
print(f"tutti train peak RSS ({p['clips']} clips): {peak_mb:.0f} MB")
PY
