"""Classification metrics in numpy: accuracy, macro-F1, the confusion matrix; micro/macro-F1
for multi-label. Inputs are class ids (n,) or 0/1 indicator matrices (n, labels)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: rows are true classes, columns predictions."""
    flat = np.asarray(y_true, np.int64) * n_classes + np.asarray(y_pred, np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros(tp.shape, float), where=denom > 0)


def single_label_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                         names: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 (mean over classes that occur in truth or prediction), per-class
    F1 and the confusion matrix."""
    cm = confusion_matrix(y_true, y_pred, len(names))
    tp = np.diag(cm).astype(float)
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    f1 = _f1(tp, fp, fn)
    present = (cm.sum(0) + cm.sum(1)) > 0
    return {
        "n": int(len(y_true)),
        "accuracy": float(tp.sum() / max(len(y_true), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_f1": {name: float(v) for name, v in zip(names, f1, strict=True)},
        "labels": list(names),
        "confusion_matrix": cm.tolist(),
    }


def multi_label_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                        names: Sequence[str]) -> dict[str, Any]:
    """Subset accuracy (all labels right), label accuracy, micro- and macro-F1 (macro over
    labels that occur in truth or prediction)."""
    t, p = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp = (t & p).sum(0).astype(float)
    fp, fn = (~t & p).sum(0).astype(float), (t & ~p).sum(0).astype(float)
    f1 = _f1(tp, fp, fn)
    present = (t.sum(0) + p.sum(0)) > 0
    return {
        "n": int(len(t)),
        "accuracy": float((t == p).all(1).mean()) if len(t) else 0.0,
        "label_accuracy": float((t == p).mean()) if t.size else 0.0,
        "micro_f1": float(_f1(tp.sum(keepdims=True), fp.sum(keepdims=True),
                              fn.sum(keepdims=True))[0]),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_f1": {name: float(v) for name, v in zip(names, f1, strict=True)},
        "labels": list(names),
    }


def majority_accuracy(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy of always predicting the most frequent training class (single-label)."""
    if not len(y_test):
        return 0.0
    majority = np.bincount(np.asarray(y_train, np.int64)).argmax()
    return float((np.asarray(y_test) == majority).mean())
