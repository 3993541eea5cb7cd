#!/usr/bin/python3
"""OpenMIC-sized random bags for the ATT side-by-side scripts: N clips x 10 x 128 uint8, 20
classes, 20 % of the labels known, seeded (the same file every time).

    /usr/bin/python3 bench/att_random_data.py OUT.npz N
"""
import sys

import numpy as np

n = int(sys.argv[2])
rng = np.random.default_rng(1)
m = rng.random((n, 20)) < 0.2
m[0] = True
np.savez(sys.argv[1], X=rng.integers(0, 256, (n, 10, 128), dtype=np.uint8),
         n_instances=np.full(n, 10, np.int32),
         Y_true=np.where(m, (rng.random((n, 20)) < 0.3).astype(np.float32), 0.5).astype(np.float32),
         Y_mask=m, sample_key=np.array([f"c{i}" for i in range(n)]),
         classes=np.array([f"class_{i}" for i in range(20)]))
