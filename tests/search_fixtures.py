"""Real vector sets for the search, query, evaluation and plot tests (loaded once)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from embedkit.vectors import Vectors

DICKENS = Path("pretrained_vectors/generated_dickens_real_tools/dickens_w2v_sg50.txt.gz")


@cache
def keyed_vectors(path: str) -> KeyedVectors:
    """A word2vec-format file as gensim reads it (the reference implementation)."""
    return KeyedVectors.load_word2vec_format(path)


def as_vectors(kv: KeyedVectors) -> Vectors:
    """The same words and rows as an embedkit set."""
    return Vectors(kv.index_to_key, kv.vectors)


def exact_top(unit: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Reference top-k by a dense numpy product and a full argsort (stable: lower id first)."""
    sims = queries @ unit.T
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean recall@k of ``found`` ids against ``truth`` ids, row by row."""
    hits = [len(set(f[f >= 0]) & set(t)) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / truth.shape[1]


def perturbed(unit: np.ndarray, count: int, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    """Held-out-like queries: random rows plus Gaussian noise of relative size ``noise``."""
    rng = np.random.default_rng(seed)
    rows = unit[rng.choice(len(unit), count, replace=False)]
    jitter = rng.normal(0, noise / np.sqrt(unit.shape[1]), rows.shape).astype(np.float32)
    queries = rows + jitter
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)
