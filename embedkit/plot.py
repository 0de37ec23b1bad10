"""2-D word maps: query words and their nearest neighbours, projected and labelled.

Vectors + words ──► neighbours ──► PCA (numpy) or t-SNE (scikit-learn) ──► PNG/SVG/PDF

Like the lecture's figures: each query word is drawn in its own colour with its neighbours
around it, every point labelled. Projection runs on the unit vectors (cosine geometry).
The image is written atomically (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.atomic import atomic_path
from embedkit.errors import UsageError
from embedkit.index import Index
from embedkit.query import neighbors as find_neighbors
from embedkit.query import resolve

PROJECTIONS = ("pca", "tsne")


def project_pca(points: np.ndarray) -> np.ndarray:
    """The first two principal components of ``points`` (n, dim) -> (n, 2)."""
    centred = points - points.mean(axis=0)
    if len(points) < 2:
        return np.zeros((len(points), 2))
    u, s, _ = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    coords = u[:, :2] * s[:2]
    coords = coords * np.sign(coords[np.argmax(np.abs(coords), axis=0), range(coords.shape[1])])
    return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))


def project_tsne(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """t-SNE to 2-D (scikit-learn), perplexity capped for small sets."""
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise UsageError("t-SNE needs scikit-learn: pip install scikit-learn "
                         "(or use --method pca)") from None
    if len(points) < 3:
        raise UsageError(f"t-SNE needs at least 3 points, got {len(points)}; use --method pca")
    perplexity = float(min(30, max(2, (len(points) - 1) // 3)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                metric="cosine")
    return tsne.fit_transform(points.astype(np.float64))


def word_map(vectors, words: Sequence[str], neighbors: int = 5, method: str = "pca", *,
             index: Index | None = None, seed: int = 0) -> dict[str, Any]:
    """The words to draw and their 2-D coordinates.

    Returns ``{words, groups, coords}``: ``groups[i]`` is the position in ``words`` of the
    query word that brought in point ``i`` (its own position for a query word).
    """
    method = method.lower()
    if method not in PROJECTIONS:
        raise UsageError(f"unknown projection {method!r}; choose one of {', '.join(PROJECTIONS)}")
    if not words:
        raise UsageError("no words to plot")
    if not 0 <= neighbors < len(vectors):
        raise UsageError(f"--neighbors must be from 0 to {len(vectors) - 1} (the set has "
                         f"{len(vectors)} words), got {neighbors}")
    found = find_neighbors(vectors, words, neighbors, index=index) if neighbors else {}
    labels, groups = [], []
    for g, word in enumerate(dict.fromkeys(words)):
        for label in [word] + [w for w, _ in found.get(word, [])]:
            if label not in labels:
                labels.append(label)
                groups.append(g)
    resolved = resolve(vectors, labels)
    if resolved.unknown:
        raise resolved.unknown[0]
    unit = resolved.unit
    coords = project_pca(unit) if method == "pca" else project_tsne(unit, seed)
    return {"words": labels, "groups": groups, "queries": list(dict.fromkeys(words)),
            "coords": coords}


def plot_words(vectors, words: Sequence[str], neighbors: int = 5, method: str = "pca",
               out_path: str | os.PathLike = "map.png", *, index: Index | None = None,
               title: str | None = None, seed: int = 0) -> Path:
    """Draw a labelled 2-D map of ``words`` and their nearest neighbours; returns the path."""
    data = word_map(vectors, words, neighbors, method, index=index, seed=seed)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 6.5))
    colours = plt.get_cmap("tab10")
    query_set = set(data["queries"])
    for (x, y), label, group in zip(data["coords"], data["words"], data["groups"], strict=True):
        is_query = label in query_set
        ax.scatter(x, y, s=60 if is_query else 25, color=colours(group % 10),
                   marker="o" if is_query else ".", zorder=3)
        ax.annotate(label, (x, y), xytext=(4, 3), textcoords="offset points",
                    fontsize=11 if is_query else 9, fontweight="bold" if is_query else "normal",
                    parse_math=False)  # a word is text: '$x^$' is no formula
    ax.set_title(title or f"{method.upper()} of {len(data['queries'])} words and "
                          f"{neighbors} nearest neighbours each")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    try:
        return _save_atomic(fig, Path(out_path))
    finally:
        plt.close(fig)


def _save_atomic(fig, path: Path) -> Path:
    suffix = path.suffix.lower().lstrip(".") or "png"
    if suffix not in fig.canvas.get_supported_filetypes():
        raise UsageError(f"{path}: unsupported image type .{suffix}; use .png, .svg or .pdf")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix, dpi=150)
    return path
