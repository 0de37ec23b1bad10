"""Index benchmark in the ann-benchmarks style: which index to pick for *these* vectors.

vectors ──► split (held-out query words) ──► exact ground truth ──► for each method:
build (time, memory, disk) ──► sweep its search parameter ──► recall@1, recall@10, QPS
──► results.json, results.md, recall_qps.png (+ scaling.png over several set sizes)

Protocol
--------
* Queries are **held-out words**: a random sample of ``queries`` non-zero rows is removed
  from the indexed set and their vectors are the queries, so no query is an indexed point.
* Ground truth is exact cosine search (inner product on L2-normalised rows, numpy) over the
  indexed rows. recall@k = |found top-k ∩ true top-k| / k, averaged over queries; a found
  row whose cosine ties the k-th true one counts (duplicate vectors, as ann-benchmarks).
* ``qps_single``: one query per call, one thread (``faiss.omp_set_num_threads(1)``, BLAS
  limited to one thread through threadpoolctl, hnswlib ``num_threads=1``), timed in the
  calling thread's CPU time (``time.thread_time``), so other processes on a shared machine
  do not distort it; ``qps_single_wall`` is the same loop timed by the wall clock.
  ``qps_batch``: all queries in one call on all cores; methods without a batch API (annoy,
  gensim ``most_similar``) answer one query per call with all cores allowed
  (``batched: false`` in the results).
* Build parameters (M/efConstruction, nlist, n_trees) are separate configurations; each is
  swept over its query-time parameter (efSearch, nprobe, ef, search_k) into a recall-QPS
  curve. Build time uses all cores. ``memory_bytes`` is the growth of the process's
  resident memory during the build (approximate); ``disk_bytes`` the saved index file(s).
"""

from __future__ import annotations

import contextlib
import gc
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from embedkit import __version__, progress
from embedkit.bench_methods import (
    PEERS,
    Method,
    cpu_count,
    faiss_methods,
    peer_available,
    peer_methods,
)
from embedkit.errors import EmbedkitError, InputFormatError, UsageError
from embedkit.index import exact_search, factory_string
from embedkit.vectors import Vectors, unit_rows

log = logging.getLogger("embedkit.bench")

TYPES = ("flat", "hnsw", "ivf", "ivfpq", "sq8")
THRESHOLDS = (0.90, 0.95, 0.99)
TUNE_TARGET = 0.95  # the --target-recall whose pick is measured for each FAISS default
SIZES = (10_000, 100_000, None)  # None: all words
QUERY_PROTOCOL = ("held-out words: a random sample of rows is removed from the indexed set "
                  "and their vectors are the queries; ground truth by exact cosine search")
_MIN_SECONDS = 2.0  # repeat a measurement (3 runs at most) until it has run this long, and
# keep the best run: other processes only ever add time


@dataclass
class Split:
    """The indexed unit rows, the held-out query rows and the exact top-k of each query."""

    base: np.ndarray
    queries: np.ndarray
    truth: np.ndarray
    query_ids: np.ndarray


def split_queries(matrix: np.ndarray, n_queries: int, k: int, seed: int = 0) -> Split:
    """Hold out ``n_queries`` random non-zero rows as queries; index the other non-zero rows."""
    unit = unit_rows(matrix)
    nonzero = np.flatnonzero(unit.any(axis=1))
    if n_queries <= 0:
        raise UsageError(f"--queries must be positive, got {n_queries}")
    if nonzero.size < 3:
        raise InputFormatError(f"the set has {nonzero.size} non-zero rows: too few to "
                               "benchmark (zero rows never match)")
    if nonzero.size < 2 + k:
        raise UsageError(f"the set has {nonzero.size} non-zero rows: too few for k={k} "
                         f"neighbours of a held-out query; use a smaller -k (at most "
                         f"{nonzero.size - 2})")
    if nonzero.size < n_queries + k + 1:
        raise UsageError(f"the set has {nonzero.size} non-zero rows: too few for {n_queries} "
                         f"held-out queries and k={k}; use fewer --queries (at most "
                         f"{nonzero.size - k - 1})")
    rng = np.random.default_rng(seed)
    held = np.sort(rng.choice(nonzero, n_queries, replace=False))
    base = unit[np.setdiff1d(nonzero, held)]
    return Split(base, unit[held], exact_search(base, unit[held], k).ids, held)


