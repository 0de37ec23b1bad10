"""Queries over a set: nearest neighbours, analogies and cosine similarity.

Vectors (+ optional Index) ──► neighbors / analogy / similarity ──► ranked (word, score)

Words are looked up in the set; unknown words get their subword vector when the set has
fastText tables, otherwise an :class:`~embedkit.errors.UnknownWordError` listing close
spellings. Query words (and the three inputs of an analogy) never appear in their own
answers. Searches are batched: all queries go through one matrix product (exact search)
or one FAISS call (an :class:`~embedkit.index.Index`).

Analogies "a is to b as c is to ?" follow Levy & Goldberg (2014): 3CosAdd ranks words x by
cos(x, b) - cos(x, a) + cos(x, c) (computed, as gensim does, as the cosine with the unit
mean of the unit vectors b + c - a); 3CosMul by cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6)
with cosines shifted to [0, 1] as cos' = (1 + cos) / 2, exactly as gensim's
``most_similar_cosmul``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from embedkit.errors import EmbedkitError, UnknownWordError, UsageError
from embedkit.index import Index, Neighbours, exact_search, top_k
from embedkit.vectors import Vectors, unit_rows

log = logging.getLogger("embedkit.query")

METHODS = ("3cosadd", "3cosmul")
_EPS = 1e-6  # gensim's most_similar_cosmul guard against division by zero
_BLOCK_BYTES = 64 << 20
RERANK_FACTOR = 4  # candidates fetched per answer from a quantised index before re-scoring


@dataclass
class Resolved:
    """Query words turned into unit vectors: which were found, and which were not."""

    words: list[str]
    unit: np.ndarray  # (len(words), dim) float32
    rows: np.ndarray  # (len(words),) int64 row of each word, -1 for subword vectors
    unknown: list[UnknownWordError] = field(default_factory=list)


def resolve(vectors: Vectors, words: Sequence[str]) -> Resolved:
    """Vectors for ``words``: rows of known words, subword vectors for the others."""
    found, vecs, rows, unknown = [], [], [], []
    for word in words:
        try:
            vecs.append(vectors.vector(word))
        except UnknownWordError as err:
            unknown.append(err)
            continue
        found.append(word)
        row = vectors.row_of(word)
        rows.append(-1 if row is None else row)
    unit = unit_rows(np.vstack(vecs)) if vecs else np.empty((0, vectors.dim), np.float32)
    return Resolved(found, unit, np.asarray(rows, dtype=np.int64), unknown)


def allowed_rows(vectors: Vectors, restrict: int | None) -> np.ndarray | None:
    """Row ids of the ``restrict`` most frequent words (None: all rows)."""
    if restrict is None:
        return None
    if restrict <= 0:
        raise UsageError(f"restrict must be a positive number of words, got {restrict} "
                         "(--restrict)")
    if restrict >= len(vectors):
        return None
    return np.sort(vectors.frequency_order()[:restrict])


def zero_rows(unit: np.ndarray) -> np.ndarray:
    """Ids of all-zero rows (they never match)."""
    return np.flatnonzero(~unit.any(axis=1))


def search_vectors(vectors: Vectors, queries: np.ndarray, k: int, *, index: Index | None = None,
                   ef: int | None = None, nprobe: int | None = None,
                   restrict: int | None = None, k_factor: int | None = None) -> Neighbours:
    """Top-``k`` rows for unit ``queries``: through ``index``, or exact numpy search."""
    allowed = allowed_rows(vectors, restrict)
    if index is not None:
        if len(index) != len(vectors) or index.dim != vectors.dim:
            raise UsageError(f"index {index.name!r} holds {len(index)} x {index.dim} vectors, "
                             f"the set {len(vectors)} x {vectors.dim}; rebuild the index")
        if not index.is_approximate_scores:
            return index.search(queries, k, ef=ef, nprobe=nprobe, restrict=allowed,
                                k_factor=k_factor)
        fetch = min(len(index), RERANK_FACTOR * k)
        found = index.search(queries, fetch, ef=ef, nprobe=nprobe, restrict=allowed,
                             k_factor=k_factor)
        return rerank(vectors, queries, found, k)
    unit = vectors.unit_matrix()
    sub = unit if allowed is None else unit[allowed]
    return exact_search(sub, queries, min(k, len(sub)), zero_rows(unit), allowed)


def rerank(vectors: Vectors, queries: np.ndarray, found: Neighbours, k: int) -> Neighbours:
    """Re-score candidate rows with exact cosines and keep the best ``k`` of each query.

    Quantised indexes (PQ, SQ) rank by approximate inner products; reading the candidates'
    own rows turns their scores into exact cosines and repairs the order among them.
    """
    ids = found.ids
    valid = ids >= 0
    rows, inverse = np.unique(ids[valid], return_inverse=True)
    unit = unit_rows(vectors.rows(rows))
    scores = np.full(ids.shape, -np.inf, dtype=np.float32)
    owner = np.nonzero(valid)[0]
    scores[valid] = np.einsum("ij,ij->i", unit[inverse], queries[owner])
    top = top_k(scores, min(k, ids.shape[1]))
    top_scores = np.take_along_axis(scores, top, 1)
    return Neighbours(np.where(np.isfinite(top_scores), np.take_along_axis(ids, top, 1), -1),
                      top_scores)


def check_k(k: int, vectors: Vectors) -> int:
    if not isinstance(k, (int, np.integer)) or k <= 0:
        raise UsageError(f"k must be a positive integer, got {k!r} (-k)")
    if k >= len(vectors):
        raise UsageError(f"k={k} must be smaller than the vocabulary ({len(vectors)} words)")
    return int(k)


def neighbors(vectors: Vectors, words: Sequence[str], k: int = 10, *,
              index: Index | None = None, ef: int | None = None, nprobe: int | None = None,
              restrict: int | None = None, skip_unknown: bool = False,
              k_factor: int | None = None) -> dict[str, list[tuple[str, float]]]:
    """The ``k`` nearest words of each of ``words`` by cosine similarity (batched).

    The query word is left out of its own answers; a word whose vector is all zeros gets
    no answers (an empty list: it has no direction). With ``skip_unknown`` words without a
    vector are left out of the result (the caller compares keys); otherwise the first
    raises :class:`UnknownWordError`. ``index`` (an :class:`Index` of this set) replaces
    exact search; ``ef`` / ``nprobe`` / ``k_factor`` tune it; ``restrict`` searches only the most
    frequent words. Answers from quantised indexes (PQ, SQ) are re-scored with exact
    cosines from the set's rows.
    """
    if isinstance(words, str):
        words = [words]
    if not words:
        raise UsageError("no query words given")
    k = check_k(k, vectors)
    resolved = resolve(vectors, words)
    if resolved.unknown and not skip_unknown:
        raise resolved.unknown[0]
    if not resolved.words:
        return {}
    fetch = min(k + 1, len(vectors) if index is None else len(index))
    index_warns = index is not None and index.warn_short
    if index_warns:  # it would count the rows searched: k + 1, or more for re-ranking
        index.warn_short = False
    try:
        found = search_vectors(vectors, resolved.unit, fetch, index=index, ef=ef, nprobe=nprobe,
                               k_factor=k_factor, restrict=restrict)
    finally:
        if index_warns:
            index.warn_short = True
    out = {}
    for word, row, unit, ids, scores in zip(resolved.words, resolved.rows, resolved.unit,
                                            found.ids, found.scores, strict=True):
        keep = (ids >= 0) & (ids != row) & unit.any()  # an all-zero vector has no neighbours
        out[word] = [(vectors.words[i], float(s)) for i, s in zip(ids[keep][:k], scores[keep][:k],
                                                                  strict=True)]
    if index_warns and restrict is None:  # an all-zero vector is short by nature, not the index
        _warn_short({w: out[w] for w, u in zip(resolved.words, resolved.unit, strict=True)
                     if u.any()}, k, index)
    return out


def _warn_short(answers: dict[str, list[tuple[str, float]]], k: int, index: Index) -> None:
    """An IVF search that visits too few lists can give fewer than k neighbours: say so."""
    complete = min(k, index.searchable_rows - 1)  # the word itself is left out
    short = sum(len(found) < complete for found in answers.values())
    if short:
        log.warning("%d of %d query words got fewer than %d neighbours from index %r (%s); "
                    "visit more lists (--nprobe) for complete answers", short, len(answers),
                    k, index.name, index.factory)


def similarity(vectors: Vectors, word_a: str, word_b: str) -> dict[str, float]:
    """Cosine similarity and cosine distance (1 - cos, the lecture's) of two words."""
    cos = vectors.similarity(word_a, word_b)
    return {"similarity": cos, "distance": 1.0 - cos}


# -- analogies ------------------------------------------------------------------------------
def analogy(vectors: Vectors, a: str, b: str, c: str, k: int = 10, method: str = "3cosadd",
            restrict: int | None = None) -> list[tuple[str, float]]:
    """"``a`` is to ``b`` as ``c`` is to ?": the ``k`` best answers, inputs excluded."""
    k, method = check_k(k, vectors), check_method(method)
    resolved = resolve(vectors, [a, b, c])
    if resolved.unknown:
        raise resolved.unknown[0]
    for word, unit in zip(resolved.words, resolved.unit, strict=True):
        if not unit.any():  # its cosines are all 0: the answer would ignore it
            raise EmbedkitError(f"word {word!r} has an all-zero vector, so an analogy "
                                "cannot use it; choose another word")
    ua, ub, uc = resolved.unit
    exclude = resolved.rows[None, :]
    ids, scores = analogy_search(vectors, ua[None], ub[None], uc[None], exclude, k, method,
                                 restrict)
    keep = ids[0] >= 0
    return [(vectors.words[i], float(s)) for i, s in zip(ids[0][keep], scores[0][keep],
                                                         strict=True)]


def analogy_search(vectors: Vectors, ua: np.ndarray, ub: np.ndarray, uc: np.ndarray,
                   exclude: np.ndarray, k: int, method: str = "3cosadd",
                   restrict: int | None = None) -> Neighbours:
    """Batched analogies: unit query rows ``ua``, ``ub``, ``uc`` (nq, dim) -> top-``k``.

    ``exclude`` (nq, m) holds row ids never returned for each question (-1: none).
    Returns :class:`Neighbours` with ids into the whole set.
    """
    method = check_method(method)
    unit = vectors.unit_matrix()
    allowed = allowed_rows(vectors, restrict)
    sub = unit if allowed is None else unit[allowed]
    local_ex = _local_exclusions(exclude, allowed, len(unit))
    blocked = zero_rows(sub)
    k = min(k, len(sub))
    nq = ua.shape[0]
    ids = np.full((nq, k), -1, dtype=np.int64)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    step = max(1, _BLOCK_BYTES // (4 * 3 * max(len(sub), 1)))
    for lo in range(0, nq, step):
        part = slice(lo, lo + step)
        sims = _analogy_scores(sub, ua[part], ub[part], uc[part], method)
        sims[:, blocked] = -np.inf
        rows = np.arange(sims.shape[0])[:, None]
        ex = local_ex[part]
        sims[np.broadcast_to(rows, ex.shape)[ex >= 0], ex[ex >= 0]] = -np.inf
        top = top_k(sims, k)
        top_scores = np.take_along_axis(sims, top, 1)
        mapped = top if allowed is None else allowed[top]
        ids[part] = np.where(np.isfinite(top_scores), mapped, -1)
        scores[part] = top_scores
    return Neighbours(ids, scores)


def check_method(method: str) -> str:
    method = method.lower()
    if method not in METHODS:
        raise UsageError(f"unknown analogy method {method!r}; choose one of {', '.join(METHODS)}")
    return method


def _analogy_scores(unit: np.ndarray, ua: np.ndarray, ub: np.ndarray, uc: np.ndarray,
                    method: str) -> np.ndarray:
    if method == "3cosadd":
        mean = unit_rows((ub + uc - ua) / np.float32(3))
        return mean @ unit.T
    shifted = [(1 + q @ unit.T) / 2 for q in (ua, ub, uc)]
    return shifted[1] * shifted[2] / (shifted[0] + np.float32(_EPS))


def _local_exclusions(exclude: np.ndarray, allowed: np.ndarray | None, size: int) -> np.ndarray:
    """Map excluded row ids into the restricted id space (-1 where outside it)."""
    exclude = np.asarray(exclude, dtype=np.int64)
    if allowed is None:
        return exclude
    position = np.full(size, -1, dtype=np.int64)
    position[allowed] = np.arange(allowed.size)
    return np.where(exclude >= 0, position[np.maximum(exclude, 0)], -1)

