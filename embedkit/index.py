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
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import faiss
import numpy as np

from embedkit import __version__, progress
from embedkit.atomic import AtomicFile, deferred_signals, fsync_path
from embedkit.atomic import write_bytes as atomic_write_bytes
from embedkit.errors import DimensionMismatchError, StoreError, UsageError
from embedkit.faiss_ops import (
    default_query_params,
    ef_construction_of,
    find,
    first_line,
    hnsw_m,
    is_prefix,
    make_index,
    nlist_of,
    search_params,
    selector,
    set_build_params,
    set_query_params,
    train,
    widened,
)
from embedkit.index_files import (
    check_fresh,
    check_size,
    check_target,
    index_path,
    read_manifest,
    sample_signature,
)
from embedkit.index_params import (  # re-exported: the index API users import them from here
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_M,
    TYPES,
    build_threads,
    default_name,
    default_nbits,
    default_nlist,
    default_nprobe,
    default_pq_m,
    factory_string,
    positive,
)
from embedkit.vectors import Vectors, require_vectors, unit_rows

__all__ = ["DEFAULT_EF_CONSTRUCTION", "DEFAULT_EF_SEARCH", "DEFAULT_M", "TYPES", "Index",
           "Neighbours", "atomic_write_bytes", "build_threads", "check_target", "default_name",
           "default_nbits", "default_nlist", "default_nprobe", "default_pq_m", "exact_search",
           "factory_string", "top_k"]

