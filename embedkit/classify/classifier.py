"""The one object a user holds: :class:`TextClassifier` (preprocessing + vocabulary + labels +
network or baseline), and :func:`train_classifier`, which coordinates the stages.

A classifier is saved as one file: ``torch.save`` of a dict holding the JSON config
(tokeniser, maxlen, truncation, vocabulary, label names, model and training configs)
and a state dict of tensors, written atomically; :meth:`TextClassifier.load` reads it
with ``weights_only=True`` (no pickled code) and predicts exactly as before saving.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.atomic import write_bytes
from embedkit.classify import preprocess as pp
from embedkit.classify.backend import (
    INITS,
    NETWORK_NAMES,
    POOLINGS,
    RECURRENT_NAMES,
    require,
    setup_torch,
)
from embedkit.classify.baselines import BASELINE_NAMES, BaselineConfig, LinearBaseline
from embedkit.classify.datasets import LabelledTexts
from embedkit.classify.metrics import majority_accuracy, multi_label_metrics, single_label_metrics
from embedkit.classify.train_config import TrainConfig
from embedkit.errors import DimensionOptionError, InputFormatError, StoreError, UsageError
from embedkit.vectors import require_vectors

log = logging.getLogger("embedkit.classify")
FORMAT = "embedkit.classifier"
FORMAT_VERSION = 1
DEFAULT_EMBEDDING_DIM = 32
NORMALIZATIONS = ("none", "unit", "scale")


MODEL_NAMES = (*NETWORK_NAMES, *BASELINE_NAMES)
"""Every valid ``model``: the PyTorch networks and the logistic-regression baselines."""


def check_model(name: str) -> str:
    """``name`` if it is a model, else a :class:`UsageError` listing the valid ones."""
    if name not in MODEL_NAMES:
        raise UsageError(f"unknown model {name!r}; valid: {', '.join(MODEL_NAMES)}")
    return name


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything :func:`train_classifier` needs besides the data and the vectors.

    ``max_words`` words are kept (ids 2..max_words+1); ``maxlen`` tokens per text,
    ``truncating``/``padding`` "pre" (Keras' default: keep the last tokens) or "post".
    ``embedding_dim`` defaults to the vectors' dimension, or 32 without vectors;
    ``vector_dims`` keeps the vectors' first dimensions only (a PPMI-SVD set's strongest);
    ``freeze`` keeps stored vectors fixed (ignored for a random embedding).
    ``validation``/``test`` are fractions used where the data has no split of its own,
    drawn a group at a time (``group_split``) where the data names groups.
    """

    model: str = "lstm"
    max_words: int = 10_000
    maxlen: int = 500
    truncating: str = "pre"
    padding: str = "pre"
    embedding_dim: int | None = None
    vector_dims: int | None = None
    freeze: bool = True
    oov: str = "zeros"
    normalize: str = "none"
    units: int = 32
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    embedding_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    ngrams: int = 1
    C: float = 0.0
    validation: float = 0.2
    test: float = 0.2
    group_split: bool = True
    tokenizer: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    patience: int = 2
    clip_norm: float = 0.0
    seed: int = 0
    time_budget: float = 0.0
    monitor: str = "val_loss"
    average: float = 0.0
    adversarial: float = 0.0
    refit: bool = False
    packed: bool = False
    init: str = "keras"
    pooling: str = "last"
    threads: int = 0

    def __post_init__(self) -> None:
        check_model(self.model)
        if self.normalize not in NORMALIZATIONS:
            raise UsageError(f"unknown normalize {self.normalize!r}; valid: "
                             f"{', '.join(NORMALIZATIONS)}")
        if self.oov not in ("zeros", "random"):
            raise UsageError(f"oov must be 'zeros' or 'random', got {self.oov!r} (--oov)")
        if self.adversarial and (self.model in BASELINE_NAMES or self.model == "multihot"):
            raise UsageError(f"--adversarial moves embedded tokens; {self.model!r} does not "
                             "embed a token sequence (leave it out)")
        if self.init not in INITS:
            raise UsageError(f"unknown init {self.init!r}; valid: {', '.join(INITS)}")
        if self.pooling not in POOLINGS:
            raise UsageError(f"unknown pooling {self.pooling!r}; valid: {', '.join(POOLINGS)}")
        rates = {"dropout": self.dropout, "embedding-dropout": self.embedding_dropout,
                 "recurrent-dropout": self.recurrent_dropout}
        for option, rate in rates.items():
            if not 0.0 <= rate < 1.0:  # also false for NaN
                raise UsageError(f"dropout rates must be in [0, 1), got --{option} {rate}")
        if self.recurrent_dropout and self.model not in RECURRENT_NAMES:
            raise UsageError(f"--recurrent-dropout is for recurrent models (rnn, lstm, gru); "
                             f"{self.model!r} has no recurrent layer")
        if self.pooling != "last" and self.model not in RECURRENT_NAMES:
            raise UsageError(f"pooling {self.pooling!r} is for recurrent models; "
                             f"{self.model!r} pools on its own (leave out --pooling)")
        for option, side in (("truncating", self.truncating), ("padding", self.padding)):
            if side not in ("pre", "post"):
                raise UsageError(f"--{option} must be 'pre' or 'post', got {side!r}")
        if (self.bidirectional or self.layers != 1) and self.model not in RECURRENT_NAMES:
            raise UsageError(f"--bidirectional and --layers are for recurrent models "
                             f"(rnn, lstm, gru); {self.model!r} has no recurrent layer")
        self._check_sizes()
        self.train_config()  # the training options, checked where they live

    def train_config(self) -> TrainConfig:
        """The training options of this config."""
        return TrainConfig(self.optimizer, self.lr, self.batch_size, self.epochs,
                           self.patience, self.clip_norm, self.seed, self.time_budget,
                           self.monitor, self.average, self.adversarial)

    def _check_sizes(self) -> None:
        """Counts and fractions, checked before any data is read (the same messages as the
        stages that use them)."""
        for name in ("max_words", "maxlen", "units", "layers", "ngrams"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)} "
                                 f"(--{name.replace('_', '-')})")
        for name in ("embedding_dim", "vector_dims"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)} "
                                 f"(--{name.replace('_', '-')})")
        for name in ("validation", "test"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise UsageError(f"{name} fraction must be in [0, 1), got {getattr(self, name)}")
        if math.isnan(self.C):  # scikit-learn crashes on it (inf: no regularisation)
            raise UsageError("--C must be a number, got nan")
        if self.C < 0:
            raise UsageError(f"C must be >= 0 (0 = the model's default), got {self.C} (--C)")
        if not 0 <= self.seed < 2**32:
            raise UsageError(f"seed must be in [0, 2**32), got {self.seed} (--seed)")
        if self.threads < 0:
            raise UsageError(f"threads must be >= 0 (0 = one per core), got {self.threads} "
                             "(--threads)")


@dataclass
class TrainResult:
    """A trained classifier with its history, held-out metrics and embedding coverage."""

    classifier: TextClassifier
    history: Any
    test_metrics: dict[str, Any]
    info: dict[str, Any]


class TextClassifier:
    """Texts in, labels out. Build with :func:`train_classifier` or :meth:`load`."""

    def __init__(self, config: ClassifierConfig, vocabulary: pp.Vocabulary, labels: pp.Labels,
                 network: Any = None, baseline: LinearBaseline | None = None,
                 trained_on: dict[str, Any] | None = None):
        self.config = config
        # what it was trained on: {"fingerprint", "texts", "test_data"} (see held_out_ids)
        self.trained_on = trained_on
        self.vocabulary = vocabulary
        self.labels = labels
        self.network = network
        self.baseline = baseline
        self._tokenizer = pp.tokenizer_config(config.tokenizer)

    # -- preprocessing ---------------------------------------------------------------
    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        return pp.tokenize_all(texts, self._tokenizer)

    def sequences(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, maxlen) int64 padded ids of token lists."""
        c = self.config
        return pp.pad_sequences(self.vocabulary.ids(token_lists), c.maxlen, c.truncating,
                                c.padding)

    # -- prediction ------------------------------------------------------------------
    def logits(self, texts: Sequence[str], token_lists=None) -> np.ndarray:
        """(n, outputs) float32 logits of ``texts`` (a list of texts, not one string)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of texts, not one string: "
                            "predict([\"a text\"])")
        tokens = token_lists if token_lists is not None else self.tokens(texts)
        if not len(tokens):
            return np.zeros((0, self.labels.outputs), dtype=np.float32)
        if self.baseline is not None:
            return self.baseline.decision(tokens)
        from embedkit.classify.train import predict_logits

        return predict_logits(self.network, self.sequences(tokens))

    def predict_scores(self, texts: Sequence[str]) -> np.ndarray:
        """(n, labels) probabilities: softmax for multi-class, sigmoid otherwise."""
        return self._scores(self.logits(texts))

    def _scores(self, logits: np.ndarray) -> np.ndarray:
        logits = logits.astype(np.float64)
        if self.labels.task == "multiclass":
            e = np.exp(logits - logits.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)
        p = 1.0 / (1.0 + np.exp(-logits))
        return np.hstack([1.0 - p, p]) if self.labels.task == "binary" else p

    def predict(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """The predicted label (a 1-tuple) or labels (multi-label, may be empty) per text."""
        return self.labels_of(self.predict_scores(texts))

    def labels_of(self, scores: np.ndarray) -> list[tuple[str, ...]]:
        names = self.labels.names
        if self.labels.task == "multilabel":
            return [tuple(names[j] for j in np.flatnonzero(row > 0.5)) for row in scores]
        return [(names[j],) for j in scores.argmax(1)]

    def evaluate(self, data: LabelledTexts) -> dict[str, Any]:
        """Accuracy, macro-F1 and the confusion matrix (micro/macro-F1 for multi-label)."""
        if not len(data):
            raise InputFormatError("no texts to evaluate", data.source or None)
        if self.labels.task == "multilabel":
            data = self._known_label_texts(data)
        y = self.labels.encode(data.labels, "evaluated texts")
        scores = self._scores(self.logits(data.texts, data.tokens(self._tokenizer)))
        names = list(self.labels.names)
        if self.labels.task == "multilabel":
            return multi_label_metrics(y, scores > 0.5, names)
        return single_label_metrics(y, scores.argmax(1), names)

    def _known_label_texts(self, data: LabelledTexts) -> LabelledTexts:
        """Multi-label data without the texts all of whose labels the model never saw
        (they would count as correct when nothing is predicted for them)."""
        known = set(self.labels.names)
        keep = [i for i, labs in enumerate(data.labels) if not labs or known & set(labs)]
        if not keep:
            raise InputFormatError(
                f"none of the texts has a label the model knows ({pp.listing(self.labels.names)}"
                "); evaluate it on data labelled like its training data", data.source or None)
        if len(keep) < len(data):
            log.warning("left out %d of %d texts whose labels the model never saw",
                        len(data) - len(keep), len(data))
        return data.subset(keep)

    # -- persistence -----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write config + weights to one file, atomically (temp file, fsync, rename)."""
        torch = require("torch")
        meta = {"config": asdict(self.config), "vocabulary": list(self.vocabulary.words),
                "labels": list(self.labels.names), "task": self.labels.task,
                "trained_on": self.trained_on}
        if self.baseline is not None:
            meta["baseline"] = asdict(self.baseline.config)
            meta["terms"] = self.baseline.terms
            state = {k: torch.from_numpy(v) for k, v in self.baseline.state().items()}
        else:
            from embedkit.classify.models import config_to_dict

            meta["network"] = config_to_dict(self.network.config)
            state = {k: v.detach().cpu() for k, v in self.network.state_dict().items()}
        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION,
                    "meta_json": json.dumps(meta), "state_dict": state}, buffer)
        return write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> TextClassifier:
        """Read a file written by :meth:`save` (``weights_only=True``: no code is unpickled)."""
        torch = require("torch")
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"{path}: is a folder, not a model file" if path.is_dir()
                             else f"{path}: no such model file")
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
            raise StoreError(f"{path}: not an embedkit classifier, or a damaged one "
                             f"({type(err).__name__}); train one with `embedkit classify "
                             "train`") from None
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise StoreError(f"{path}: not an embedkit classifier file")
        version = blob.get("format_version", 0)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise StoreError(f"{path}: written by a newer embedkit (model format {version}, "
                             f"this one reads {FORMAT_VERSION}); upgrade embedkit")
        try:
            classifier = cls._from_blob(blob)
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise StoreError(f"{path}: a damaged embedkit classifier ({type(err).__name__}: "
                             f"{str(err).splitlines()[0][:120] if str(err) else ''}); train "
                             "it again") from None
        if not classifier.finite():
            raise StoreError(f"{path}: a damaged embedkit classifier (weights that are not "
                             "finite numbers); train it again")
        return classifier

    def finite(self) -> bool:
        """Whether every weight is a finite number (a damaged file can hold NaN)."""
        if self.network is not None:
            return all(bool(p.isfinite().all()) for p in self.network.state_dict().values()
                       if p.is_floating_point())
        return self.baseline is None or self.baseline.finite()

    @classmethod
    def _from_blob(cls, blob: dict) -> TextClassifier:
        meta = json.loads(blob["meta_json"])
        config = ClassifierConfig(**meta["config"])
        vocab = pp.Vocabulary(tuple(meta["vocabulary"]))
        labels = pp.Labels(tuple(meta["labels"]), meta["task"])
        state = blob["state_dict"]
        if "baseline" in meta:
            baseline = LinearBaseline.from_state(
                BaselineConfig(**meta["baseline"]), meta["terms"],
                {k: v.numpy() for k, v in state.items()})
            return cls(config, vocab, labels, baseline=baseline,
                       trained_on=meta.get("trained_on"))
        from embedkit.classify.models import build_model, config_from_dict

        network = build_model(config_from_dict(meta["network"]))
        network.load_state_dict(state)
        network.eval()
        return cls(config, vocab, labels, network=network, trained_on=meta.get("trained_on"))


