#!/usr/bin/env python3
"""tools/ensemble_study.py on two tiny ATT runs per seed trained by the CLI: one ensemble per seed
whose results.json entry holds the ensemble file's validation mAP and `tutti eval`'s test mAP,
the best combination printed, reuse of existing ensembles, --val-fraction, and the refused
inputs.

    python3 tests/tools/test_ensemble_study.py build/tutti   (exit 77 = skipped: no CLI)
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

from tutti_cli import TEST, TRAIN, tool, tutti_binary

TOOL = tool("ensemble_study.py")
T = tutti_binary()


def ok(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, f"{cmd}: {p.stderr}"
    return p.stdout


def study(out, *more):
    return subprocess.run([sys.executable, TOOL, "--tutti", T, "--validation", TRAIN, "--test",
                           TEST, "--seeds", "2", "-o", out, "--member",
                           f"a={out}/../a-{{seed}}.tutti", "--member",
                           f"b={out}/../b-{{seed}}.tutti", *more],
                          capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    for s in (1, 2):
        base = ["train", TRAIN, "--model", "att", "--epochs", "2", "--threads", "1"]
        ok([T, *base, "--seed", str(s), "-o", f"{tmp}/a-{s}.tutti"])
        ok([T, *base, "--seed", str(s + 1000), "--val-seed", str(s), "-o", f"{tmp}/b-{s}.tutti"])
    out = os.path.join(tmp, "combo")
    p = study(out, "--ensembles", "a+b")
    assert p.returncode == 0, p.stderr
    runs = json.load(open(os.path.join(out, "results.json")))["runs"]
    assert [(r["model"], r["seed"]) for r in runs] == [("a+b", 1), ("a+b", 2)], runs
    for r in runs:
        f = os.path.join(out, r["model_file"])
        with zipfile.ZipFile(f) as z:
            meta = json.loads(z.read("meta.json"))
        assert meta["ensemble"]["members"] == 2, meta["ensemble"]
        assert "seed %d" % r["seed"] in meta["ensemble"]["validation"], meta["ensemble"]
        assert r["val_map"] == meta["training"]["val_map"]
        ev = json.loads(ok([T, "eval", f, TEST, "--json", "--threads", "1"]))
        assert r["metrics"]["mAP"] == ev["mAP"], (r["metrics"]["mAP"], ev["mAP"])
    assert p.stdout.strip().splitlines()[-1] == "best on validation: a+b", p.stdout
    # A second call reuses the ensembles (same bytes) and gives the same results.
    before = open(os.path.join(out, "a+b-seed1.tutti"), "rb").read()
    p2 = study(out, "--ensembles", "all")
    assert p2.returncode == 0, p2.stderr
    assert open(os.path.join(out, "a+b-seed1.tutti"), "rb").read() == before
    assert json.load(open(os.path.join(out, "results.json")))["runs"] == runs
    # --val-fraction: the members' own validation fraction chooses the ensemble's thresholds.
    p3 = study(os.path.join(tmp, "combo3"), "--ensembles", "a+b", "--val-fraction", "0.3")
    assert p3.returncode == 0, p3.stderr
    with zipfile.ZipFile(os.path.join(tmp, "combo3", "a+b-seed1.tutti")) as z:
        validation = json.loads(z.read("meta.json"))["ensemble"]["validation"]
    assert "fraction 0.3, seed 1" in validation, validation
    runs3 = json.load(open(os.path.join(tmp, "combo3", "results.json")))["runs"]
    assert runs3[0]["train_config"]["val_fraction"] == 0.3, runs3[0]
    assert "fraction 0.15, seed 2" in meta["ensemble"]["validation"], meta["ensemble"]  # default
    # Refused: a combination naming no member, a member file that is missing.
    bad = study(out, "--ensembles", "a+c")
    assert bad.returncode != 0 and "'c' is not a --member" in bad.stderr, bad.stderr
    os.remove(f"{tmp}/b-2.tutti")
    bad = study(os.path.join(tmp, "combo2"), "--ensembles", "a+b")
    assert bad.returncode != 0 and "b-2.tutti: no such model file" in bad.stderr, bad.stderr
print("ok")