log = logging.getLogger("embedkit.index")

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
        self.warn_short = True  # warn when an IVF search returns fewer than k rows
        self._kinds = structures(index)  # checked per query: computed once
        # Unfiltered HNSW / IVF queries skip SearchParameters: the query-time knob is set
        # on the structure itself when it changes (saves ~20 us a call, which matters for
        # one-query-at-a-time use).
        top = faiss.downcast_index(index)
        self._refine = top if isinstance(top, faiss.IndexRefine) else None
        if self._refine is not None:  # the knob is the re-ranked index's, plus k_factor
            top = faiss.downcast_index(top.base_index)
        self._knob: tuple[Any, str] | None = (
            (top.hnsw, "efSearch") if isinstance(top, faiss.IndexHNSW)
            else (top, "nprobe") if isinstance(top, faiss.IndexIVF) else None
        )
        self._knob_max = top.nlist if isinstance(top, faiss.IndexIVF) else None

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
    def searchable_rows(self) -> int:
        """Rows a search can return (all-zero rows never are)."""
        return len(self) - int(self._zero_rows.size)

    @property
    def is_exact(self) -> bool:
        return self.factory == "Flat"

    @property
    def is_approximate_scores(self) -> bool:
        """True for quantised indexes (PQ, SQ, ...), whose scores are not exact cosines."""
        top = faiss.downcast_index(self.faiss_index)
        if isinstance(top, faiss.IndexRefine):  # RFlat re-ranks exactly; Refine(SQ8) does not
            return not isinstance(faiss.downcast_index(top.refine_index), faiss.IndexFlat)
        return not isinstance(top, (faiss.IndexFlat, faiss.IndexHNSWFlat, faiss.IndexIVFFlat))

    def __repr__(self) -> str:
        return f"Index({self.name!r}, {self.factory!r}, {len(self)} x {self.dim})"

    # -- building -----------------------------------------------------------------------
    @classmethod
    def build(cls, vectors: Vectors, factory: str = "Flat", *, M: int | None = None,
              ef_construction: int | None = None, ef_search: int | None = None,
              nlist: int | None = None, nprobe: int | None = None,
              pq_m: int | None = None, nbits: int | None = None,
              k_factor: int | None = None, name: str | None = None, seed: int = 0,
              threads: int | None = None) -> Index:
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
        k_factor : refine indexes (factory strings ending in ``RFlat``): the default number
            of candidates, as a multiple of k, re-ranked with the exact rows (default 4).
        name : str, the file stem used by :meth:`save` (default: derived from the type).
        seed : int, for the training sample (IVF, PQ).
        threads : int, OpenMP threads (default: :func:`build_threads`).
        """
        if isinstance(vectors, (str, os.PathLike)):
            require_vectors(vectors, "Index.build")  # a TypeError saying how to open it
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
        index = make_index(fstring, dim)
        kinds = structures(index)
        _check_query_options(kinds, fstring, ef_construction=ef_construction,
                             ef_search=ef_search, nprobe=nprobe)
        _check_k_factor(k_factor, kinds, fstring)
        set_build_params(index, ef_construction or DEFAULT_EF_CONSTRUCTION)
        train(index, unit, seed)
        _add_rows(index, unit, fstring)
        query = default_query_params(index, ef_search, nprobe, k_factor)
        meta = vectors.metadata if isinstance(vectors, Vectors) else {}
        manifest = {
            "name": name or default_name(fstring, factory),
            "type": kind if kind in TYPES else "factory",
            "factory": fstring,
            "metric": "cosine",
            "params": {k: v for k, v in {
                "M": M or hnsw_m(index), "ef_construction": ef_construction_of(index),
                "nlist": nlist_of(index), "pq_m": pq_m if "PQ" in fstring else None,
                "nbits": nbits if "PQ" in fstring else None, "seed": seed, "threads": threads,
            }.items() if v is not None},
            "query_params": query,
            "fingerprint": meta.get("fingerprint"),
            "sample_signature": (sample_signature(vectors) if isinstance(vectors, Vectors)
                                 else None),
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
               nprobe: int | None = None, restrict: int | np.ndarray | None = None,
               k_factor: int | None = None) -> Neighbours:
        """The ``k`` rows closest to each query by cosine similarity.

        Parameters
        ----------
        queries : ndarray (nq, dim) or (dim,), any float dtype; normalised here.
        k : int, 1 <= k <= number of rows.
        ef, nprobe : query-time HNSW beam width / IVF lists visited (default: the
            index's stored query parameters).
        k_factor : refine (``RFlat``) indexes: re-rank ``k_factor * k`` candidates with the
            exact rows (default: the stored value).
        restrict : int, or an array of allowed row ids
            Search only rows ``0 .. restrict-1`` (the most frequent words when rows are in
            frequency order), or only the rows listed.

        Returns
        -------
        Neighbours(ids (nq, k) int64, scores (nq, k) float32), padded with -1 / -inf.
        """
        queries = self._check_queries(queries)
        k = self._check_k(k)
        _check_query_options(self._kinds, self.factory, ef=ef, nprobe=nprobe)
        _check_k_factor(k_factor, self._kinds, self.factory)
        allowed = _allowed_ids(restrict, len(self))
        if self.is_exact:
            return self._search_exact(queries, k, allowed)
        if allowed is not None and self._graph_rows_fit(allowed):
            return self._search_graph_subset(queries, k, allowed)
        # FAISS's HNSW returns at most efSearch results: never search with a beam below k
        ef = max(ef or self.manifest.get("query_params", {}).get("ef_search", DEFAULT_EF_SEARCH), k)
        found = self._search_faiss(queries, k, allowed, ef, nprobe, k_factor)
        if self.warn_short and allowed is None and k <= self.searchable_rows:
            self._warn_short(found, k)
        return found

    def _warn_short(self, found: Neighbours, k: int) -> None:
        """An IVF search that visits too few lists can hold fewer than k rows: say so."""
        short = int((found.ids[:, -1] < 0).sum()) if found.ids.size else 0
        if short:
            log.warning("%d of %d queries got fewer than %d neighbours from index %r (%s); "
                        "visit more lists (--nprobe) for complete answers", short,
                        found.ids.shape[0], k, self.name, self.factory)

    def _check_queries(self, queries: np.ndarray) -> np.ndarray:
        queries = np.asarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.ndim != 2:
            raise DimensionMismatchError(
                f"queries must be one vector or an (nq, {self.dim}) matrix, got an array of "
                f"shape {queries.shape}")
        if queries.shape[1] != self.dim:
            raise DimensionMismatchError(
                f"query has dimension {queries.shape[1]}, index {self.name!r} was built with "
                f"dimension {self.dim}"
            )
        if queries.shape[0] == 0:
            raise UsageError("no queries given")
        if not np.isfinite(queries).all():  # FAISS would answer nothing (-1) without a word
            bad = int(np.flatnonzero(~np.isfinite(queries).all(axis=1))[0])
            raise UsageError(f"query {bad} holds NaN or infinite values; give finite vectors")
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
            unit = unit[: allowed[-1] + 1] if is_prefix(allowed) else unit[allowed]
        return exact_search(unit, queries, k, self._zero_rows, ids_map)

    def _graph_rows_fit(self, allowed: np.ndarray) -> bool:
        """A filtered HNSW search loses recall (the graph falls apart); its rows are stored
        whole, so a restricted search that fits in memory is done exactly instead."""
        hnsw = find(self.faiss_index, faiss.IndexHNSW)
        return hnsw is not None and allowed.size * self.dim <= _SUBSET_FLOATS

    def _search_graph_subset(self, queries: np.ndarray, k: int, allowed: np.ndarray
                             ) -> Neighbours:
        key = (allowed.size, int(allowed[0]), int(allowed[-1]))
        if self._subset is None or self._subset[0] != key:
            rows = self.faiss_index.reconstruct_batch(allowed)
            self._subset = (key, unit_rows(rows))
        return exact_search(self._subset[1], queries, k, self._zero_rows, allowed)

    def _search_faiss(self, queries: np.ndarray, k: int, allowed: np.ndarray | None,
                      ef: int | None, nprobe: int | None, k_factor: int | None) -> Neighbours:
        blocked = self._zero_rows
        if allowed is None and not blocked.size and self._knob is not None:
            return self._search_unfiltered(queries, k, ef, nprobe, k_factor)
        sel = None
        if allowed is not None or blocked.size:
            keep = np.arange(len(self)) if allowed is None else allowed
            keep = np.setdiff1d(keep, blocked, assume_unique=True) if blocked.size else keep
            sel = selector(keep, len(self))
        defaults = self.manifest.get("query_params", {})
        if sel is not None:
            ef, nprobe = widened(ef, nprobe, defaults, keep.size / len(self), len(self))
        params = search_params(self.faiss_index, ef, nprobe, defaults, sel, k_factor)
        if params is None and sel is not None:  # a structure without selector support
            return self._search_filtered(queries, k, keep, ef, nprobe, k_factor)
        scores, ids = self.faiss_index.search(queries, k, params=params)
        return _padded(ids, scores)

    def _search_unfiltered(self, queries: np.ndarray, k: int, ef: int | None,
                           nprobe: int | None, k_factor: int | None) -> Neighbours:
        holder, attr = self._knob
        defaults = self.manifest.get("query_params", {})
        if attr == "efSearch":
            value = positive("ef", ef or defaults.get("ef_search", DEFAULT_EF_SEARCH))
        else:
            value = min(self._knob_max, positive("nprobe", nprobe or defaults.get("nprobe", 1)))
        if getattr(holder, attr) != value:
            setattr(holder, attr, value)
        if self._refine is not None:
            factor = float(k_factor or defaults.get("k_factor", 1))
            if self._refine.k_factor != factor:
                self._refine.k_factor = factor
        scores, ids = self.faiss_index.search(queries, k)
        if ids.min() >= 0:
            return Neighbours(ids, scores)
        return _padded(ids, scores)

    def _search_filtered(self, queries, k, keep, ef, nprobe, k_factor) -> Neighbours:
        mask = np.zeros(len(self), dtype=bool)
        mask[keep] = True
        fetch = min(len(self), max(4 * k, k + len(self) - keep.size))
        set_query_params(self.faiss_index, ef, nprobe, self.manifest.get("query_params", {}),
                         k_factor)
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
        self.manifest["name"] = path.stem
        index_file, manifest_file = AtomicFile(path), AtomicFile(path.with_suffix(".json"))
        try:
            faiss.write_index(self.faiss_index, str(index_file.path))
            self.manifest["bytes"] = index_file.path.stat().st_size
            manifest_file.path.write_text(json.dumps(self.manifest, indent=2) + "\n", "utf-8")
            for written in (index_file, manifest_file):  # both on disk before either is renamed
                fsync_path(written.path)
            with deferred_signals():  # a Ctrl-C cannot land between the two renames
                index_file.commit()
                manifest_file.commit()
        except BaseException:
            index_file.discard()
            manifest_file.discard()
            raise
        return path

    @classmethod
    def load(cls, folder_or_path: str | os.PathLike, name: str | None = None,
             vectors: Vectors | None = None) -> Index:
        """Open a saved index; refuse it if it was built from another version of its set.

        The fingerprint is checked against ``vectors`` when given, else against the
        ``vectors.h5`` store beside the index when there is one.
        """
        path = index_path(folder_or_path, name)
        manifest = read_manifest(path)
        check_fresh(path, manifest, vectors)
        check_size(path, manifest)
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, OSError, ValueError) as err:
            raise StoreError(f"{path}: index file is truncated or corrupt ({first_line(err)}); "
                             "rebuild it with `embedkit index ... --force`") from None
        if index.ntotal != manifest.get("size") or index.d != manifest.get("dim"):
            raise StoreError(f"{path}: index holds {index.ntotal} x {index.d} vectors but its "
                             f"manifest says {manifest.get('size')} x {manifest.get('dim')}; "
                             "rebuild it with `embedkit index ... --force`")
        manifest["name"] = path.stem
        return cls(index, manifest)


def _add_rows(index: faiss.Index, unit: np.ndarray, fstring: str) -> None:
    """Add the unit rows in blocks; a structure that refuses plain ``add`` (``IDMap``) is
    a usage error, not a FAISS traceback."""
    size = unit.shape[0]
    with progress.task(f"indexing {size:,} vectors ({fstring})", total=size) as bar:
        for lo in range(0, size, _ADD_BLOCK):
            try:
                index.add(unit[lo:lo + _ADD_BLOCK])
            except RuntimeError as err:
                raise UsageError(f"FAISS cannot add the vectors to index {fstring!r}: "
                                 f"{first_line(err)}; embedkit numbers the rows itself, so "
                                 "use a factory string without IDMap") from None
            bar.advance(min(_ADD_BLOCK, size - lo))


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
    if nq >= _FAISS_BATCH and n:
        return _exact_search_faiss(unit, queries, k, _local_ids(blocked, ids_map, n), ids_map)
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


# From this many queries on, the blocked product + FAISS heaps beats numpy's product +
# argpartition (for one query numpy is faster).
_FAISS_BATCH = 32
_HEAP_SERIAL = 100_000  # FAISS's HeapArray::addn runs serially below ni * nj of this
_QUERY_CHUNK = 4096  # queries per product block


def _exact_search_faiss(unit: np.ndarray, queries: np.ndarray, k: int,
                        local_block: np.ndarray, ids_map: np.ndarray | None) -> Neighbours:
    """:func:`exact_search` for many queries: blocked rows are fetched and dropped."""
    n = unit.shape[0]
    wide = min(n, k + local_block.size)
    scores, top = _blocked_top(np.ascontiguousarray(queries, dtype=np.float32),
                               np.ascontiguousarray(unit, dtype=np.float32), wide)
    if local_block.size:
        scores = np.where(np.isin(top, local_block), -np.inf, scores).astype(np.float32)
    order = np.lexsort((top, -scores), axis=-1)[:, :k]  # score desc, then lower id
    top = np.take_along_axis(top, order, 1)
    scores = np.take_along_axis(scores, order, 1)
    found = np.isfinite(scores) & (top >= 0)
    mapped = top if ids_map is None else ids_map[np.maximum(top, 0)]
    ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
    out = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
    ids[:, :order.shape[1]] = np.where(found, mapped, -1)
    out[:, :order.shape[1]] = np.where(found, scores, -np.inf)
    return Neighbours(ids, out)


def _blocked_top(queries: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest inner products of each query: numpy's BLAS product over blocks of
    rows (both cores), each block fed to FAISS's C heaps in serial slices.

    ``faiss.knn`` does the same with its own BLAS, but on low dimensions its product is the
    slow part (50-d, 146k rows, 1,000 queries: 0.41 s, against 0.12 s here), and running
    its heaps on OpenMP threads beside the BLAS threads makes the two pools fight on two
    cores (0.6 s). On 300-d both take about 0.3 s.
    """
    nq, n = queries.shape[0], rows.shape[0]
    scores = np.empty((nq, k), dtype=np.float32)
    ids = np.empty((nq, k), dtype=np.int64)
    heaps = faiss.float_minheap_array_t()  # a min-heap per query keeps its largest scores
    heaps.k, heaps.nh = k, nq
    heaps.val, heaps.ids = faiss.swig_ptr(scores), faiss.swig_ptr(ids)
    heaps.heapify()
    chunk = min(nq, _QUERY_CHUNK)
    width = int(min(n, max(1024, _SCORE_BYTES // (4 * chunk))))
    block = np.empty((chunk, width), dtype=np.float32)
    for q0 in range(0, nq, chunk):
        group = queries[q0:q0 + chunk]
        for lo in range(0, n, width):
            part = rows[lo:lo + width]
            sims = block[:group.shape[0]] if part.shape[0] == width else \
                np.empty((group.shape[0], part.shape[0]), dtype=np.float32)
            np.matmul(group, part.T, out=sims)
            step = max(1, _HEAP_SERIAL // part.shape[0])
            for first in range(0, group.shape[0], step):
                count = min(step, group.shape[0] - first)
                heaps.addn(part.shape[0], faiss.swig_ptr(sims[first:]), lo, q0 + first, count)
    heaps.reorder()
    return scores, ids


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


def structures(index: faiss.Index) -> frozenset[str]:
    """Which tunable structures ``index`` holds: ``HNSW``, ``IVF``, ``refine``."""
    found = {"HNSW": faiss.IndexHNSW, "IVF": faiss.IndexIVF, "refine": faiss.IndexRefine}
    return frozenset(name for name, cls in found.items() if find(index, cls) is not None)


def _check_k_factor(k_factor: int | None, kinds: frozenset[str], factory: str) -> None:
    """A given ``k_factor`` must be positive and the index a refine index."""
    if k_factor is None:
        return
    positive("k_factor", k_factor)
    if "refine" not in kinds:
        raise UsageError(f"k_factor is for refine indexes (a factory string ending in RFlat, "
                         f"e.g. 'IVF256,PQ32x4fs,RFlat'); this index is {factory}")


_NEEDS = {"ef_construction": "HNSW", "ef_search": "HNSW", "ef": "HNSW", "nprobe": "IVF"}


def _check_query_options(kinds: frozenset[str], factory: str, **given: int | None) -> None:
    """Given search and graph parameters must be positive and the index must have the
    structure they tune (efSearch: HNSW, nprobe: IVF)."""
    for what, value in given.items():
        if value is None:
            continue
        positive(what, value)
        if _NEEDS[what] not in kinds:
            raise UsageError(f"{what} is for {_NEEDS[what]} indexes; this index is {factory}")