def train_classifier(data: LabelledTexts, config: ClassifierConfig = ClassifierConfig(),
                     vectors: Any = None, test_data: LabelledTexts | None = None) -> TrainResult:
    """Split ``data``, build the vocabulary, train ``config.model`` and test it.

    Parameters
    ----------
    data : the labelled texts; their own train/validation/test split is respected.
    vectors : a :class:`~embedkit.Vectors` the embedding layer starts from, or None
        (random embedding of ``embedding_dim``).
    test_data : a separate test set (e.g. ``stsa.binary.test``), used instead of a test
        split of ``data``; only its own test split when it has one (an aclImdb archive).
    """
    check_model(config.model)
    if not isinstance(data, LabelledTexts):
        raise TypeError(f"train_classifier takes LabelledTexts (embedkit.classify.read_dataset"
                        f"(path)), got {type(data).__name__}")
    if vectors is not None:
        require_vectors(vectors, "train_classifier(vectors=...)")
    require("torch")  # saving needs it too: fail before the slow steps
    vectors = _leading_dims(config, vectors)
    _check_dimension(config, vectors)
    tokenizer = pp.tokenizer_config(config.tokenizer)
    data.tokens(tokenizer)  # once for every split (and cached for the next model)
    parts, ids = _split(data, config, test_data)
    train, val, test = parts["train"], parts["validation"], parts["test"]
    if not len(train):
        raise InputFormatError(_no_training_texts(data), data.source or None)
    if config.model in BASELINE_NAMES and len(val):  # no early stopping to feed: fit on both
        log.info("%s has no epochs to choose: it fits on the training + validation texts "
                 "(%d)", config.model, len(train) + len(val))
        train, val = LabelledTexts.concat([train, val]), val.subset([])
        parts = {**parts, "train": train, "validation": val}
    labels = _labels_of(train, data)
    if test_data is not None and labels.task != "multilabel":
        try:  # test labels the model cannot know: say so before training
            labels.encode(test.labels)
        except InputFormatError as err:
            raise InputFormatError(f"{err} (from the training data)",
                                   test_data.source or None) from None
    _check_held_out_labels(labels, data, parts, test_data is not None)
    train_tokens = train.tokens(tokenizer)
    vocab = pp.Vocabulary.build(train_tokens, config.max_words)
    info: dict[str, Any] = {"sizes": {k: len(v) for k, v in parts.items()},
                            "labels": list(labels.names), "task": labels.task}
    if config.model in BASELINE_NAMES:
        if config.refit:
            log.warning("refit: %s has no epochs to choose and already trains on the "
                        "training + validation texts; --refit changes nothing", config.model)
        classifier, history = _fit_baseline(config, vocab, labels, train, train_tokens)
    else:
        classifier, history, info["coverage"] = _fit_network(
            config, vocab, labels, train, train_tokens, val, vectors)
        if config.refit and not len(val):
            log.warning("refit: no validation texts to choose the epochs by; "
                        "the model is trained once")
        elif config.refit:
            classifier, info["coverage"], info["refit"] = _refit(
                data.subset(np.sort(np.concatenate([ids["train"], ids["validation"]]))),
                config, labels, vectors, history)
    info["train_seconds"] = sum(e.get("seconds", 0.0) for e in getattr(history, "epochs", []))
    classifier.trained_on = {"fingerprint": data_fingerprint(data), "texts": len(data),
                             "test_data": test_data is not None}
    metrics = classifier.evaluate(test) if len(test) else {}
    if len(test) and labels.task != "multilabel":
        metrics["majority_accuracy"] = majority_accuracy(
            labels.encode(train.labels), labels.encode(test.labels))
    return TrainResult(classifier, history, metrics, info)


