#!/usr/bin/env python3
"""tools/model_card_table.py on a tiny ATT trained by the CLI: one row per class whose AP, AUC and
positives are `tutti eval --json`'s and whose threshold is the model file's, the macro row, and
one error line for a file that is not a model.

    python3 tests/tools/test_model_card_table.py build/tutti   (exit 77 = skipped: no CLI)
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

from tutti_cli import TEST, TRAIN, tool, tutti_binary

TOOL = tool("model_card_table.py")
T = tutti_binary()

with tempfile.TemporaryDirectory() as tmp:
    model, ev = os.path.join(tmp, "m.tutti"), os.path.join(tmp, "eval.json")
    subprocess.run([T, "train", TRAIN, "--model", "att", "--epochs", "2", "--threads", "1",
                    "-o", model], check=True, capture_output=True)
    out = subprocess.run([T, "eval", model, TEST, "--json", "--threads", "1"], check=True,
                         capture_output=True, text=True).stdout
    with open(ev, "w") as f:
        f.write(out)
    m = json.loads(out)
    with zipfile.ZipFile(model) as z:
        meta = json.loads(z.read("meta.json"))
    p = subprocess.run([sys.executable, TOOL, model, ev], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rows = [r.strip("|").split("|") for r in p.stdout.strip().splitlines()[2:]]
    assert len(rows) == len(meta["classes"]) + 1, p.stdout
    for r, c, th in zip(rows, meta["classes"], meta["thresholds"]):
        cells = [x.strip() for x in r]
        v = m["per_class"][c]
        assert cells[0] == c, cells
        assert cells[1] == f"{v['ap']:.3f}" and cells[2] == f"{v['auc']:.3f}", (cells, v)
        assert cells[4] == f"{th:.3f}" and cells[7] == str(v["n_pos"]), (cells, th, v)
    assert rows[-1][1].strip() == f"**{m['mAP']:.3f}**", rows[-1]
    bad = subprocess.run([sys.executable, TOOL, ev, ev], capture_output=True, text=True)
    assert bad.returncode != 0 and "not a tutti model file" in bad.stderr, bad.stderr
print("ok")
