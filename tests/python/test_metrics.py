"""tutti.metrics.evaluate against scikit-learn (to 1e-6) and against `tutti eval --json`."""
import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, \
    roc_auc_score

import tutti
from conftest import run_cli


def random_case(seed=0, n=300, c=5):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, c)) < 0.3).astype(np.float32)
    y[rng.random((n, c)) < 0.2] = 0.7  # relevance >= 0.5 counts as positive
    mask = rng.random((n, c)) < 0.8
    scores = np.clip(0.5 * y + 0.7 * rng.random((n, c)), 0, 1).astype(np.float32)
    thr = rng.uniform(0.3, 0.7, size=c).astype(np.float32)
    return y, mask, scores, thr


def test_evaluate_equals_sklearn():
    y, mask, scores, thr = random_case()
    r = tutti.metrics.evaluate(y, mask, scores, thr, classes=[f"c{i}" for i in range(5)])
    aps, aucs, f1s, precs, recs, f1_05, attmic = [], [], [], [], [], [], []
    pooled_t, pooled_s, pooled_p = [], [], []
    for c in range(y.shape[1]):
        m = mask[:, c]
        t = (y[m, c] >= 0.5).astype(int)
        s = scores[m, c]
        pred = (s >= thr[c]).astype(int)
        pc = r["per_class"][f"c{c}"]
        ap, auc = average_precision_score(t, s), roc_auc_score(t, s)
        assert pc["ap"] == pytest.approx(ap, abs=1e-6)
        assert pc["auc"] == pytest.approx(auc, abs=1e-6)
        assert pc["f1"] == pytest.approx(f1_score(t, pred, zero_division=0), abs=1e-6)
        assert pc["precision"] == pytest.approx(precision_score(t, pred, zero_division=0),
                                                abs=1e-6)
        assert pc["recall"] == pytest.approx(recall_score(t, pred, zero_division=0), abs=1e-6)
        p05 = (s >= 0.5).astype(int)
        assert pc["f1_05"] == pytest.approx(f1_score(t, p05, zero_division=0), abs=1e-6)
        assert pc["f1_attmic"] == pytest.approx(f1_score(t, p05, average="macro"), abs=1e-6)
        assert pc["n_known"] == int(m.sum()) and pc["n_pos"] == int(t.sum())
        aps.append(ap), aucs.append(auc), f1s.append(pc["f1"]), f1_05.append(pc["f1_05"])
        precs.append(pc["precision"]), recs.append(pc["recall"])
        attmic.append(pc["f1_attmic"])
        pooled_t.append(t), pooled_s.append(s), pooled_p.append(pred)
    assert r["mAP"] == pytest.approx(np.mean(aps), abs=1e-6)
    assert r["auc"] == pytest.approx(np.mean(aucs), abs=1e-6)
    assert r["f1_pos"] == pytest.approx(np.mean(f1s), abs=1e-6)
    assert r["precision_pos"] == pytest.approx(np.mean(precs), abs=1e-6)
    assert r["recall_pos"] == pytest.approx(np.mean(recs), abs=1e-6)
    assert r["f1_pos_05"] == pytest.approx(np.mean(f1_05), abs=1e-6)
    assert r["f1_attmic"] == pytest.approx(np.mean(attmic), abs=1e-6)
    t, s, p = map(np.concatenate, (pooled_t, pooled_s, pooled_p))
    assert r["micro"]["ap"] == pytest.approx(average_precision_score(t, s), abs=1e-6)
    assert r["micro"]["auc"] == pytest.approx(roc_auc_score(t, s), abs=1e-6)
    assert r["micro"]["f1"] == pytest.approx(f1_score(t, p), abs=1e-6)
    assert r["skipped"] == []


def test_skipped_class_is_none():
    y, mask, scores, _ = random_case(seed=1, c=3)
    y[:, 1] = 0  # no positive: skipped
    r = tutti.metrics.evaluate(y, mask, scores)
    assert r["skipped"] == ["class_1"]
    assert r["per_class"]["class_1"]["ap"] is None
    assert np.isfinite(r["mAP"])


def test_evaluate_equals_cli_eval_json(cli, bags, bags_file, att_file):
    ref = json.loads(run_cli(cli, "eval", att_file, bags_file, "--json").stdout)
    model = tutti.Model.load(att_file)
    got = tutti.metrics.evaluate(bags.Y_true, bags.Y_mask, model.predict(bags),
                                 model.thresholds, model.classes)
    for key in ("model", "model_type", "data", "n_clips"):
        ref.pop(key)
    assert got == ref