def _labels_of(train: LabelledTexts, data: LabelledTexts) -> pp.Labels:
    """The labels of the training part; too few classes is an error naming the data."""
    try:
        return pp.Labels.from_data(train.labels, data.multi_label)
    except InputFormatError as err:
        raise InputFormatError(str(err), data.source or None) from None


def _check_held_out_labels(labels: pp.Labels, data: LabelledTexts,
                           parts: dict[str, LabelledTexts], test_data: bool) -> None:
    """Before training: a single-label validation or test text whose label no training text
    has would fail the run at its end, so say so now (multi-label data drops such labels)."""
    if labels.task == "multilabel":
        return
    known = set(labels.names)
    for name in ("validation",) if test_data else ("validation", "test"):
        unknown = Counter(labs[0] for labs in parts[name].labels if labs[0] not in known)
        if unknown:
            raise InputFormatError(_held_out_only(name, unknown, data), data.source or None)


def _held_out_only(part: str, unknown: Counter, data: LabelledTexts) -> str:
    """Why a held-out label cannot be scored, and what to do."""
    names = pp.listing(sorted(unknown), repr)
    where = (f"the data's own {part} split" if data.has_split(part)
             else f"the {part} part drawn from the data")
    fix = ("add training texts with them or remove them from that split" if
           data.has_split(part) else "add texts of them, remove them, or draw another split "
           f"with --seed (or --{part} 0)")
    count = sum(unknown.values())
    return (f"label(s) {names} ({count} text{'s' * (count != 1)}) occur only in {where}, never "
            f"in the training texts, so no model can learn them; {fix}")


