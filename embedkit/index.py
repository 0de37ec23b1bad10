"""`Index`: FAISS cosine search over a set's rows, persisted beside its store.

Vectors ──► Index.build ──► search(queries, k) ──► Neighbours(ids, scores)

Cosine similarity is the inner product of L2-normalised copies of the rows, so every index
uses ``METRIC_INNER_PRODUCT`` on unit rows. Zero rows stay zero and never match: they are
excluded at search time. Row ids are the store's rows; the index never owns the
vocabulary. ``save`` writes ``<name>.faiss`` and a JSON manifest ``<name>.json`` (type,
factory string, parameters, default query parameters, the store's fingerprint, size,
build time); ``load`` refuses an index built from another version of its set.

Exact search over a flat index is a batched numpy matrix product (measured faster on this
kind of machine than faiss's bundled BLAS path, see ``benchmarks/bench_search.py``); the
index on disk is still a plain ``IndexFlatIP``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import faiss
import numpy as np

from embedkit import __version__, progress
from embedkit.errors import (
    DimensionMismatchError,
    NameExistsError,
    NotFoundError,
    StaleIndexError,
    StoreError,
    UsageError,
)
from embedkit.vectors import Vectors, unit_rows

log = logging.getLogger("embedkit.index")

TYPES = ("flat", "hnsw", "ivf", "ivfpq", "sq8", "factory")
DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 200
DEFAULT_EF_SEARCH = 128
_ADD_BLOCK = 20_000
_SCORE_BYTES = 64 << 20  # size of one block of the exact (nq x n) score matrix
_SUBSET_FLOATS = 1 << 25  # restricted HNSW searches up to 128 MiB of rows run exactly


class Neighbours(NamedTuple):
    """Search results, one row per query.

    ids : ndarray (nq, k) int64
        Row ids of the set, best first; ``-1`` pads rows with fewer than ``k`` matches.
    scores : ndarray (nq, k) float32
        Cosine similarities (higher is closer); ``-inf`` where ``ids`` is ``-1``.
    """

    ids: np.ndarray
    scores: np.ndarray


def factory_string(kind: str, size: int, dim: int, *, M: int | None = None,
                   nlist: int | None = None, pq_m: int | None = None,
                   nbits: int | None = None, factory: str | None = None) -> str:
    """The FAISS index-factory string for a friendly index type.

    ``kind`` is one of :data:`TYPES`, ``factory:<string>``, or a factory string itself
    (``"Flat"``, ``"HNSW32"``, ``"IVF1024,Flat"``, ``"IVF1024,PQ16"``, ``"SQ8"``, ...).
    Unset parameters get defaults that suit ``size``.
    """
    kind = kind.strip()
    low = kind.lower()
    if low.startswith("factory:"):
        factory, low = kind.split(":", 1)[1], "factory"
    if low == "factory":
        if not factory:
            raise UsageError("index type 'factory' needs a factory string "
                             "(--factory 'IVF256,Flat')")
        return factory
    if low not in TYPES:
        if kind[:1].isupper():  # a FAISS factory string such as "HNSW32" or "IVF1024,Flat"
            return kind
        raise UsageError(f"unknown index type {kind!r}; choose one of {', '.join(TYPES)}, "
                         "or pass a FAISS factory string")
    if low == "flat":
        return "Flat"
    if low == "sq8":
        return "SQ8"
    if low == "hnsw":
        return f"HNSW{_positive('M', M or DEFAULT_M)}"
    nlist = _positive("nlist", nlist or default_nlist(size))
    if low == "ivf":
        return f"IVF{nlist},Flat"
    pq_m = _positive("pq_m", pq_m or default_pq_m(dim))
    if dim % pq_m:
        raise UsageError(f"PQ m={pq_m} must divide the dimension {dim}; try {default_pq_m(dim)}")
    nbits = _positive("nbits", nbits or default_nbits(size))
    return f"IVF{nlist},PQ{pq_m}x{nbits}"


def default_nlist(size: int) -> int:
    """About 4 sqrt(n) lists, with at least 39 training points per list (faiss's floor)."""
    return max(1, min(int(4 * math.sqrt(size)), size // 39))


def default_pq_m(dim: int) -> int:
    """The divisor of ``dim`` closest to dim/4 (4 dimensions per sub-quantiser)."""
    divisors = [m for m in range(1, dim + 1) if dim % m == 0]
    return min(divisors, key=lambda m: (abs(m - dim / 4), -m))


def default_nbits(size: int) -> int:
    """8 bits per code, fewer on sets too small to train 256 centroids."""
    return int(max(1, min(8, math.floor(math.log2(max(2, size // 39))))))


def build_threads() -> int:
    """All cores, less those already busy (1-minute load average).

    OpenMP threads spin at barriers: on the 2-core development machine, with other
    processes keeping the cores busy (load 8), an HNSW build with 2 threads ran 2.5x
    slower than with 1, and IVF training 7x slower. So builds use the cores that are free.
    """
    cores = os.cpu_count() or 1
    try:
        busy = int(round(os.getloadavg()[0]))
    except OSError:
        busy = 0
    return max(1, min(cores, cores - busy))


def default_nprobe(nlist: int) -> int:
    """Lists visited per query: enough for recall@10 >= 0.95 on word vectors."""
    return max(1, min(nlist, max(16, nlist // 8)))


class Index:
    """A FAISS index over the unit rows of a :class:`~embedkit.vectors.Vectors`.

    Build with :meth:`build`, query with :meth:`search`, persist with :meth:`save` and
    :meth:`load`. ``manifest`` holds what was built and how.
    """

    def __init__(self, index: faiss.Index, manifest: dict[str, Any]):
        self.faiss_index = index
        self.manifest = manifest
        self._unit: np.ndarray | None = None
        self._subset: tuple[tuple[int, int, int], np.ndarray] | None = None
        self._zero_rows = np.asarray(manifest.get("zero_rows", []), dtype=np.int64)

    # -- properties -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def factory(self) -> str:
        return self.manifest["factory"]

    @property
    def dim(self) -> int:
        return int(self.faiss_index.d)

    def __len__(self) -> int:
        return int(self.faiss_index.ntotal)

    @property
    def is_exact(self) -> bool:
        return self.factory == "Flat"

    @property
    def is_approximate_scores(self) -> bool:
        """True for quantised indexes (PQ, SQ, ...), whose scores are not exact cosines."""
        top = faiss.downcast_index(self.faiss_index)
        exact = (faiss.IndexFlat, faiss.IndexHNSWFlat, faiss.IndexIVFFlat, faiss.IndexRefine)
        return not isinstance(top, exact)

    def __repr__(self) -> str:
        return f"Index({self.name!r}, {self.factory!r}, {len(self)} x {self.dim})"

    # -- building -----------------------------------------------------------------------
    @classmethod
    def build(cls, vectors: Vectors, factory: str = "Flat", *, M: int | None = None,
              ef_construction: int | None = None, ef_search: int | None = None,
              nlist: int | None = None, nprobe: int | None = None,
              pq_m: int | None = None, nbits: int | None = None,
              name: str | None = None, seed: int = 0, threads: int | None = None) -> Index:
        """Build an index over ``vectors`` (cosine: inner product on unit rows).

        Parameters
        ----------
        vectors : Vectors, or an (n, dim) float array
        factory : str
            A friendly type (``flat``, ``hnsw``, ``ivf``, ``ivfpq``, ``sq8``,
            ``factory:<string>``) or any FAISS index-factory string.
        M, ef_construction : HNSW graph degree and build-time beam width.
        ef_search, nprobe : default query-time parameters stored with the index.
        nlist, pq_m, nbits : IVF lists; PQ sub-quantisers and bits per code.
        name : str, the file stem used by :meth:`save` (default: derived from the type).
        seed : int, for the training sample (IVF, PQ).
        threads : int, OpenMP threads (default: :func:`build_threads`).
        """
        matrix = vectors.matrix if isinstance(vectors, Vectors) else np.asarray(vectors)
        if matrix.ndim != 2 or matrix.shape[0] == 0:
            raise DimensionMismatchError(f"cannot index an empty or non 2-D matrix {matrix.shape}")
        size, dim = matrix.shape
        kind = factory.strip().lower()
        fstring = factory_string(factory, size, dim, M=M, nlist=nlist, pq_m=pq_m, nbits=nbits)
        threads = threads or build_threads()
        faiss.omp_set_num_threads(threads)
        start = time.perf_counter()
        unit = unit_rows(matrix)
        zero = np.flatnonzero(~unit.any(axis=1))
        index = _make_index(fstring, dim)
        _set_build_params(index, ef_construction or DEFAULT_EF_CONSTRUCTION)
        _train(index, unit, seed)
        with progress.task(f"indexing {size:,} vectors ({fstring})", total=size) as bar:
            for lo in range(0, size, _ADD_BLOCK):
                index.add(unit[lo:lo + _ADD_BLOCK])
                bar.advance(min(_ADD_BLOCK, size - lo))
        query = _default_query_params(index, ef_search, nprobe)
        meta = vectors.metadata if isinstance(vectors, Vectors) else {}
        manifest = {
            "name": name or default_name(fstring, factory),
            "type": kind if kind in TYPES else "factory",
            "factory": fstring,
            "metric": "cosine",
            "params": {k: v for k, v in {
                "M": M or _hnsw_m(index), "ef_construction": _ef_construction(index),
                "nlist": _nlist(index), "pq_m": pq_m if "PQ" in fstring else None,
                "nbits": nbits if "PQ" in fstring else None, "seed": seed, "threads": threads,
            }.items() if v is not None},
            "query_params": query,
            "fingerprint": meta.get("fingerprint"),
            "set": Path(meta["path"]).parent.name if meta.get("path") else None,
            "size": int(size),
            "dim": int(dim),
            "zero_rows": zero.tolist(),
            "build_seconds": round(time.perf_counter() - start, 3),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "embedkit_version": __version__,
            "faiss_version": faiss.__version__,
        }
        built = cls(index, manifest)
        if fstring == "Flat":
            built._unit = unit
        log.info("built %s over %d x %d in %.2f s", fstring, size, dim, manifest["build_seconds"])
        return built

    # -- searching ----------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int, *, ef: int | None = None,
               nprobe: int | None = None, restrict: int | np.ndarray | None = None
               ) -> Neighbours:
        """The ``k`` rows closest to each query by cosine similarity.

        Parameters
        ----------
        queries : ndarray (nq, dim) or (dim,), any float dtype; normalised here.
        k : int, 1 <= k <= number of rows.
        ef, nprobe : query-time HNSW beam width / IVF lists visited (default: the
            index's stored query parameters).
        restrict : int, or an array of allowed row ids
            Search only rows ``0 .. restrict-1`` (the most frequent words when rows are in
            frequency order), or only the rows listed.

        Returns
        -------
        Neighbours(ids (nq, k) int64, scores (nq, k) float32), padded with -1 / -inf.
        """
        queries = self._check_queries(queries)
        k = self._check_k(k)
        allowed = _allowed_ids(restrict, len(self))
        if self.is_exact:
            return self._search_exact(queries, k, allowed)
        if allowed is not None and self._graph_rows_fit(allowed):
            return self._search_graph_subset(queries, k, allowed)
        return self._search_faiss(queries, k, allowed, ef, nprobe)

    def _check_queries(self, queries: np.ndarray) -> np.ndarray:
        queries = np.asarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            got = queries.shape[-1] if queries.ndim else 0
            raise DimensionMismatchError(
                f"query has dimension {got}, index {self.name!r} was built with "
                f"dimension {self.dim}"
            )
        if queries.shape[0] == 0:
            raise UsageError("no queries given")
        return unit_rows(queries)

    def _check_k(self, k: int) -> int:
        if not isinstance(k, (int, np.integer)) or k <= 0:
            raise UsageError(f"k must be a positive integer, got {k!r}")
        if k > len(self):
            raise UsageError(f"k={k} is larger than the {len(self)} indexed words")
        return int(k)

    def unit_matrix(self) -> np.ndarray:
        """The indexed unit rows (flat indexes only; a view of the faiss storage)."""
        if self._unit is None:
            if not self.is_exact:
                raise UsageError(f"index {self.name!r} ({self.factory}) does not store exact rows")
            flat = faiss.downcast_index(self.faiss_index)
            size = len(self) * self.dim
            view = faiss.rev_swig_ptr(flat.get_xb(), size) if size else np.empty(0, np.float32)
            self._unit = view.reshape(len(self), self.dim)  # no copy; the index owns it
        return self._unit

    def _search_exact(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> Neighbours:
        unit = self.unit_matrix()
        ids_map = None
        if allowed is not None:
            ids_map = allowed
            unit = unit[: allowed[-1] + 1] if _is_prefix(allowed) else unit[allowed]
        return exact_search(unit, queries, k, self._zero_rows, ids_map)

    def _graph_rows_fit(self, allowed: np.ndarray) -> bool:
        """A filtered HNSW search loses recall (the graph falls apart); its rows are stored
        whole, so a restricted search that fits in memory is done exactly instead."""
        hnsw = _find(self.faiss_index, faiss.IndexHNSW)
        return hnsw is not None and allowed.size * self.dim <= _SUBSET_FLOATS

    def _search_graph_subset(self, queries: np.ndarray, k: int, allowed: np.ndarray
                             ) -> Neighbours:
        key = (allowed.size, int(allowed[0]), int(allowed[-1]))
        if self._subset is None or self._subset[0] != key:
            rows = self.faiss_index.reconstruct_batch(allowed)
            self._subset = (key, unit_rows(rows))
        return exact_search(self._subset[1], queries, k, self._zero_rows, allowed)

    def _search_faiss(self, queries: np.ndarray, k: int, allowed: np.ndarray | None,
                      ef: int | None, nprobe: int | None) -> Neighbours:
        blocked = self._zero_rows
        sel = None
        if allowed is not None or blocked.size:
            keep = np.arange(len(self)) if allowed is None else allowed
            keep = np.setdiff1d(keep, blocked, assume_unique=True) if blocked.size else keep
            sel = _selector(keep, len(self))
        defaults = self.manifest.get("query_params", {})
        if sel is not None:
            ef, nprobe = _widened(ef, nprobe, defaults, keep.size / len(self), len(self))
        params = _search_params(self.faiss_index, ef, nprobe, defaults, sel)
        if params is None and sel is not None:  # a structure without selector support
            return self._search_filtered(queries, k, keep, ef, nprobe)
        scores, ids = self.faiss_index.search(queries, k, params=params)
        return _padded(ids, scores)

    def _search_filtered(self, queries, k, keep, ef, nprobe) -> Neighbours:
        mask = np.zeros(len(self), dtype=bool)
        mask[keep] = True
        fetch = min(len(self), max(4 * k, k + len(self) - keep.size))
        _set_query_params(self.faiss_index, ef, nprobe, self.manifest.get("query_params", {}))
        scores, ids = self.faiss_index.search(queries, fetch)
        ok = (ids >= 0) & mask[np.maximum(ids, 0)]
        order = np.argsort(~ok, axis=1, kind="stable")[:, :k]
        ids = np.where(np.take_along_axis(ok, order, 1), np.take_along_axis(ids, order, 1), -1)
        return _padded(ids, np.take_along_axis(scores, order, 1))

    # -- persistence --------------------------------------------------------------------
    def save(self, folder_or_path: str | os.PathLike, name: str | None = None,
             overwrite: bool = True) -> Path:
        """Write ``<name>.faiss`` and ``<name>.json`` atomically; returns the .faiss path.

        ``folder_or_path`` is a folder (the file stem is ``name`` or the index's name) or a
        path ending in ``.faiss``. An existing index of that name stays until the new one
        is complete; with ``overwrite=False`` it is refused instead.
        """
        path = check_target(folder_or_path, name or self.name, overwrite)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.manifest["name"] = path.stem
        data = faiss.serialize_index(self.faiss_index)
        self.manifest["bytes"] = int(data.nbytes)
        text = (json.dumps(self.manifest, indent=2) + "\n").encode("utf-8")
        pending = [_write_temp(path, data.tobytes()), _write_temp(path.with_suffix(".json"), text)]
        _commit_temps(pending)
        return path

    @classmethod
    def load(cls, folder_or_path: str | os.PathLike, name: str | None = None,
             vectors: Vectors | None = None) -> Index:
        """Open a saved index; refuse it if it was built from another version of its set.

        The fingerprint is checked against ``vectors`` when given, else against the
        ``vectors.h5`` store beside the index when there is one.
        """
        path = _index_path(folder_or_path, name)
        manifest = _read_manifest(path)
        _check_fresh(path, manifest, vectors)
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, OSError, ValueError) as err:
            raise StoreError(f"{path}: index file is truncated or corrupt ({_first_line(err)}); "
                             "rebuild it with `embedkit index ... --force`") from None
        if index.ntotal != manifest.get("size") or index.d != manifest.get("dim"):
            raise StoreError(f"{path}: index holds {index.ntotal} x {index.d} vectors but its "
                             f"manifest says {manifest.get('size')} x {manifest.get('dim')}; "
                             "rebuild it with `embedkit index ... --force`")
        manifest["name"] = path.stem
        return cls(index, manifest)


# -- exact search -----------------------------------------------------------------------------
def exact_search(unit: np.ndarray, queries: np.ndarray, k: int,
                 blocked: np.ndarray | None = None,
                 ids_map: np.ndarray | None = None) -> Neighbours:
    """Top-``k`` inner products of unit ``queries`` against ``unit`` rows, batched in numpy.

    ``blocked`` row ids (of the full id space) never match; ``ids_map`` maps the rows of
    ``unit`` to the full id space when ``unit`` is a subset. Ties go to the lower id.
    """
    n = unit.shape[0]
    k_eff = min(k, n)
    nq = queries.shape[0]
    ids = np.full((nq, k), -1, dtype=np.int64)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    local_block = _local_ids(blocked, ids_map, n)
    step = max(1, _SCORE_BYTES // (4 * max(n, 1)))
    for lo in range(0, nq, step):
        sims = queries[lo:lo + step] @ unit.T
        if local_block.size:
            sims[:, local_block] = -np.inf
        top = top_k(sims, k_eff)
        top_scores = np.take_along_axis(sims, top, 1)
        found = np.isfinite(top_scores)
        mapped = top if ids_map is None else ids_map[top]
        ids[lo:lo + step, :k_eff] = np.where(found, mapped, -1)
        scores[lo:lo + step, :k_eff] = top_scores
    return Neighbours(ids, scores)


def top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Column ids of the ``k`` largest values of each row, best first (ties: lower id)."""
    n = sims.shape[1]
    if k < n:
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(n), sims.shape).copy()
    order = np.lexsort((top, -np.take_along_axis(sims, top, 1)), axis=1)
    return np.take_along_axis(top, order, 1)


def _local_ids(blocked: np.ndarray | None, ids_map: np.ndarray | None, n: int) -> np.ndarray:
    if blocked is None or blocked.size == 0:
        return np.empty(0, dtype=np.int64)
    if ids_map is None:
        return blocked[blocked < n]
    return np.flatnonzero(np.isin(ids_map, blocked))


def _padded(ids: np.ndarray, scores: np.ndarray) -> Neighbours:
    ids = ids.astype(np.int64, copy=False)
    scores = np.where(ids >= 0, scores, -np.inf).astype(np.float32)
    return Neighbours(ids, scores)


def _allowed_ids(restrict: int | np.ndarray | None, size: int) -> np.ndarray | None:
    if restrict is None:
        return None
    if np.isscalar(restrict):
        if int(restrict) <= 0:
            raise UsageError(f"restrict must be a positive number of words, got {restrict}")
        return None if int(restrict) >= size else np.arange(int(restrict))
    allowed = np.unique(np.asarray(restrict, dtype=np.int64))
    if allowed.size == 0 or allowed[0] < 0 or allowed[-1] >= size:
        raise UsageError("restrict ids must be non-empty row ids of the indexed set")
    return allowed


def _is_prefix(ids: np.ndarray) -> bool:
    return bool(ids[0] == 0 and ids[-1] == ids.size - 1)


# -- faiss plumbing ---------------------------------------------------------------------------
def _make_index(fstring: str, dim: int) -> faiss.Index:
    try:
        return faiss.index_factory(dim, fstring, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as err:
        raise UsageError(f"FAISS cannot build index {fstring!r} for dimension {dim}: "
                         f"{_first_line(err)}") from None


def _set_build_params(index: faiss.Index, ef_construction: int) -> None:
    hnsw = _find(index, faiss.IndexHNSW)
    if hnsw is not None:
        hnsw.hnsw.efConstruction = int(ef_construction)


def _train(index: faiss.Index, unit: np.ndarray, seed: int) -> None:
    if index.is_trained:
        return
    ivf = _find(index, faiss.IndexIVF)
    cap = max(256 * (ivf.nlist if ivf is not None else 256), 65_536)
    sample = unit
    if unit.shape[0] > cap:
        rng = np.random.default_rng(seed)
        sample = unit[np.sort(rng.choice(unit.shape[0], cap, replace=False))]
    if ivf is not None:
        ivf.cp.seed = seed
        if isinstance(ivf, faiss.IndexIVFPQ):
            ivf.do_polysemous_training = False  # only for Hamming filtering, which we never use
    with progress.task(f"training on {sample.shape[0]:,} vectors", total=None):
        try:
            index.train(sample)
        except RuntimeError as err:
            raise UsageError(f"cannot train this index on {unit.shape[0]} vectors: "
                             f"{_first_line(err)}; use fewer lists (--nlist) or fewer bits"
                             ) from None


def _find(index: faiss.Index, cls: type) -> Any:
    """The first sub-index of type ``cls`` (through pre-transforms and refine wrappers)."""
    index = faiss.downcast_index(index)
    for _ in range(4):
        if isinstance(index, cls):
            return index
        inner = getattr(index, "index", None) or getattr(index, "base_index", None)
        if inner is None:
            return None
        index = faiss.downcast_index(inner)
    return None


def _hnsw_m(index: faiss.Index) -> int | None:
    hnsw = _find(index, faiss.IndexHNSW)
    return None if hnsw is None else int(hnsw.hnsw.nb_neighbors(1))


def _ef_construction(index: faiss.Index) -> int | None:
    hnsw = _find(index, faiss.IndexHNSW)
    return None if hnsw is None else int(hnsw.hnsw.efConstruction)


def _nlist(index: faiss.Index) -> int | None:
    ivf = _find(index, faiss.IndexIVF)
    return None if ivf is None else int(ivf.nlist)


def _default_query_params(index: faiss.Index, ef: int | None, nprobe: int | None) -> dict[str, int]:
    params: dict[str, int] = {}
    if _find(index, faiss.IndexHNSW) is not None:
        params["ef_search"] = _positive("ef_search", ef or DEFAULT_EF_SEARCH)
    ivf = _find(index, faiss.IndexIVF)
    if ivf is not None:
        params["nprobe"] = min(ivf.nlist, _positive("nprobe", nprobe or default_nprobe(ivf.nlist)))
    return params


def _widened(ef: int | None, nprobe: int | None, defaults: dict[str, int], share: float,
             size: int) -> tuple[int, int]:
    """Query parameters scaled by 1/share for a filtered search.

    A selector hides the rows outside the allowed share from HNSW's beam and IVF's lists,
    so the same ef / nprobe would find fewer allowed rows; widening by the inverse share
    keeps recall close to the unfiltered search.
    """
    ef = ef or defaults.get("ef_search", DEFAULT_EF_SEARCH)
    nprobe = nprobe or defaults.get("nprobe", 1)
    share = max(share, 1e-6)
    return min(size, math.ceil(ef / share)), math.ceil(nprobe / share)


def _search_params(index, ef, nprobe, defaults, sel) -> Any:
    """Typed SearchParameters for the top-level structure, or None where unsupported."""
    top = faiss.downcast_index(index)
    ef = _positive("ef", ef or defaults.get("ef_search", DEFAULT_EF_SEARCH))
    if isinstance(top, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(efSearch=ef, sel=sel) if sel else (
            faiss.SearchParametersHNSW(efSearch=ef))
    if isinstance(top, faiss.IndexIVF):
        probe = min(top.nlist, _positive("nprobe", nprobe or defaults.get("nprobe", 1)))
        return faiss.SearchParametersIVF(nprobe=probe, sel=sel) if sel else (
            faiss.SearchParametersIVF(nprobe=probe))
    _set_query_params(index, ef, nprobe, defaults)
    if isinstance(top, (faiss.IndexFlatCodes,)) and sel is not None:
        return faiss.SearchParameters(sel=sel)
    return None


def _set_query_params(index, ef, nprobe, defaults) -> None:
    space = faiss.ParameterSpace()
    if _find(index, faiss.IndexHNSW) is not None:
        ef = ef or defaults.get("ef_search", DEFAULT_EF_SEARCH)
        space.set_index_parameter(index, "efSearch", ef)
    if _find(index, faiss.IndexIVF) is not None:
        space.set_index_parameter(index, "nprobe", nprobe or defaults.get("nprobe", 1))


def _selector(keep: np.ndarray, size: int) -> Any:
    if keep.size and _is_prefix(keep):
        return faiss.IDSelectorRange(0, int(keep[-1]) + 1)
    bitmap = np.zeros(size, dtype=bool)
    bitmap[keep] = True
    packed = np.packbits(bitmap, bitorder="little")
    sel = faiss.IDSelectorBitmap(size, faiss.swig_ptr(packed))
    sel._packed = packed  # keep the bitmap alive as long as the selector
    return sel


# -- files ------------------------------------------------------------------------------------
def default_name(fstring: str, kind: str | None = None) -> str:
    """The default file stem: the friendly type (``hnsw``, ``ivf``) when one was given,
    else one made from the factory string (``hnsw32``, ``ivf1024_pq16x8``)."""
    if kind and kind.strip().lower() in TYPES[:-1]:
        return kind.strip().lower()
    stem = "".join(c if c.isalnum() else "_" for c in fstring.lower()).strip("_")
    return stem or "index"


def check_target(folder_or_path: str | os.PathLike, name: str | None,
                 overwrite: bool = False) -> Path:
    """The .faiss path an index will be saved to; refuses an existing one unless ``overwrite``."""
    path = _index_path(folder_or_path, name)
    if path.exists() and not overwrite:
        raise NameExistsError(f"index {path.stem!r} already exists in {path.parent}; "
                              "use --force to replace it or choose another --index-name")
    return path


def _index_path(folder_or_path: str | os.PathLike, name: str | None) -> Path:
    path = Path(folder_or_path)
    if path.suffix in (".faiss", ".json"):
        return path.with_suffix(".faiss")
    if name is None:
        raise UsageError(f"{path}: give an index name or a path ending in .faiss")
    return path / f"{name}.faiss"


def _read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path.with_suffix(".json")
    if not path.exists():
        others = sorted(p.stem for p in path.parent.glob("*.faiss")) if path.parent.is_dir() else []
        hint = f"; indexes here: {', '.join(others)}" if others else (
            "; build one with `embedkit index NAME --type flat|hnsw|ivf|ivfpq|sq8`")
        raise NotFoundError(f"no index {path.stem!r} at {path.parent}{hint}")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if not isinstance(manifest, dict) or "factory" not in manifest:
            raise ValueError("no factory key")
    except FileNotFoundError:
        raise StoreError(f"{manifest_path}: index manifest is missing; rebuild the index "
                         "with `embedkit index ... --force`") from None
    except (OSError, ValueError) as err:
        raise StoreError(f"{manifest_path}: index manifest is unreadable ({_first_line(err)}); "
                         "rebuild the index with `embedkit index ... --force`") from None
    return manifest


def _check_fresh(path: Path, manifest: dict[str, Any], vectors: Vectors | None) -> None:
    expected = manifest.get("fingerprint")
    if vectors is not None:
        actual = vectors.metadata.get("fingerprint")
        set_name = vectors.metadata.get("path") and Path(vectors.metadata["path"]).parent.name
    else:
        store = path.parent / "vectors.h5"
        if not store.exists():
            return
        from embedkit.store import open_h5

        with open_h5(store) as h5:
            actual = h5.attrs.get("fingerprint")
        actual = actual.decode() if isinstance(actual, bytes) else actual
        set_name = path.parent.name
    if expected and actual and expected != actual:
        set_name = set_name or manifest.get("set") or "NAME"
        raise StaleIndexError(
            f"index {path.stem!r} was built from another version of set {set_name!r}; "
            f"rebuild with `embedkit index {set_name} --type {manifest.get('type', 'flat')} "
            f"--index-name {path.stem} --force`"
        )


def _write_temp(path: Path, data: bytes) -> tuple[Path, Path]:
    """Write ``data`` to a fsynced temporary file beside ``path``; returns (temp, target)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), path


def _commit_temps(pending: list[tuple[Path, Path]]) -> None:
    """Rename complete temporary files over their targets (the old files stay until then)."""
    try:
        for tmp, target in pending:
            os.replace(tmp, target)
    finally:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
    dir_fd = os.open(pending[0][1].parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write one file atomically (temp file in the same folder + fsync + rename)."""
    path = Path(path)
    _commit_temps([_write_temp(path, data)])
    return path


def _positive(what: str, value: int) -> int:
    if int(value) <= 0:
        raise UsageError(f"{what} must be positive, got {value}")
    return int(value)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[-1] if text else type(err).__name__)[:200]
