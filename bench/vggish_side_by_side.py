#!/usr/bin/python3
"""PyTorch eager side of the VGGish throughput comparison (bench/vggish_side_by_side.sh).

    OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000 /usr/bin/python3 bench/vggish_side_by_side.py \
        --threads 1 --batch 32 --seconds 5

Random weights; the architecture of torchvggish (tools/fixtures/make_vggish_fixtures.py's VGG).
Prints one line: `pytorch threads=T batch=B examples_per_s=X` (median of 5 timed windows).
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "fixtures"))
from make_vggish_fixtures import VGG  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=5.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = VGG().eval()
    x = torch.randn(a.batch, 1, 96, 64) - 1.0
    rates = []
    with torch.no_grad():
        net(x)  # warm-up
        for _ in range(5):
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < a.seconds / 5:
                net(x)
                n += a.batch
            rates.append(n / (time.perf_counter() - t0))
    print(f"pytorch threads={a.threads} batch={a.batch} examples_per_s={statistics.median(rates):.1f}")


if __name__ == "__main__":
    main()