def _no_training_texts(data: LabelledTexts) -> str:
    """Why nothing is left to train on, and what to do."""
    own = sorted(set(data.splits) - {""})
    if own and "train" not in own:
        return (f"no training texts: every text is in the data's own {' / '.join(own)} split "
                "(given by its file or folder names, e.g. stsa.binary.test); train on the "
                "training file and pass this one as --test-data")
    return "no training texts after the split"


def _leading_dims(config: ClassifierConfig, vectors: Any) -> Any:
    """The vectors cut to ``config.vector_dims`` dimensions (unchanged when not set)."""
    if not config.vector_dims:
        return vectors
    if vectors is None:
        raise UsageError("--vector-dims needs --vectors (it keeps the first dimensions of a "
                         "stored set)")
    if config.vector_dims > vectors.dim:
        raise DimensionOptionError(
            f"--vector-dims {config.vector_dims} is more than the vectors' {vectors.dim} "
            f"dimensions; give at most {vectors.dim}")
    return vectors.leading_dims(config.vector_dims)


def _check_dimension(config: ClassifierConfig, vectors: Any) -> None:
    if vectors is not None and config.embedding_dim and config.embedding_dim != vectors.dim:
        raise DimensionOptionError(
            f"--embedding-dim {config.embedding_dim} disagrees with the vectors' dimension "
            f"{vectors.dim}; leave out --embedding-dim (it defaults to the vectors' dimension)")


