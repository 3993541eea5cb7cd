#!/usr/bin/python3
"""Python side of bench/predict_side_by_side.sh: the time of tutti.Model.predict(X, n_instances)
on the arrays of a bag dataset (numpy's np.load; loading is not timed), the same work as
build/bench/bench_predict.

    PYTHONPATH=build/python /usr/bin/python3 bench/predict_python.py MODEL DATA [REPEATS] [THREADS]

Prints {"seconds": median, "all": [...], "clips": N}.
"""
import json
import statistics
import sys
import time

import tutti  # first: the thread environment, before numpy loads OpenBLAS
import numpy as np

model = tutti.Model.load(sys.argv[1])
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 0
z = np.load(sys.argv[2])
X, n = z["X"], z["n_instances"]
model.predict(X, n, threads=threads)  # warm-up, as the C++ side
secs = []
for _ in range(repeats):
    t0 = time.perf_counter()
    scores = model.predict(X, n, threads=threads)
    secs.append(time.perf_counter() - t0)
    assert scores.shape[0] == X.shape[0]
print(json.dumps({"seconds": statistics.median(secs), "all": secs, "clips": int(X.shape[0])}))
