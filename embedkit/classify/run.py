"""File-level entry points, one per CLI command: train from a data file and save the model,
evaluate a saved model on a data file, predict labels of texts.

Each is the single library call behind ``embedkit classify train|evaluate|predict``.
"""

from __future__ import annotations

import codecs
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.atomic import check_writable
from embedkit.classify.baselines import BASELINE_NAMES
from embedkit.classify.classifier import (
    ClassifierConfig,
    TextClassifier,
    check_model,
    data_fingerprint,
    held_out_ids,
    train_classifier,
)
from embedkit.classify.datasets import DataPath, LabelledTexts, read_dataset
from embedkit.errors import InputFormatError, UsageError

log = logging.getLogger("embedkit.classify")
EVAL_SPLITS = ("test", "all", "train", "validation")


def train_files(
    data: DataPath,
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
    if plot and config.model in BASELINE_NAMES:
        raise UsageError(f"--plot: {config.model} is fitted in one step, with no epochs to "
                         "plot; leave out --plot")
    if vectors is not None and config.model in BASELINE_NAMES:
        log.warning("--vectors is not used by %s (a bag-of-words model)", config.model)
    for target in (output, history, plot):
        if target:
            check_writable(target)
    options = check_read_options(read_options)
    embedding = None
    if vectors is not None:  # opening is instant: a wrong name is reported before reading
        from embedkit import workspace

        embedding = workspace.open_set(vectors, home)
    dataset = read_dataset(data, **options)
    test = read_dataset(test_data, **options) if test_data else None
    result = train_classifier(dataset, config, embedding, test)
    result.classifier.trained_on.update(path=_absolute(data), read_options=options)
    result.classifier.save(output)
    if history:
        result.history.save(history)
    if plot:
        result.history.plot(plot)
    return {"model": config.model, "output": str(output), "data": _shown(data),
            "vectors": str(vectors) if vectors else None, **result.info,
            "epochs_run": len(result.history.epochs), "best_epoch": result.history.best_epoch,
            "stopped_early": result.history.stopped_early,
            "history": result.history.epochs, "refit_history": result.history.refit,
            "test": result.test_metrics}


def evaluate_files(
    model: str | os.PathLike,
    data: DataPath,
    split: str = "test",
    read_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Metrics of a saved model on ``data``: its own test split when it has one
    (``split="test"``), or every text (``"all"``), or another named split."""
    if split not in EVAL_SPLITS:
        raise UsageError(f"unknown split {split!r}; valid: {', '.join(EVAL_SPLITS)}")
    classifier = TextClassifier.load(model)
    dataset = read_dataset(data, **check_read_options(read_options))
    dataset, split = _evaluated_part(classifier, dataset, split, data)
    try:
        metrics = classifier.evaluate(dataset)
    except InputFormatError as err:
        if err.path is not None:
            raise
        raise InputFormatError(str(err), _shown(data)) from None  # say which file
    return {"model": str(model), "data": _shown(data), "split": split, **metrics}


def _paths(data: DataPath) -> list[str | os.PathLike]:
    return [data] if isinstance(data, (str, os.PathLike)) else list(data)


def _shown(data: DataPath) -> str:
    """The data path(s) as the user gave them, for messages and reports."""
    return ", ".join(str(p) for p in _paths(data))


def _absolute(data: DataPath) -> str | list[str]:
    """Absolute path(s) of the data, as recorded in a model (one path: a string)."""
    paths = [os.path.abspath(p) for p in _paths(data)]
    return paths[0] if len(paths) == 1 else paths


def _evaluated_part(classifier: TextClassifier, dataset: LabelledTexts, split: str,
                    data: DataPath) -> tuple[LabelledTexts, str]:
    """The texts of ``split``: when ``data`` is the model's training data, the part its
    training run drew (the same seed, so ``test`` is the held-out test part and ``train``
    leaves out the validation texts drawn from the data's own train split); else the data's
    own split of that name; else every text for ``test``."""
    trained_on, shown = classifier.trained_on or {}, _shown(data)
    same = trained_on.get("fingerprint") == data_fingerprint(dataset)
    if split != "all" and dataset.has_split(split) and not same:
        return dataset.subset([i for i, s in enumerate(dataset.splits) if s == split]), split
    if not same and trained_on.get("path") == _absolute(data):
        log.warning("%s is the file the model was trained on, but read with other options "
                    "(training read it with %s), so its held-out part cannot be found: "
                    "texts it was trained on are scored too; pass the same options", shown,
                    _options_text(trained_on.get("read_options") or {}))
    ids = _trained_parts(classifier, dataset) if same and split != "all" else None
    if ids is not None and len(ids[split]):
        log.info("%s is the model's training data: evaluating the %s part its training drew "
                 "(seed %d)", shown, split, classifier.config.seed)
        return dataset.subset(ids[split]), split
    if split in ("test", "all"):
        if same:
            log.warning("%s is the model's training data: every text is scored, including "
                        "the texts it was trained on", shown)
        return dataset, "all"
    why = " (a baseline fits on its validation texts too)" if same and \
        classifier.config.model in BASELINE_NAMES else ""
    others = " or ".join(s for s in ("test", "all") if s != split)
    raise InputFormatError(f"no texts in the {split!r} split{why}; pass --split {others}",
                           shown)


def _trained_parts(classifier: TextClassifier, dataset: LabelledTexts) -> dict[str, Any]:
    """The train/validation/test ids the model's training drew from ``dataset``; a baseline
    fits on the validation texts too, so they are part of its training texts."""
    ids = held_out_ids(dataset, classifier.config,
                       (classifier.trained_on or {}).get("test_data", False))
    if classifier.config.model in BASELINE_NAMES:
        ids["train"] = np.sort(np.concatenate([ids["train"], ids["validation"]]))
        ids["validation"] = ids["validation"][:0]
    return ids


def _options_text(options: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in options.items() if v not in (None, "auto")}
    return ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in shown.items()) or "defaults"


def check_read_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Dataset reading options with the delimiter and encoding checked (``\\t`` typed
    literally is a tab)."""
    options = dict(options or {})
    delimiter = options.get("delimiter")
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise UsageError(f"--delimiter must be one character (or \\t), got {delimiter!r}")
        options["delimiter"] = delimiter
    if "encoding" in options:
        check_encoding(options["encoding"])
    return options


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python knows it, else a :class:`UsageError`."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"unknown --encoding {encoding!r}; e.g. utf-8, latin-1, cp1252") \
            from None
    return encoding


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


def read_texts(path: str | os.PathLike, encoding: str = "utf-8") -> list[str]:
    """The lines of a file, or of standard input for ``"-"``: texts to classify, one per
    line (blank lines included, so predictions line up with the input). Undecodable bytes
    are replaced, with a warning."""
    check_encoding(encoding)
    if str(path) == "-":
        raw = sys.stdin.buffer.read()
    else:
        path = Path(path)
        if not path.is_file():
            raise InputFormatError("no such file" if not path.exists() else "not a file", path)
        raw = path.read_bytes()
    if b"\0" in raw[:8192] and not codecs.lookup(encoding).name.startswith(("utf-16",
                                                                             "utf-32")):
        raise InputFormatError("a binary file, not lines of text", path)
    if codecs.lookup(encoding).name == "utf-8":
        raw = raw.removeprefix(codecs.BOM_UTF8)  # a byte-order mark is not part of line 1
    text = raw.decode(encoding, "replace")
    bad = text.count("\ufffd") - raw.decode(encoding, "ignore").count("\ufffd")
    if bad:
        log.warning("%s: %d bytes that are not valid %s were replaced (pass --encoding, e.g. "
                    "latin-1)", path, bad, encoding)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final line break ends the last line
    if not lines:
        raise InputFormatError("empty: no lines to classify; give one text per line",
                               "standard input" if str(path) == "-" else path)
    return [line.strip() for line in lines]
