#!/usr/bin/env python3
"""Two facts behind the fused MMGAT ops' fixed row blocks (docs/benchmarks.md, MMGAT):
1. OpenBLAS's sums for a row of a @ w.T change with how the rows are split into products, so a
   split that follows the thread count would make results depend on it;
2. the rate of one [M,128] x [128,128] product on one core, for M = 128 .. 1280 rows.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/blas_row_split.py
(Debian's python3-torch uses the same OpenBLAS as tutti's LibTorch.)
"""
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
w = torch.randn(128, 128)
a = torch.randn(1280, 128)
full = a @ w.t()
for cut in (256, 640):
    split = torch.cat([a[:cut] @ w.t(), a[cut:] @ w.t()])
    print(f"rows split at {cut}: identical={torch.equal(full, split)}, "
          f"max |diff| {(full - split).abs().max().item():.2e}")
for m in (128, 256, 640, 1280):
    x, out = torch.randn(m, 128), torch.empty(m, 128)
    for _ in range(50):
        torch.mm(x, w.t(), out=out)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        torch.mm(x, w.t(), out=out)
    dt = (time.perf_counter() - t0) / n
    print(f"[{m},128] x [128,128]: {dt * 1e6:.0f} us, {2 * m * 128 * 128 / dt / 1e9:.1f} GFLOP/s")
