"""File-level entry points, one per CLI command: train from a data file and save the model,
evaluate a saved model on a data file, predict labels of texts.

Each is the single library call behind ``embedkit classify train|evaluate|predict``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from embedkit.atomic import check_writable
from embedkit.classify.classifier import (
    ClassifierConfig,
    TextClassifier,
    check_model,
    train_classifier,
)
from embedkit.classify.datasets import read_dataset
from embedkit.errors import InputFormatError, UsageError

EVAL_SPLITS = ("test", "all", "train", "validation")


def train_files(
    data: str | os.PathLike,
    output: str | os.PathLike,
    config: ClassifierConfig = ClassifierConfig(),
    vectors: str | os.PathLike | None = None,
    home: str | os.PathLike | None = None,
    test_data: str | os.PathLike | None = None,
    read_options: Mapping[str, Any] | None = None,
    history: str | os.PathLike | None = None,
    plot: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Read ``data``, train ``config.model`` (from the set ``vectors`` when given), save the
    model to ``output`` and, when asked, the history JSON and the loss/accuracy plot.

    Returns a report: sizes, labels, coverage, held-out metrics and the best epoch.
    """
    check_model(config.model)
    for target in (output, history, plot):
        if target:
            check_writable(target)
    options = dict(read_options or {})
    dataset = read_dataset(data, **options)
    test = read_dataset(test_data, **options) if test_data else None
    embedding = None
    if vectors is not None:
        from embedkit import workspace

        embedding = workspace.open_set(vectors, home)
    result = train_classifier(dataset, config, embedding, test)
    result.classifier.save(output)
    if history:
        result.history.save(history)
    if plot:
        result.history.plot(plot)
    return {"model": config.model, "output": str(output), "data": str(data),
            "vectors": str(vectors) if vectors else None, **result.info,
            "epochs_run": len(result.history.epochs), "best_epoch": result.history.best_epoch,
            "stopped_early": result.history.stopped_early,
            "history": result.history.epochs, "refit_history": result.history.refit,
            "test": result.test_metrics}


def evaluate_files(
    model: str | os.PathLike,
    data: str | os.PathLike,
    split: str = "test",
    read_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Metrics of a saved model on ``data``: its own test split when it has one
    (``split="test"``), or every text (``"all"``), or another named split."""
    if split not in EVAL_SPLITS:
        raise UsageError(f"unknown split {split!r}; valid: {', '.join(EVAL_SPLITS)}")
    classifier = TextClassifier.load(model)
    dataset = read_dataset(data, **dict(read_options or {}))
    if split == "test" and not dataset.has_split("test"):
        split = "all"
    if split != "all":
        dataset = dataset.subset([i for i, s in enumerate(dataset.splits) if s == split])
        if not len(dataset):
            raise InputFormatError(f"no texts in the {split!r} split", data)
    return {"model": str(model), "data": str(data), "split": split,
            **classifier.evaluate(dataset)}


def predict_texts(model: str | os.PathLike, texts: Sequence[str]) -> list[dict[str, Any]]:
    """Predicted labels and per-label probabilities for each text."""
    classifier = TextClassifier.load(model)
    if not texts:
        raise UsageError("no texts to classify; give TEXT arguments or --file")
    scores = classifier.predict_scores(texts)
    labels = classifier.labels_of(scores)
    names = classifier.labels.names
    return [{"text": text, "labels": list(labs),
             "scores": {name: float(p) for name, p in zip(names, row, strict=True)}}
            for text, labs, row in zip(texts, labels, scores, strict=True)]


def read_texts(path: str | os.PathLike) -> list[str]:
    """Non-empty lines of a UTF-8 file, or of standard input for ``"-"`` (undecodable bytes
    replaced): texts to classify."""
    raw = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    return [line.strip() for line in raw.decode("utf-8", "replace").split("\n") if line.strip()]