def data_fingerprint(data: LabelledTexts) -> str:
    """SHA-256 of the texts, labels and splits, in order: is this the training data?"""
    digest = hashlib.sha256()
    for text, labels, split in zip(data.texts, data.labels, data.splits, strict=True):
        digest.update(f"{text}\0{chr(31).join(labels)}\0{split}\0".encode("utf-8", "replace"))
    return digest.hexdigest()


def held_out_ids(data: LabelledTexts, config: ClassifierConfig,
                 test_data: bool = False) -> dict[str, np.ndarray]:
    """The train/validation/test ids of ``data`` that training with ``config`` draws
    (seeded, so a saved model's split can be drawn again from the same data). With
    ``test_data`` no test fraction is drawn; the data's own test split, if any, is still
    kept out of training (it is not trained on, and not scored: the test data is)."""
    splits = list(data.splits)
    groups = data.groups if config.group_split and any(data.groups) else None
    return pp.split_ids(splits, config.validation, 0.0 if test_data else config.test,
                        config.seed, groups)


def _split(data, config, test_data) -> tuple[dict[str, LabelledTexts], dict[str, np.ndarray]]:
    """The train/validation/test parts of ``data`` and their ids in it."""
    ids = held_out_ids(data, config, test_data is not None)
    if config.group_split and any(data.groups):
        log.info("held-out fractions drawn a whole group at a time (%d groups in the data)",
                 len(set(data.groups)))
    parts = {name: data.subset(ids[name]) for name in ("train", "validation", "test")}
    if test_data is not None:
        test_data = _own_test_split(test_data)
        if len(ids["test"]):
            log.warning("%s: its own test split (%d texts) is left out of training; the "
                        "--test-data texts are the test set", data.source or "the data",
                        len(ids["test"]))
        if data_fingerprint(test_data) == data_fingerprint(data):
            log.warning("--test-data is the training data itself: its score includes the "
                        "texts the model was trained on")
        parts["test"] = test_data
    return parts, ids


