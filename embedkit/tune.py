"""Pick an index's search parameter for a target recall, by measuring it.

Index + its vectors ──► twin index without held-out words ──► exact ground truth of the
held-out words ──► recall@k at each efSearch (HNSW) / nprobe (IVF) ──► the smallest value
reaching the target ──► the index's default query parameter and ``operating_point``

A refine index (``...,RFlat``) has a second knob, ``k_factor``: the stored one is doubled
until the target is reached with every IVF list visited (the re-ranking bounds what
quantisation loses), then the smallest nprobe is found at that ``k_factor``.

Queries are **held-out words**, as in the benchmarks (:mod:`embedkit.bench`): a random
sample of rows is left out of a twin index built with the same factory string and build
parameters over the other rows, and their vectors query the twin. A query that is an
indexed point (or a point nudged off one) is much easier for a graph index than an unseen
word: on a 100,000 x 300 PPMI-SVD set, rows moved by their nearest-neighbour distance in a
random direction reached recall@10 0.95 at efSearch 36, where held-out words needed 64
(0.91 at 36). The twin costs one more build; the chosen value carries over to the full
index, which differs from the twin only by the held-out rows.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import faiss
import numpy as np

from embedkit.errors import EmbedkitError, UsageError
from embedkit.index import Index, exact_search
from embedkit.vectors import Vectors, unit_rows

log = logging.getLogger("embedkit.tune")

QUERY_KIND = ("held-out words: rows left out of a twin index built with the same parameters; "
              "ground truth by exact search over the other rows")
_PARAMS = {"ef_search": "ef", "nprobe": "nprobe"}


def held_out_twin(index: Index, unit: np.ndarray, n: int, seed: int = 0, k: int = 1
                  ) -> tuple[Index, np.ndarray, np.ndarray]:
    """(twin index over all non-zero rows but ``n`` random ones, those rows, the rest);
    the rest must hold at least ``k`` rows (the neighbours each held-out row is asked for)."""
    nonzero = np.flatnonzero(unit.any(axis=1))
    n = min(n, nonzero.size // 10)
    if n < 1 or nonzero.size - n < k:
        raise UsageError(f"index {index.name!r} has too few non-zero rows ({nonzero.size}) to "
                         f"hold some out for tuning recall@{k}")
    rng = np.random.default_rng(seed)
    held = np.sort(rng.choice(nonzero, n, replace=False))
    rest = unit[np.setdiff1d(nonzero, held)]
    params = index.manifest.get("params", {})
    twin = Index.build(rest, index.factory, ef_construction=params.get("ef_construction"),
                       seed=params.get("seed", 0), threads=params.get("threads"),
                       name=f"{index.name}-twin")
    return twin, unit[held], rest


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean |found[:, :k] ∩ truth[:, :k]| / k."""
    hits = (found[:, :k, None] == truth[:, None, :k]).any(axis=2).sum(axis=1)
    return float(hits.mean() / k)


def tune_search_params(index: Index, vectors: Vectors | np.ndarray, target_recall: float,
                       k: int = 10, queries: int | np.ndarray = 1000, seed: int = 0,
                       apply: bool = True) -> dict[str, Any]:
    """The smallest efSearch (HNSW) or nprobe (IVF) with recall@k >= ``target_recall``.

    Parameters
    ----------
    index : an :class:`~embedkit.index.Index` built over ``vectors``.
    vectors : the set the index was built from (Vectors or (n, dim) array).
    target_recall : float in (0, 1].
    k : neighbours per query.
    queries : number of held-out words (at most a tenth of the rows; a twin index is built
        without them), or an (nq, dim) array of query vectors to search ``index`` with.
    apply : store the chosen value as the index's default query parameter and record the
        operating point in ``index.manifest["operating_point"]`` (saved with the index).

    Returns
    -------
    dict: ``param``, ``value``, ``recall``, ``target_recall``, ``k``, ``queries``,
    ``query_kind``, ``qps`` (batched), ``qps_single`` (one query per call, one thread),
    ``tried`` (every value measured, with its recall).
    """
    param, values = search_parameter(index, k)
    if not 0.0 < float(target_recall) <= 1.0:
        raise UsageError(f"--target-recall must be in (0, 1], got {target_recall}")
    matrix = vectors.matrix if isinstance(vectors, Vectors) else np.asarray(vectors, np.float32)
    if matrix.shape != (len(index), index.dim):
        raise UsageError(f"index {index.name!r} holds {len(index)} x {index.dim} vectors, "
                         f"got {matrix.shape[0]} x {matrix.shape[1]} to tune it with")
    unit = unit_rows(matrix)
    if isinstance(queries, (int, np.integer)):
        searched, qs, rows = held_out_twin(index, unit, int(queries), seed, k)
        kind, blocked = QUERY_KIND, None
    else:
        searched, rows, kind = index, unit, "given query vectors"
        qs = unit_rows(np.asarray(queries, dtype=np.float32))
        blocked = np.flatnonzero(~unit.any(axis=1))
    truth = exact_search(rows, qs, k, blocked).ids
    searched.warn_short, warned = False, searched.warn_short  # short answers are measured here
    try:
        return _tune(index, searched, qs, truth, k, param, values, float(target_recall), kind,
                     seed, apply)
    finally:
        searched.warn_short = warned