@contextlib.contextmanager
def threads_limited(n: int) -> Iterator[None]:
    """FAISS OpenMP and the BLAS libraries limited to ``n`` threads inside the block."""
    faiss.omp_set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # BLAS then keeps its own thread count (noted in the results)
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(n)
    try:
        with limits:
            yield
    finally:
        faiss.omp_set_num_threads(cpu_count())


def _timed(fn, min_seconds: float) -> tuple[Any, float, float]:
    """(result, best wall seconds, best CPU seconds of this thread) of ``fn()``: up to 3
    runs while the total is under min_seconds."""
    wall, cpu, total, runs, out = float("inf"), float("inf"), 0.0, 0, None
    while runs == 0 or (runs < 3 and total < min_seconds):
        start, start_cpu = time.perf_counter(), time.thread_time()
        out = fn()
        took = time.perf_counter() - start
        cpu = min(cpu, time.thread_time() - start_cpu)
        wall, total, runs = min(wall, took), total + took, runs + 1
    return out, wall, cpu


def measure_point(method: Method, split: Split, k: int, value: int, threads: int,
                  min_seconds: float = _MIN_SECONDS) -> dict:
    """recall@1, recall@k and QPS (single-threaded and batched) at one parameter value."""
    nq = len(split.queries)

    def one_by_one() -> np.ndarray:
        return np.vstack([method.single(q, k, value) for q in split.queries])

    with threads_limited(1):
        found, single, single_cpu = _timed(one_by_one, min_seconds)
    with threads_limited(threads):
        _, batch, _ = _timed(lambda: method.batch(split.queries, k, value) if method.batched
                             else one_by_one(), min_seconds)
    return {"param": method.param, "value": value if method.param else None,
            "recall1": tie_recall(found, split, 1), f"recall{k}": tie_recall(found, split, k),
            "qps_single": nq / max(single_cpu, 1e-9), "qps_single_wall": nq / single,
            "qps_batch": nq / batch}


def tie_recall(found: np.ndarray, split: Split, k: int, eps: float = 1e-5) -> float:
    """recall@k, a found row counting as a hit when its cosine reaches the k-th true one
    (less ``eps``), as in ann-benchmarks: duplicate vectors tie, and which of them an exact
    method returns first must not cost it recall."""
    ids = found[:, :k]
    rows = split.base[np.maximum(ids, 0)]  # (nq, k, dim)
    scores = np.einsum("qd,qkd->qk", split.queries, rows)
    kth = np.einsum("qd,qd->q", split.queries, split.base[split.truth[:, k - 1]])
    hits = ((ids >= 0) & (scores >= kth[:, None] - eps)).sum(axis=1)
    return float(np.minimum(hits, k).mean() / k)


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def build_method(method: Method, base: np.ndarray, threads: int, scratch: Path) -> dict:
    """Build ``method`` over ``base``; time, memory growth and bytes on disk."""
    gc.collect()
    before = _rss()
    with threads_limited(threads):
        start = time.perf_counter()
        method.build(base, threads)
        seconds = time.perf_counter() - start
    memory = max(0, _rss() - before)
    folder = Path(tempfile.mkdtemp(dir=scratch))
    try:
        disk = method.save(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"build_seconds": seconds, "memory_bytes": memory, "disk_bytes": disk}


def run_method(method: Method, split: Split, k: int, threads: int, scratch: Path,
               min_seconds: float = _MIN_SECONDS) -> dict:
    """Build one configuration and sweep its search parameter (stops at recall 0.999)."""
    built = build_method(method, split.base, threads, scratch)
    points = []
    for value in method.sweep(k):
        point = measure_point(method, split, k, value, threads, min_seconds)
        points.append(point)
        setting = f" {method.param}={value}" if method.param else ""
        log.info("  %s%s recall@%d %.3f, %.0f q/s single, %.0f q/s batch", method.label,
                 setting, k, point[f"recall{k}"], point["qps_single"], point["qps_batch"])
        if point[f"recall{k}"] >= 0.999:
            break
    default_value = _default_value(method, k)
    default_point = next((p for p in points if p["value"] == default_value or not method.param),
                         None) if method.default else None
    if method.default and default_point is None:
        default_point = measure_point(method, split, k, default_value, threads, min_seconds)
    tuned = _tuned_point(method, split, k, threads, min_seconds) if method.default else None
    return {"method": method.name, "library": method.library, "label": method.label,
            "build_params": method.build_params, "param": method.param,
            "default": method.default, "batched": method.batched,
            "default_value": default_value, "default_point": default_point, "tuned": tuned,
            **built,
            "points": points}


