#!/usr/bin/python3
"""RF_BR side by side: tutti (xgboost random-forest mode) vs scikit-learn's RandomForestClassifier
(100 trees, max_depth 8, max_features='sqrt'), one forest per class on the clips where the class is
known, mean-over-instances features: training time and test mAP on the same data.

    /usr/bin/python3 bench/rf_side_by_side.py build-train/tutti [--train 15000 --test 5000 --threads 2]
    /usr/bin/python3 bench/rf_side_by_side.py build/tutti --train-npz as20-train.npz --test-npz as20-test.npz

The data are synthetic but learnable, OpenMIC-shaped: 10 x 128 uint8 instances per clip,
20 classes, each class present in a clip adds its prototype to a random subset of the instances,
25% of the labels known. Both sides train on the same rows (a fixed 85% / 15% train/validation
index file is passed to tutti; scikit-learn gets the same 85%) and are scored on the same test set
with the same metric (macro average precision over classes, known labels only).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score

K, D, C = 10, 128, 20


def make(n, rng, protos):
    y = rng.random((n, C)) < rng.uniform(0.05, 0.4, C)
    x = rng.normal(0, 1, (n, K, D))
    for c in range(C):
        rows = np.nonzero(y[:, c])[0]
        active = rng.random((len(rows), K)) < 0.5
        x[rows] += 0.25 * active[:, :, None] * protos[c][None, None, :]
    xu8 = np.clip(np.round(128 + 30 * x), 0, 255).astype(np.uint8)
    mask = rng.random((n, C)) < 0.25
    y_true = np.where(mask, y.astype(np.float32), 0.5).astype(np.float32)
    return dict(X=xu8, n_instances=np.full(n, K, np.int32), Y_true=y_true, Y_mask=mask,
                sample_key=np.array([f"c{i}" for i in range(n)]),
                classes=np.array([f"class_{i}" for i in range(C)]))


def clip_means(ds):
    """Mean over each clip's real instances, features scaled to [0, 1] (as tutti's RF_BR)."""
    x = ds["X"].astype(np.float64) / 255.0
    n = ds["n_instances"].astype(np.int64)
    real = np.arange(x.shape[1])[None, :] < n[:, None]
    return (x * real[:, :, None]).sum(1) / np.maximum(n, 1)[:, None]


def macro_ap(ds, scores):
    aps = []
    for c in range(ds["Y_true"].shape[1]):
        m = ds["Y_mask"][:, c]
        y = ds["Y_true"][m, c] >= 0.5
        if y.any() and not y.all():
            aps.append(average_precision_score(y, scores[m, c]))
    return float(np.mean(aps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tutti")
    ap.add_argument("--train", type=int, default=15000)
    ap.add_argument("--test", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-npz", help="real bag datasets instead of synthetic ones")
    ap.add_argument("--test-npz")
    args = ap.parse_args()
    if args.train_npz:
        train, test = dict(np.load(args.train_npz)), dict(np.load(args.test_npz))
        args.train, args.test = len(train["X"]), len(test["X"])
    else:
        rng = np.random.default_rng(0)
        protos = rng.normal(0, 1, (C, D))
        train, test = make(args.train, rng, protos), make(args.test, rng, protos)
    n_classes = train["Y_true"].shape[1]
    n_fit = int(0.85 * args.train)
    with tempfile.TemporaryDirectory() as tmp:
        tr_path, te_path = os.path.join(tmp, "train.npz"), os.path.join(tmp, "test.npz")
        split_path, model = os.path.join(tmp, "split.npz"), os.path.join(tmp, "rf.tutti")
        np.savez(tr_path, **train)
        np.savez(te_path, **test)
        np.savez(split_path, train=np.arange(n_fit, dtype=np.int64),
                 val=np.arange(n_fit, args.train, dtype=np.int64))
        t0 = time.perf_counter()
        subprocess.run([args.tutti, "train", tr_path, "--model", "rf", "--seed", "1", "--threads",
                        str(args.threads), "--val-split", split_path, "-o", model], check=True,
                       stderr=subprocess.DEVNULL)
        tutti_wall = time.perf_counter() - t0
        meta = subprocess.run(["unzip", "-p", model, "meta.json"], capture_output=True)
        tutti_fit = (json.loads(meta.stdout)["training"]["train_seconds"]
                     if meta.returncode == 0 else float("nan"))
        ev = subprocess.run([args.tutti, "eval", model, te_path, "--json"], check=True,
                            capture_output=True)
        tutti_map = json.loads(ev.stdout)["mAP"]

    xf = clip_means(train)[:n_fit]
    xt = clip_means(test)
    scores = np.zeros((args.test, n_classes))
    t0 = time.perf_counter()
    for c in range(n_classes):
        m = train["Y_mask"][:n_fit, c]
        clf = RandomForestClassifier(n_estimators=100, max_depth=8, n_jobs=args.threads,
                                     random_state=0)
        clf.fit(xf[m], train["Y_true"][:n_fit][m, c] >= 0.5)
        scores[:, c] = clf.predict_proba(xt)[:, 1]
    sk_time = time.perf_counter() - t0
    sk_map = macro_ap(test, scores)
    print(json.dumps({"clips_train": n_fit, "clips_test": args.test, "threads": args.threads,
                      "tutti_fit_seconds": tutti_fit, "tutti_wall_seconds": tutti_wall,
                      "tutti_test_map": tutti_map, "sklearn_fit_predict_seconds": sk_time,
                      "sklearn_test_map": sk_map,
                      "speedup_fit": sk_time / tutti_fit if tutti_fit == tutti_fit else None}))


if __name__ == "__main__":
    sys.exit(main())