def _tune(index: Index, searched: Index, qs: np.ndarray, truth: np.ndarray, k: int, param: str,
          values: list[int], target_recall: float, kind: str, seed: int, apply: bool
          ) -> dict[str, Any]:
    fixed: dict[str, int] = {}
    stored_k_factor = index.manifest.get("query_params", {}).get("k_factor")
    if stored_k_factor is not None:
        fixed["k_factor"] = _k_factor_reaching(searched, qs, truth, k, param, values[-1],
                                               int(stored_k_factor), float(target_recall))
    tried: dict[int, float] = {}

    def measure(value: int) -> float:
        if value not in tried:
            found = searched.search(qs, k, **{_PARAMS[param]: value}, **fixed).ids
            tried[value] = recall_at(found, truth, k)
            log.info("%s=%d: recall@%d %.4f", param, value, k, tried[value])
        return tried[value]

    value = smallest_reaching(measure, values, float(target_recall))
    if value is None:
        best = max(tried.items(), key=lambda item: item[1])
        at = "".join(f", {name}={v}" for name, v in fixed.items())
        raise EmbedkitError(
            f"index {index.name!r} ({index.factory}) reaches recall@{k} {best[1]:.4f} at most "
            f"({param}={best[0]}{at}), below the target {target_recall}; build a more exact "
            "index (more bits or lists, larger M) or lower --target-recall")
    point = {"param": param, "value": int(value), "recall": tried[value], **fixed,
             "target_recall": float(target_recall), "k": k, "queries": int(len(qs)),
             "query_kind": kind, "seed": seed,
             **_speed(searched, qs, k, {_PARAMS[param]: value, **fixed}),
             "tried": [{"value": v, "recall": r} for v, r in sorted(tried.items())]}
    if apply:
        index.manifest.setdefault("query_params", {}).update({param: int(value), **fixed})
        index.manifest["operating_point"] = point
    return point


def _k_factor_reaching(index: Index, queries: np.ndarray, truth: np.ndarray, k: int,
                       param: str, widest: int, start: int, target: float) -> int:
    """The first of ``start``, 2x, 4x, ... (up to 256x k candidates, or every row) whose
    recall with ``param`` at its widest reaches ``target``; the last one tried if none."""
    k_factor = start
    while True:
        found = index.search(queries, k, **{_PARAMS[param]: widest, "k_factor": k_factor}).ids
        reached = recall_at(found, truth, k)
        log.info("k_factor=%d (%s=%d): recall@%d %.4f", k_factor, param, widest, k, reached)
        if reached >= target or k_factor >= 256 or k_factor * k >= len(index):
            return k_factor
        k_factor *= 2


def check_tunable(factory: str, name: str) -> None:
    """Before a build: refuse ``--target-recall`` for an index with nothing to tune."""
    if "HNSW" not in factory and "IVF" not in factory:
        raise UsageError(_untunable(name, factory))


def _untunable(name: str, factory: str) -> str:
    return (f"index {name!r} ({factory}) has no search parameter to tune (only HNSW efSearch and "
            "IVF nprobe are, with a re-ranking index's k_factor tuned beside them); it always "
            "searches the same way")


def search_parameter(index: Index, k: int = 10) -> tuple[str, list[int]]:
    """The index's tunable query parameter and its candidate values, ascending.

    efSearch starts at ``k`` (FAISS searches with at least ``k``), then grows by about 12%
    a step up to 4096; nprobe takes every value from 1 to nlist.
    """
    query = index.manifest.get("query_params", {})
    if "ef_search" in query:
        grid = {k + i for i in range(8)} | {int(k * 1.125 ** i) for i in range(80)}
        return "ef_search", sorted(v for v in grid if k <= v <= max(4096, k))
    if "nprobe" in query:
        nlist = int(index.manifest.get("params", {}).get("nlist") or query["nprobe"])
        return "nprobe", list(range(1, nlist + 1))
    raise UsageError(_untunable(index.name, index.factory))


def smallest_reaching(measure, values: list[int], target: float) -> int | None:
    """The smallest of ``values`` (ascending) whose ``measure`` is >= ``target``.

    Doubles through the list until one value reaches the target, then bisects between it and
    the last value that did not (recall grows with efSearch and nprobe, up to noise).
    """
    values = sorted(set(values))
    lo, hi, step = -1, None, 1
    i = 0
    while i < len(values):
        if measure(values[i]) >= target:
            hi = i
            break
        lo, i, step = i, i + step, step * 2
    if hi is None:
        if lo != len(values) - 1 and measure(values[-1]) >= target:
            hi = len(values) - 1
        else:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if measure(values[mid]) >= target else (mid, hi)
    return values[hi]


def _speed(index: Index, queries: np.ndarray, k: int, kwargs: dict[str, int]
           ) -> dict[str, float]:
    """Batched QPS (all cores) and single-query QPS (one thread) at the chosen values."""
    start = time.perf_counter()
    index.search(queries, k, **kwargs)
    batch = len(queries) / (time.perf_counter() - start)
    sample = queries[: min(len(queries), 200)]
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        start = time.perf_counter()
        for q in sample:
            index.search(q, k, **kwargs)
        single = len(sample) / (time.perf_counter() - start)
    finally:
        faiss.omp_set_num_threads(threads)
    return {"qps": batch, "qps_single": single}