def _tuned_point(method: Method, split: Split, k: int, threads: int,
                 min_seconds: float) -> dict | None:
    """What ``embedkit index --target-recall 0.95`` picks for this FAISS index (tuned on a
    twin index without its own held-out sample), measured on the benchmark's queries."""
    from embedkit.tune import tune_search_params

    if method.name not in ("faiss-hnsw", "faiss-ivf"):
        return None
    try:
        chosen = tune_search_params(method.index, split.base, TUNE_TARGET, k,
                                    queries=len(split.queries), apply=False)
    except EmbedkitError as err:
        return {"target_recall": TUNE_TARGET, "error": str(err)}
    point = measure_point(method, split, k, chosen["value"], threads, min_seconds)
    return {"target_recall": TUNE_TARGET, "tune_recall": chosen["recall"], **point}


def plan_methods(types: Sequence[str], peers: Sequence[str], size: int,
                 quick: bool = False) -> tuple[list[Method], list[dict]]:
    """The methods to run, and a note for every peer that is not installed."""
    methods: list[Method] = []
    for kind in types:
        factory_string(kind, size, 8)  # an unknown type fails here, before any build
        methods += faiss_methods(kind, size, quick)
    skipped = []
    for peer in peers:
        if peer not in PEERS:
            raise UsageError(f"unknown peer {peer!r}; choose from {', '.join(PEERS)}")
        if not peer_available(peer):
            skipped.append({"peer": peer, "reason": f"{peer} is not installed (pip install "
                            "-c constraints.txt -e '.[bench]' in the embedkit checkout)"})
            log.warning("skipping %s: not installed", peer)
            continue
        methods += peer_methods(peer, quick)
    return methods, skipped


