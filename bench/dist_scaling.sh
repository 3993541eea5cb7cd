#!/usr/bin/env bash
# Data-parallel training, 1 process vs 2 ranks (`tutti launch`), one thread each, on the AudioSet
# OpenMIC-20 data (docs/results.md): seconds per epoch, speed-up and efficiency for the same global
# batch, peak memory of the largest process, the bytes each rank allreduces per step, and the
# efficiency the measured per-step compute predicts for N machines (docs/distributed.md):
#   t_comm = calls * 2 (N-1) * ALPHA + 2 (N-1)/N * bytes * 8 / bandwidth   (ring allreduce)
#   efficiency = t_step / (t_step + t_comm)                                 (no overlap)
# Usage: bench/dist_scaling.sh [TUTTI_BINARY] [WORK_DIR]   (numbers: docs/benchmarks.md)
# Needs ../shared/data (or $TUTTI_SHARED_DATA) and /usr/bin/python3.
set -euo pipefail
T=$(realpath "${1:-build/tutti}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${TUTTI_SHARED_DATA:-$ROOT/../shared/data}
WORK=${2:-$(mktemp -d)}
EPOCHS=${EPOCHS:-3}
BATCH=${BATCH:-128}  # global batch: 1 x 128 and 2 x 64
mkdir -p "$WORK"
export OMP_WAIT_POLICY=PASSIVE CI=1
[ -f "$WORK/as20.npz" ] || "$T" data convert audioset "$SHARED/audioset/bal_train" \
  --taxonomy openmic20 -o "$WORK/as20.npz" >/dev/null 2>&1
for m in att fc_t mmgat; do
  /usr/bin/time -f "%M" -o "$WORK/$m-1.rss" "$T" train "$WORK/as20.npz" --model "$m" \
    --epochs "$EPOCHS" --seed 1 --threads 1 --batch-size "$BATCH" -o "$WORK/$m-1.tutti" 2>/dev/null
  /usr/bin/time -f "%M" -o "$WORK/$m-2.rss" "$T" launch --nproc-per-node 2 -- train \
    "$WORK/as20.npz" --model "$m" --epochs "$EPOCHS" --seed 1 --threads 1 \
    --batch-size $((BATCH / 2)) -o "$WORK/$m-2.tutti" 2>/dev/null
done
ALPHA=${ALPHA:-30e-6}  # seconds per message hop (TCP between machines; an assumption)
/usr/bin/python3 - "$WORK" "$BATCH" "$ALPHA" <<'PY'
import io, json, statistics, sys, zipfile
import torch
work, batch, alpha = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# Collective calls per step: the gradient bucket, plus for ATT's synchronized batch-norm a forward
# statistics sum per batch-norm (4; the input's carries the batch's {instances, known labels})
# and a backward one per hidden batch-norm (3), each 2 x 128 doubles.
calls = {"att": 1 + 4 + 3, "fc_t": 1, "mmgat": 1}
bn_bytes = {"att": 16 + (4 + 3) * 2 * 128 * 8, "fc_t": 0, "mmgat": 0}
model_rows = []
def info(path):
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("meta.json"))
        mod = torch.jit.load(io.BytesIO(z.read("weights.pt")))
    return meta, len(list(mod.parameters()))
print("model   params  tensors  bytes/step  s/epoch 1x1  s/epoch 2x1  speed-up  efficiency  "
      "step s (1 proc)  peak RSS MB 1 / 2")
for m in ["att", "fc_t", "mmgat"]:
    meta1, n_tensors = info(f"{work}/{m}-1.tutti")
    meta2, _ = info(f"{work}/{m}-2.tutti")
    t = meta1["training"]
    params = t["params"]
    # Gradients of every parameter tensor plus one has-gradient flag per tensor, as float32.
    step_bytes = 4 * (params + n_tensors) + bn_bytes[m]
    s1 = statistics.median(e["seconds"] for e in t["history"])
    s2 = statistics.median(e["seconds"] for e in meta2["training"]["history"])
    steps = -(-t["n_train"] // batch)
    rss1 = int(open(f"{work}/{m}-1.rss").read().split()[-1]) / 1024
    rss2 = int(open(f"{work}/{m}-2.rss").read().split()[-1]) / 1024
    print(f"{m:6s} {params:7d} {n_tensors:8d} {step_bytes:11d} {s1:12.2f} {s2:12.2f} "
          f"{s1 / s2:9.2f} {s1 / (2 * s2):11.2f} {s1 / steps:16.4f}  {rss1:.0f} / {rss2:.0f}")
    model_rows.append((m, s1 / steps, step_bytes, calls[m]))
print(f"\nmodel efficiency, per-rank batch {batch}, alpha {alpha * 1e6:.0f} us per hop "
      "(columns: N machines @ Gb/s)")
grid = [(n, g) for n in (2, 8, 32) for g in (1, 10, 25)]
print("model  " + " ".join(f"{n:>3d}@{g:<3d}" for n, g in grid))
for m, t, b, c in model_rows:
    effs = []
    for n, g in grid:
        comm = c * 2 * (n - 1) * alpha + 2 * (n - 1) / n * b * 8 / (g * 1e9)
        effs.append(t / (t + comm))
    print(f"{m:6s} " + " ".join(f"{e:7.2f}" for e in effs))
print(f"\nfull AudioSet (2,000,000 clips): {2_000_000 // batch} steps per epoch for one rank "
      f"of batch {batch}; N ranks of batch {batch} each take 1/N of them")
PY
