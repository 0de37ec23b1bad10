"""Bag-of-words and TF-IDF features + logistic regression: the lecture's "still usable"
baselines, trained on the same token lists as the networks.

``bow-logreg``
    Binary bag of words (1 if the word or n-gram occurs), Chollet's multi-hot vectors.
``tfidf-logreg``
    The lecture's TF-IDF: tf = count / document length (tokens), idf = log(N / n_i) with
    n_i the number of training documents holding term i.
``tfidf-sklearn-logreg``
    scikit-learn's ``TfidfVectorizer`` (raw counts, idf = ln((1 + N) / (1 + n_i)) + 1,
    rows L2-normalised).

Features are the ``max_features`` most frequent training terms (words, plus word n-grams
up to ``ngrams``). The fitted state is plain arrays (terms, idf, coefficients) and a JSON
config, saved like the networks; nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from embedkit.classify.backend import require
from embedkit.errors import UsageError

BASELINE_NAMES = ("bow-logreg", "tfidf-logreg", "tfidf-sklearn-logreg")
# tf / length gives tiny feature values; a weaker L2 penalty lets the model use them.
DEFAULT_C = {"bow-logreg": 0.1, "tfidf-logreg": 100.0, "tfidf-sklearn-logreg": 10.0}


@dataclass(frozen=True)
class BaselineConfig:
    """Which features and how much regularisation (C = inverse L2 strength)."""

    name: str
    ngrams: int = 1
    max_features: int = 10_000
    C: float = 0.0  # 0 = the default of the model (DEFAULT_C)

    def __post_init__(self) -> None:
        if self.name not in BASELINE_NAMES:
            raise UsageError(f"unknown baseline {self.name!r}; valid: {', '.join(BASELINE_NAMES)}")
        if self.ngrams < 1 or self.max_features < 1:
            raise UsageError("ngrams and max_features must be at least 1")

    @property
    def strength(self) -> float:
        return self.C or DEFAULT_C[self.name]


class _Ngrams:
    """Analyzer for scikit-learn: a token list -> its words and word n-grams."""

    def __init__(self, n: int):
        self.n = n

    def __call__(self, tokens: Sequence[str]) -> list[str]:
        out = list(tokens)
        for k in range(2, self.n + 1):  # k shifted copies zipped: no Python loop per token
            out += map(" ".join, zip(*[tokens[j:] for j in range(k)], strict=False))
        return out


class LinearBaseline:
    """A fitted baseline: ``terms`` (feature names), ``idf``, ``coef`` (outputs, terms)."""

    def __init__(self, config: BaselineConfig, terms: Sequence[str], idf: np.ndarray,
                 coef: np.ndarray, intercept: np.ndarray):
        self.config = config
        self.terms = list(terms)
        self.idf = np.asarray(idf, np.float64)
        self.coef = np.asarray(coef, np.float64)
        self.intercept = np.asarray(intercept, np.float64)

    def finite(self) -> bool:
        """Whether every parameter is a finite number."""
        return all(bool(np.isfinite(a).all()) for a in (self.idf, self.coef, self.intercept))

    # -- features ----------------------------------------------------------------------
    @staticmethod
    def _vectorizer(config: BaselineConfig, terms: Sequence[str] | None = None):
        text = require("sklearn.feature_extraction.text")
        kind = text.TfidfVectorizer if config.name == "tfidf-sklearn-logreg" else \
            text.CountVectorizer
        vocabulary = {t: i for i, t in enumerate(terms)} if terms is not None else None
        return kind(analyzer=_Ngrams(config.ngrams), max_features=config.max_features,
                    vocabulary=vocabulary, dtype=np.float64)

    @classmethod
    def _fit_features(cls, config, token_lists) -> tuple[list[str], np.ndarray, Any]:
        vectorizer = cls._vectorizer(config)
        counts = vectorizer.fit_transform(token_lists).tocsr()
        terms = list(vectorizer.get_feature_names_out())
        if config.name == "tfidf-sklearn-logreg":
            return terms, vectorizer.idf_, counts
        df = np.bincount(counts.indices, minlength=len(terms)).astype(np.float64)
        idf = np.log(len(token_lists) / np.maximum(df, 1.0))
        return terms, idf, None

    def features(self, token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """(n, terms) float64 CSR feature matrix of ``token_lists``."""
        vectorizer = self._vectorizer(self.config, self.terms)
        if self.config.name == "tfidf-sklearn-logreg":
            vectorizer.idf_ = self.idf
            return vectorizer.transform(token_lists).tocsr()
        counts = vectorizer.transform(token_lists).tocsr()
        if self.config.name == "bow-logreg":
            counts.data[:] = 1.0
            return counts
        lengths = np.array([max(len(t), 1) for t in token_lists], np.float64)
        return sparse.diags(1.0 / lengths) @ counts @ sparse.diags(self.idf)

    # -- training and prediction -------------------------------------------------------
    @classmethod
    def fit(cls, config: BaselineConfig, token_lists: Sequence[Sequence[str]],
            y: np.ndarray, task: str, seed: int = 0) -> LinearBaseline:
        """Fit features on ``token_lists`` and logistic regression on targets ``y``
        (class ids, or a 0/1 matrix for multi-label: one regression per label)."""
        terms, idf, fitted = cls._fit_features(config, token_lists)
        model = cls(config, terms, idf, np.zeros((0, len(terms))), np.zeros(0))
        x = fitted if fitted is not None else model.features(token_lists)
        model.coef, model.intercept = _logreg(x, y, task, config.strength, seed)
        return model

    def decision(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Logits (n, outputs): 1 column for binary, one per label otherwise."""
        x = self.features(token_lists)
        return np.asarray(x @ self.coef.T + self.intercept, np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"idf": self.idf, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_state(cls, config: BaselineConfig, terms: Sequence[str],
                   state: dict[str, np.ndarray]) -> LinearBaseline:
        return cls(config, terms, state["idf"], state["coef"], state["intercept"])


def _logreg(x, y: np.ndarray, task: str, c: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    linear = require("sklearn.linear_model")

    def one(target):
        model = linear.LogisticRegression(C=c, max_iter=2000, random_state=seed)
        return model.fit(x, target)

    if task != "multilabel":
        model = one(y)
        return model.coef_, model.intercept_
    coef, intercept = np.zeros((y.shape[1], x.shape[1])), np.full(y.shape[1], -10.0)
    for label in range(y.shape[1]):
        column = y[:, label]
        if 0 < column.sum() < len(column):  # a label always (never) on cannot be fitted
            model = one(column)
            coef[label], intercept[label] = model.coef_[0], model.intercept_[0]
        elif column.sum() == len(column):
            intercept[label] = 10.0
    return coef, intercept
