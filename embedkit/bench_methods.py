"""The search methods :mod:`embedkit.bench` compares, behind one small interface.

Each method builds over the unit rows of a set (cosine = inner product on L2-normalised
rows), then answers ``k``-nearest-neighbour queries one at a time (``single``) or as one
batch (``batch``) at a value of its search parameter (FAISS efSearch / nprobe, hnswlib
ef, annoy search_k). Peers (hnswlib, annoy, gensim) are benchmark extras: they are
imported only when their method is built, and :func:`peer_available` says whether they
are installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.index import Index, top_k

EF_VALUES = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768)
NPROBE_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
SEARCH_K_FACTORS = (1, 2, 5, 10, 20, 50, 100, 200)
K_FACTORS = (4, 8, 16, 32)  # refine indexes: candidates re-ranked exactly, times k
PEERS = ("hnswlib", "annoy", "gensim", "numpy")
PEER_MODULES = {"hnswlib": "hnswlib", "annoy": "annoy", "gensim": "gensim", "numpy": "numpy"}


def peer_available(peer: str) -> bool:
    """Whether a peer library is installed (without importing it)."""
    return importlib.util.find_spec(PEER_MODULES[peer]) is not None


@dataclass
class Method(ABC):
    """One build configuration of one library; ``values`` is its search-parameter sweep."""

    name: str
    library: str
    build_params: dict[str, Any] = field(default_factory=dict)
    param: str | None = None
    values: tuple[int, ...] = (0,)
    default: bool = False
    batched: bool = True

    @property
    def label(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in self.build_params.items())
        return f"{self.name}({params})" if params else self.name

    def sweep(self, k: int) -> tuple[int, ...]:
        """The search-parameter values to measure for ``k`` neighbours."""
        return self.values

    @abstractmethod
    def build(self, unit: np.ndarray, threads: int) -> None:
        """Build the index over unit rows with ``threads`` threads."""

    @abstractmethod
    def batch(self, queries: np.ndarray, k: int, value: int) -> np.ndarray:
        """Row ids (nq, k) of the ``k`` nearest rows at search-parameter ``value``."""

    def single(self, query: np.ndarray, k: int, value: int) -> np.ndarray:
        return self.batch(query[None, :], k, value)[0]

    @abstractmethod
    def save(self, folder: Path) -> int:
        """Write the index to ``folder``; returns the bytes on disk."""


@dataclass
class FaissMethod(Method):
    """An embedkit :class:`~embedkit.index.Index` (FAISS) of one type or factory string."""

    kind: str = "flat"

    def build(self, unit: np.ndarray, threads: int) -> None:
        self.index = Index.build(unit, self.kind, threads=threads, **self.build_params)
        self.index.warn_short = False  # short answers at low nprobe are what is measured
        query = self.index.manifest["query_params"]
        self.param = "ef" if "ef_search" in query else "nprobe" if "nprobe" in query else None
        if self.param is None:
            self.values = (0,)
        elif self.param == "nprobe":
            self.values = nprobe_sweep(self.values, self.index.manifest["params"]["nlist"])
        self.default_value = query.get("ef_search", query.get("nprobe", 0))

    def batch(self, queries: np.ndarray, k: int, value: int) -> np.ndarray:
        return self.index.search(queries, k, **self._kwargs(value)).ids

    def _kwargs(self, value: int) -> dict[str, int]:
        return {self.param: value} if self.param else {}

    def save(self, folder: Path) -> int:
        return self.index.save(folder, self.label_stem()).stat().st_size

    def label_stem(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.label.lower())


def nprobe_sweep(values: tuple[int, ...], nlist: int) -> tuple[int, ...]:
    """``values`` up to ``nlist``; when some were larger, ``nlist`` itself (every list: the
    exact end of the curve) replaces them, so a small set is not measured at nprobe 1 only."""
    kept = tuple(v for v in values if v < nlist)
    return kept + (nlist,) if len(kept) < len(values) else values


@dataclass
class HnswlibMethod(Method):
    """hnswlib HNSW, space "ip" on unit rows (= cosine)."""

    def build(self, unit: np.ndarray, threads: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=unit.shape[1])
        self.index.init_index(max_elements=unit.shape[0], random_seed=0, **self.build_params)
        self.index.add_items(unit, np.arange(unit.shape[0]), num_threads=threads)
        self.threads = threads

    def batch(self, queries: np.ndarray, k: int, value: int) -> np.ndarray:
        self.index.set_ef(max(value, k))
        return self.index.knn_query(queries, k, num_threads=self.threads)[0].astype(np.int64)

    def single(self, query: np.ndarray, k: int, value: int) -> np.ndarray:
        self.index.set_ef(max(value, k))
        return self.index.knn_query(query, k, num_threads=1)[0][0]

    def save(self, folder: Path) -> int:
        path = folder / f"{self.name}.{self.build_params['M']}.bin"
        self.index.save_index(str(path))
        return path.stat().st_size


@dataclass
class AnnoyMethod(Method):
    """annoy random-projection forest, "angular" distance (= cosine). No batched API.

    ``values`` are multiples of annoy's default search_k (n_trees * k).
    """

    def sweep(self, k: int) -> tuple[int, ...]:
        return tuple(f * self.build_params["n_trees"] * k for f in self.values)

    def build(self, unit: np.ndarray, threads: int) -> None:
        from annoy import AnnoyIndex

        self.index = AnnoyIndex(unit.shape[1], "angular")
        self.index.set_seed(0)
        for i, row in enumerate(unit):  # annoy takes items one by one; part of its build time
            self.index.add_item(i, row)
        self.index.build(self.build_params["n_trees"], n_jobs=threads)

    def batch(self, queries: np.ndarray, k: int, value: int) -> np.ndarray:
        return np.array([self.single(q, k, value) for q in queries])

    def single(self, query: np.ndarray, k: int, value: int) -> np.ndarray:
        found = self.index.get_nns_by_vector(query, k, search_k=value)
        return np.array(found + [-1] * (k - len(found)), dtype=np.int64)

    def save(self, folder: Path) -> int:
        path = folder / f"annoy.{self.build_params['n_trees']}.ann"
        self.index.save(str(path))
        return path.stat().st_size  # annoy now maps the file; unlinking it later is safe


@dataclass
class GensimMethod(Method):
    """gensim ``KeyedVectors.most_similar``, one query vector at a time (exact)."""

    def build(self, unit: np.ndarray, threads: int) -> None:
        from gensim.models import KeyedVectors

        self.kv = KeyedVectors(unit.shape[1])
        self.kv.add_vectors([str(i) for i in range(unit.shape[0])], unit)
        self.kv.fill_norms()

    def batch(self, queries: np.ndarray, k: int, value: int) -> np.ndarray:
        return np.array([self.single(q, k, value) for q in queries])

    def single(self, query: np.ndarray, k: int, value: int) -> np.ndarray:
        return np.array([int(w) for w, _ in self.kv.most_similar(positive=[query], topn=k)],
                        dtype=np.int64)

    def save(self, folder: Path) -> int:
        path = folder / "gensim.kv"
        self.kv.save(str(path))
        return sum(p.stat().st_size for p in folder.glob("gensim.kv*"))


@dataclass
class NumpyMethod(Method):
    """Plain numpy brute force: one matrix product and a partial sort (exact)."""

    def build(self, unit: np.ndarray, threads: int) -> None:
        self.unit = np.ascontiguousarray(unit)

    def batch(self, queries: np.ndarray, k: int, value: int) -> np.ndarray:
        step = max(1, (64 << 20) // (4 * self.unit.shape[0]))
        return np.vstack([top_k(queries[lo:lo + step] @ self.unit.T, k)
                          for lo in range(0, len(queries), step)])

    def single(self, query: np.ndarray, k: int, value: int) -> np.ndarray:
        scores = self.unit @ query
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.argsort(-scores[top], kind="stable")]

    def save(self, folder: Path) -> int:
        path = folder / "numpy.npy"
        np.save(path, self.unit)
        return path.stat().st_size


def faiss_methods(kind: str, size: int, quick: bool = False) -> list[Method]:
    """The build configurations benchmarked for one FAISS type (the first is embedkit's default)."""
    low = kind.strip().lower()
    configs: list[dict[str, Any]] = [{}]
    if low == "hnsw" and not quick:
        configs += [{"M": 16, "ef_construction": 100}]
    if low == "ivf" and not quick:
        from embedkit.index import default_nlist

        configs += [{"nlist": max(1, default_nlist(size) // 4)}]
    if _REFINE.search(kind):  # re-ranking depth is a query-time knob: one curve per value
        configs = [{"k_factor": f} for f in (K_FACTORS[:1] if quick else K_FACTORS)]
    graph = low == "hnsw" or re.match(r"(factory:)?(HNSW|NSG)", kind.strip())
    values = EF_VALUES if graph else NPROBE_VALUES
    if quick:
        values = values[::3]
    return [FaissMethod(f"faiss-{low}" if low in _FRIENDLY else f"faiss[{kind}]", "faiss",
                        params, values=values, default=i == 0, kind=kind)
            for i, params in enumerate(configs)]


_FRIENDLY = ("flat", "hnsw", "ivf", "ivfpq", "sq8")
_REFINE = re.compile(r",(RFlat|Refine\()")


def peer_methods(peer: str, quick: bool = False) -> list[Method]:
    """The build configurations benchmarked for one peer library."""
    if peer == "hnswlib":
        configs = [{"M": 32, "ef_construction": 200}] + (
            [] if quick else [{"M": 16, "ef_construction": 100}])
        values = EF_VALUES[::3] if quick else EF_VALUES
        return [HnswlibMethod("hnswlib", "hnswlib", c, "ef", values, default=i == 0)
                for i, c in enumerate(configs)]
    if peer == "annoy":
        trees = (10,) if quick else (10, 50, 100)
        factors = SEARCH_K_FACTORS[::3] if quick else SEARCH_K_FACTORS
        return [AnnoyMethod("annoy", "annoy", {"n_trees": t}, "search_k", factors,
                            default=t == (50 if 50 in trees else trees[0]), batched=False)
                for t in trees]
    if peer == "gensim":
        return [GensimMethod("gensim-most_similar", "gensim", batched=False, default=True)]
    if peer == "numpy":
        return [NumpyMethod("numpy-bruteforce", "numpy", default=True)]
    raise ValueError(peer)


def cpu_count() -> int:
    return os.cpu_count() or 1
