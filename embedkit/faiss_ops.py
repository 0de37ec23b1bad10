"""FAISS plumbing for :class:`embedkit.index.Index`: building, training, query parameters.

Reaches through wrappers (pre-transforms, refine) to the HNSW or IVF structure inside an
index, sets build- and query-time parameters, trains on a seeded sample, and turns
"only these rows" into a FAISS ``IDSelector``.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import faiss
import numpy as np

from embedkit import progress
from embedkit.errors import UsageError
from embedkit.index_params import (
    DEFAULT_EF_SEARCH,
    DEFAULT_K_FACTOR,
    default_nprobe,
    default_pq_m,
    divisors,
    positive,
)

log = logging.getLogger("embedkit.index")


def make_index(fstring: str, dim: int) -> faiss.Index:
    try:
        return faiss.index_factory(dim, fstring, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as err:
        hint = ""
        if "multiple of the number of subquantizers" in str(err):
            hint = (f"; the PQ sub-quantisers must divide {dim}: e.g. PQ{default_pq_m(dim)} "
                    f"(divisors: {', '.join(str(m) for m in divisors(dim))})")
        raise UsageError(f"FAISS cannot build index {fstring!r} for dimension {dim}: "
                         f"{first_line(err)}{hint}") from None


def set_build_params(index: faiss.Index, ef_construction: int) -> None:
    hnsw = find(index, faiss.IndexHNSW)
    if hnsw is not None:
        hnsw.hnsw.efConstruction = int(ef_construction)


def train(index: faiss.Index, unit: np.ndarray, seed: int) -> None:
    if index.is_trained:
        return
    ivf = find(index, faiss.IndexIVF)
    cap = max(256 * (ivf.nlist if ivf is not None else 256), 65_536)
    sample = unit
    if unit.shape[0] > cap:
        rng = np.random.default_rng(seed)
        sample = unit[np.sort(rng.choice(unit.shape[0], cap, replace=False))]
    _prepare_training(index, ivf, sample.shape[0], seed)
    with progress.task(f"training on {sample.shape[0]:,} vectors", total=None):
        try:
            index.train(sample)
        except RuntimeError as err:
            raise UsageError(f"cannot train this index on {unit.shape[0]} vectors: "
                             f"{first_line(err)}; use fewer lists (--nlist) or fewer bits"
                             ) from None


def _prepare_training(index: faiss.Index, ivf: Any, n: int, seed: int) -> None:
    """Seed the k-means, warn (once, in our log) about short training sets, and skip the
    polysemous training of PQ codes."""
    _points_per_code(index, n)
    if ivf is not None:
        ivf.cp.seed = seed
        _points_per_list(ivf, n)
    for pq_index in (ivf, find(index, faiss.IndexPQ)):
        if isinstance(pq_index, (faiss.IndexIVFPQ, faiss.IndexPQ)):
            # only for Hamming filtering, which we never use; on a plain PQ index it took
            # 31 s of a 36 s build (12,396 x 50, PQ10), and minutes with 12-bit codes
            pq_index.do_polysemous_training = False


def _points_per_list(ivf: Any, n: int) -> None:
    """FAISS prints its own warning on stderr below 39 training points per list; say it in
    our log instead, and only when the lists are clearly short of points (a tuning twin
    with a tenth of the rows held out is not)."""
    wanted = ivf.cp.min_points_per_centroid * ivf.nlist
    if n < wanted:
        ivf.cp.min_points_per_centroid = max(1, n // ivf.nlist)
        if n < 0.8 * wanted and ivf.nlist > 1:  # one list needs no clustering
            log.warning("training %d IVF lists on %d vectors (FAISS asks for %d): the lists "
                        "will be uneven; use fewer lists (--nlist)", ivf.nlist, n, wanted)


def _points_per_code(index: faiss.Index, n: int) -> None:
    """The same for PQ codebooks (2**nbits centroids per sub-quantiser): FAISS would print
    its own WARNING line once per sub-quantiser."""
    pq = getattr(find(index, faiss.IndexIVFPQ) or find(index, faiss.IndexPQ), "pq", None)
    if pq is None:
        pq = getattr(find(index, faiss.IndexIVFPQFastScan), "pq", None)
    if pq is None:
        return
    wanted = pq.cp.min_points_per_centroid * pq.ksub
    if n < wanted:
        pq.cp.min_points_per_centroid = max(1, n // pq.ksub)
        if n < 0.8 * wanted:
            log.warning("training PQ codebooks of %d centroids on %d vectors (FAISS asks for "
                        "%d): the codes will be coarse; use fewer bits per code (--nbits, or "
                        "PQmxBITS in a factory string)", pq.ksub, n, wanted)


def find(index: faiss.Index, cls: type) -> Any:
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


def hnsw_m(index: faiss.Index) -> int | None:
    hnsw = find(index, faiss.IndexHNSW)
    return None if hnsw is None else int(hnsw.hnsw.nb_neighbors(1))


def ef_construction_of(index: faiss.Index) -> int | None:
    hnsw = find(index, faiss.IndexHNSW)
    return None if hnsw is None else int(hnsw.hnsw.efConstruction)


def nlist_of(index: faiss.Index) -> int | None:
    ivf = find(index, faiss.IndexIVF)
    return None if ivf is None else int(ivf.nlist)


def default_query_params(index: faiss.Index, ef: int | None, nprobe: int | None,
                         k_factor: int | None = None) -> dict[str, int]:
    params: dict[str, int] = {}
    if find(index, faiss.IndexRefine) is not None:
        params["k_factor"] = positive("k_factor", k_factor or DEFAULT_K_FACTOR)
    if find(index, faiss.IndexHNSW) is not None:
        params["ef_search"] = positive("ef_search", ef or DEFAULT_EF_SEARCH)
    ivf = find(index, faiss.IndexIVF)
    if ivf is not None:
        params["nprobe"] = min(ivf.nlist, positive("nprobe", nprobe or default_nprobe(ivf.nlist)))
    return params


def widened(ef: int | None, nprobe: int | None, defaults: dict[str, int], share: float,
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


def search_params(index, ef, nprobe, defaults, sel, k_factor=None) -> Any:
    """Typed SearchParameters for the top-level structure, or None where unsupported."""
    top = faiss.downcast_index(index)
    ef = positive("ef", ef or defaults.get("ef_search", DEFAULT_EF_SEARCH))
    if isinstance(top, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(efSearch=ef, sel=sel) if sel else (
            faiss.SearchParametersHNSW(efSearch=ef))
    if isinstance(top, faiss.IndexIVF):
        probe = min(top.nlist, positive("nprobe", nprobe or defaults.get("nprobe", 1)))
        return faiss.SearchParametersIVF(nprobe=probe, sel=sel) if sel else (
            faiss.SearchParametersIVF(nprobe=probe))
    set_query_params(index, ef, nprobe, defaults, k_factor)
    if isinstance(top, (faiss.IndexFlatCodes,)) and sel is not None:
        return faiss.SearchParameters(sel=sel)
    return None


def set_query_params(index, ef, nprobe, defaults, k_factor=None) -> None:
    space = faiss.ParameterSpace()
    refine = find(index, faiss.IndexRefine)
    if refine is not None:  # candidates re-ranked with the exact rows: k_factor x k
        refine.k_factor = float(positive("k_factor", k_factor or defaults.get("k_factor", 1)))
    if find(index, faiss.IndexHNSW) is not None:
        ef = ef or defaults.get("ef_search", DEFAULT_EF_SEARCH)
        space.set_index_parameter(index, "efSearch", ef)
    if find(index, faiss.IndexIVF) is not None:
        space.set_index_parameter(index, "nprobe", nprobe or defaults.get("nprobe", 1))


def is_prefix(ids: np.ndarray) -> bool:
    """True when sorted ``ids`` are exactly 0 .. len-1."""
    return bool(ids[0] == 0 and ids[-1] == ids.size - 1)


def selector(keep: np.ndarray, size: int) -> Any:
    if keep.size and is_prefix(keep):
        return faiss.IDSelectorRange(0, int(keep[-1]) + 1)
    bitmap = np.zeros(size, dtype=bool)
    bitmap[keep] = True
    packed = np.packbits(bitmap, bitorder="little")
    sel = faiss.IDSelectorBitmap(size, faiss.swig_ptr(packed))
    sel._packed = packed  # keep the bitmap alive as long as the selector
    return sel


def first_line(err: BaseException) -> str:
    """FAISS's message without its C++ location, cut at a word if it is long."""
    text = str(err).strip().splitlines()
    line = text[-1] if text else type(err).__name__
    line = re.sub(r"^Error in .*? at \S+:\d+: (Error: '.*?' failed: )?", "", line)
    return line if len(line) <= 300 else line[:300].rsplit(" ", 1)[0] + " ..."
