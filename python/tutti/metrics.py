"""Clip-level metrics of a score matrix, computed by tutti's C++ library (eval/evaluate.h) with
scikit-learn's definitions (docs/metrics.md)."""

from . import _tutti


def evaluate(Y_true, Y_mask, scores, thresholds=None, classes=None):
    """The metrics `tutti eval --json` reports, as a dict.

    Y_true (N, C) relevance in [0, 1] (positive when >= 0.5); Y_mask (N, C) bool, True where the
    label is known (only known entries count); scores (N, C); thresholds (C,) per-class decision
    thresholds (None: 0.5 everywhere); classes: C names (None: "class_0", ...).

    Keys: mAP, auc, precision_pos, recall_pos, f1_pos, f1_pos_05, f1_attmic, micro {ap, auc, f1},
    skipped, skip_reasons, per_class {name: {ap, auc, precision, recall, f1, precision_05,
    recall_05, f1_05, f1_attmic, threshold, n_known, n_pos}}; an undefined value (a class without
    a known positive or negative) is None.
    """
    return _tutti.evaluate(Y_true, Y_mask, scores, thresholds, classes)