def _own_test_split(test_data: LabelledTexts) -> LabelledTexts:
    """The test split of a --test-data set that has its own (an aclImdb archive: its
    ``test/`` folders), as ``classify evaluate`` scores it; else all of it."""
    if not test_data.has_split("test") or set(test_data.splits) == {"test"}:
        return test_data
    ids = [i for i, split in enumerate(test_data.splits) if split == "test"]
    log.warning("%s: scoring its own test split (%d of %d texts), as `classify evaluate` "
                "does", test_data.source or "--test-data", len(ids), len(test_data))
    return test_data.subset(ids)


def _refit(everything: LabelledTexts, config: ClassifierConfig, labels: pp.Labels,
           vectors: Any, history: Any) -> tuple[TextClassifier, Any, dict[str, Any]]:
    """A fresh network trained on the training and validation texts (in data order, with
    a vocabulary of both) for the epochs that validation chose, as Chollet retrains his
    final models. The selection run's history gets the refit's epochs as ``refit``."""
    epochs = history.best_epoch
    log.info("refit: training again on %d texts (training + validation) for %d epochs",
             len(everything), epochs)
    tokenizer = pp.tokenizer_config(config.tokenizer)
    tokens = everything.tokens(tokenizer)
    vocab = pp.Vocabulary.build(tokens, config.max_words)
    classifier, refit_history, coverage = _fit_network(
        replace(config, epochs=epochs, patience=0), vocab, labels, everything, tokens,
        everything.subset([]), vectors)
    history.refit = refit_history.epochs
    return classifier, coverage, {"epochs": epochs, "texts": len(everything)}