def bench_index(vectors: Vectors | np.ndarray, *, queries: int = 1000, k: int = 10,
                types: Sequence[str] = TYPES, peers: Sequence[str] = PEERS,
                out_dir: str | os.PathLike, threads: int | None = None,
                sizes: Sequence[int | None] | None = SIZES, seed: int = 0,
                quick: bool = False, dataset: str | None = None) -> dict[str, Any]:
    """Benchmark every index type and peer on ``vectors``; write the results to ``out_dir``.

    Parameters
    ----------
    vectors : Vectors, or an (n, dim) float array
    queries : int, held-out query words (removed from the indexed set).
    k : int, neighbours per query (recall@1 and recall@k are reported).
    types : FAISS index types (``flat``, ``hnsw``, ``ivf``, ``ivfpq``, ``sq8``) or factory strings.
    peers : ``hnswlib``, ``annoy``, ``gensim``, ``numpy``; those not installed are skipped.
    out_dir : folder for results.json, results.md, recall_qps.png and scaling.png.
    threads : cores for builds and batched search (default: all).
    sizes : set sizes for the scaling run (None = all words); empty or None skips it.
    quick : fewer configurations and parameter values (for smoke tests).

    Returns
    -------
    dict, the content of results.json: ``dataset``, ``machine``, ``methods`` (each with its
    build figures and ``points``), ``skipped``, ``summary``, ``targets``, ``scaling``.
    """
    from embedkit import bench_report

    matrix = vectors.matrix if isinstance(vectors, Vectors) else np.asarray(vectors, np.float32)
    if k <= 0:
        raise UsageError(f"k must be positive, got {k}")
    small = [n for n in sizes or () if n is not None and n < k]
    if small:  # found before the main run, not after it
        raise UsageError(f"--sizes {small[0]}: a scaling size needs at least k={k} indexed "
                         "words; use larger sizes or --sizes none")
    threads = threads or cpu_count()
    repeat = 0.0 if quick else _MIN_SECONDS
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; -o needs a folder for the results")
    split = split_queries(matrix, queries, k, seed)
    methods, skipped = plan_methods(types, peers, len(split.base), quick)
    out.mkdir(parents=True, exist_ok=True)  # after the checks: a usage error leaves nothing
    results = {"dataset": {**_describe(vectors, matrix, split, k, dataset), "seed": seed,
                           "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())},
               "machine": machine(threads), "methods": [], "skipped": skipped}
    with tempfile.TemporaryDirectory(dir=out) as scratch, \
            progress.task("benchmarking indexes", total=len(methods)) as bar:
        while methods:
            method = methods.pop(0)  # dropped after its run: one index in memory at a time
            log.info("%s: building over %d x %d", method.label, *split.base.shape)
            results["methods"].append(run_method(method, split, k, threads, Path(scratch),
                                                 repeat))
            bar.advance()
        if sizes:
            results["scaling"] = run_scaling(split, sizes, types, peers, k, threads,
                                             Path(scratch), quick, repeat, results["methods"])
    bench_report.write(results, out, THRESHOLDS)
    return results


def run_scaling(split: Split, sizes: Sequence[int | None], types: Sequence[str],
                peers: Sequence[str], k: int, threads: int, scratch: Path,
                quick: bool = False, min_seconds: float = _MIN_SECONDS,
                full_runs: Sequence[dict] = ()) -> list[dict]:
    """Build and query time of each method's default configuration on the first n rows, at
    its default search parameter (at the full size, the main run's figures are reused)."""
    rows = []
    keys = ("build_seconds", "memory_bytes", "disk_bytes")
    for run in full_runs:
        if run["default"]:
            rows.append({"size": len(split.base), "method": run["method"], "label": run["label"],
                         **{key: run[key] for key in keys}, **run["default_point"]})
    done = {row["method"] for row in rows}
    for n in sorted({min(n or len(split.base), len(split.base)) for n in sizes}):
        base = split.base[:n]
        sub = Split(base, split.queries, exact_search(base, split.queries, k).ids,
                    split.query_ids)
        methods, _ = plan_methods(types, [p for p in peers if peer_available(p)], n, quick)
        for method in [m for m in methods if m.default]:
            if n == len(split.base) and method.name in done:
                continue
            log.info("scaling: %s on %d rows", method.label, n)
            built = build_method(method, base, threads, scratch)
            value = _default_value(method, k)
            point = measure_point(method, sub, k, value, threads, min_seconds)
            rows.append({"size": n, "method": method.name, "label": method.label,
                         **built, **point})
    return rows


def _default_value(method: Method, k: int) -> int:
    """The operating point a user gets without tuning (hnswlib: embedkit's default ef)."""
    from embedkit.index import DEFAULT_EF_SEARCH

    if method.library == "faiss":
        return getattr(method, "default_value", 0)
    if method.library == "hnswlib":
        return DEFAULT_EF_SEARCH
    if method.library == "annoy":
        return method.build_params["n_trees"] * k
    return 0


def _describe(vectors: Any, matrix: np.ndarray, split: Split, k: int,
              name: str | None) -> dict[str, Any]:
    meta = vectors.metadata if isinstance(vectors, Vectors) else {}
    path = meta.get("path")
    return {"name": name or (Path(path).parent.name if path else "array"),
            "source": meta.get("source"), "size": int(matrix.shape[0]),
            "dim": int(matrix.shape[1]), "indexed": int(len(split.base)),
            "queries": int(len(split.queries)), "k": k, "protocol": QUERY_PROTOCOL}


def machine(threads: int) -> dict[str, Any]:
    """CPU, cores, threads used and library versions."""
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "cpus": cpu_count(), "threads_batch": threads, "threads_single": 1,
                            "embedkit": __version__, "faiss": faiss.__version__,
                            "numpy": np.__version__}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    for dist in ("hnswlib", "annoy", "gensim", "threadpoolctl"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            info[dist] = importlib.metadata.version(dist)
    return info


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a results.json written by :func:`bench_index`."""
    return json.loads(Path(path).read_text("utf-8"))