def _fit_baseline(config, vocab, labels, train, train_tokens):
    from embedkit.classify.train import History

    bconfig = BaselineConfig(config.model, config.ngrams, config.max_words, config.C)
    start = time.perf_counter()
    baseline = LinearBaseline.fit(bconfig, train_tokens, labels.encode(train.labels),
                                  labels.task, config.seed)
    seconds = time.perf_counter() - start
    history = History([{"epoch": 1, "seconds": seconds,
                        "samples_per_s": len(train_tokens) / max(seconds, 1e-9)}], 1)
    return TextClassifier(config, vocab, labels, baseline=baseline), history


def _fit_network(config, vocab, labels, train, train_tokens, val, vectors):
    setup_torch(config.seed, config.threads or None)
    from embedkit.classify import models
    from embedkit.classify.backend import device
    from embedkit.classify.train import fit

    dim = config.embedding_dim or (vectors.dim if vectors is not None else DEFAULT_EMBEDDING_DIM)
    config = replace(config, embedding_dim=dim)
    embedding = models.EmbeddingConfig(len(vocab), dim, config.freeze and vectors is not None,
                                       config.embedding_dropout)
    mconfig = models.model_config(config.model, embedding, labels.outputs, config.maxlen,
                                  config.units, config.layers, config.bidirectional,
                                  config.dropout, config.padding, config.packed, config.init,
                                  config.pooling, config.recurrent_dropout)
    network = models.build_model(mconfig)
    coverage = None
    if vectors is not None:
        matrix, cov = vectors.embedding_matrix(vocab.word_index, oov=config.oov, seed=config.seed)
        network.set_embedding(normalize_rows(_full_rows(matrix, len(vocab)), config.normalize))
        coverage = {"found": cov.found, "subword": cov.subword, "total": cov.total,
                    "fraction": cov.fraction, "missing_sample": cov.missing[:20]}
        log.info("vectors cover %d of %d vocabulary words (%.1f%%)", cov.found + cov.subword,
                 cov.total, 100 * cov.fraction)
    network.to(device())
    tconfig = config.train_config()
    classifier = TextClassifier(config, vocab, labels, network=network)
    x_train = classifier.sequences(train_tokens)
    validation = None
    if len(val):
        validation = (classifier.sequences(val.tokens(classifier._tokenizer)),
                      labels.encode(val.labels, "validation"))
    history = fit(network, labels.task, (x_train, labels.encode(train.labels)), validation,
                  tconfig)
    network.cpu()
    return classifier, history, coverage


def normalize_rows(matrix: np.ndarray, how: str) -> np.ndarray:
    """Stored vectors rescaled for an embedding layer (zero rows stay zero).

    "none" keeps them as stored; "unit" gives every row length 1; "scale" divides the
    whole matrix by its mean row length (relative lengths kept). PPMI-SVD rows without
    the singular values (eigenvalue weight p = 0) are ~100x shorter than a Keras-initialised
    layer's, which a frozen layer cannot make up for.
    """
    if how not in NORMALIZATIONS:
        raise UsageError(f"unknown normalize {how!r}; valid: {', '.join(NORMALIZATIONS)}")
    if how == "none":
        return matrix
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    nonzero = norms[:, 0] > 0
    if not nonzero.any():
        return matrix
    if how == "unit":
        return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return (matrix / norms[nonzero].mean()).astype(np.float32)


def _full_rows(matrix: np.ndarray, rows: int) -> np.ndarray:
    """The embedding matrix with rows for every id (an empty vocabulary leaves only 0/1)."""
    if matrix.shape[0] >= rows:
        return matrix[:rows]
    return np.vstack([matrix, np.zeros((rows - matrix.shape[0], matrix.shape[1]), np.float32)])
