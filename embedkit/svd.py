"""Truncated SVD: sparse weighted matrix -> dense word vectors U Sigma^p.

The arrow ``pmi -> svd`` of the data flow. :func:`truncated_svd` gives the ``dim`` largest
singular triplets of a sparse matrix, sorted by singular value descending, with
deterministic signs (the largest-magnitude entry of each column of U is positive), by
ARPACK (``scipy.sparse.linalg.svds``, exact to solver tolerance) or by a seeded randomized
SVD (Halko, Martinsson & Tropp 2011, Algorithm 4.4 + 5.1: a Gaussian sketch with
oversampling, power iterations re-orthonormalised by QR, then an exact SVD of the small
projected matrix). :func:`embed` gives the rows of U Sigma^p (Levy et al. 2015's eigenvalue
weighting: p = 1 is the lecture's U Sigma, p = 0.5 their recommendation, p = 0 plain U).

Words without contexts (all-zero rows) get exactly-zero vectors: they are kept, so the
vocabulary of the store is the vocabulary counted, and :func:`zero_rows` counts them for
the build statistics.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from embedkit.errors import EmbedkitError, UsageError

ALGORITHMS = ("arpack", "randomized")


@dataclass(frozen=True)
class SVDConfig:
    """How to factorise.

    Parameters
    ----------
    dim : number of singular triplets kept (the vector dimension).
    eig : p in U Sigma^p.
    algorithm : "arpack" | "randomized".
    seed : seeds ARPACK's start vector and the randomized sketch.
    oversample, power_iters : the randomized SVD's extra sketch columns and power passes.
    """

    dim: int = 300
    eig: float = 0.5
    algorithm: str = "randomized"
    seed: int = 0
    oversample: int = 20
    power_iters: int = 4

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise UsageError(
                f"unknown SVD algorithm {self.algorithm!r}; choose one of {', '.join(ALGORITHMS)}"
            )
        if self.dim < 1:
            raise UsageError(f"dim must be >= 1, got {self.dim} (--dim)")
        if not (math.isfinite(self.eig) and self.eig >= 0):
            raise UsageError(f"eig (the exponent p of Sigma^p) must be a finite number >= 0, "
                             f"got {self.eig}")
        check_seed(self.seed)
        if self.oversample < 0 or self.power_iters < 0:
            raise UsageError("oversample and power_iters must be >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


def check_seed(seed: object) -> None:
    """A :class:`UsageError` unless ``seed`` is a non-negative integer (numpy's seeds)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r} (--seed)")


def truncated_svd(matrix: sp.spmatrix | np.ndarray, dim: int, algorithm: str = "randomized",
                  seed: int = 0, oversample: int = 20, power_iters: int = 4, workers: int = 2,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``dim`` largest singular triplets of ``matrix``.

    Returns
    -------
    U : ndarray (m, dim) float64, orthonormal columns
    S : ndarray (dim,) float64, descending
    Vt : ndarray (dim, n) float64
    Signs are fixed: the largest-|value| entry of each column of U is positive.

    Raises :class:`EmbedkitError` when ``dim >= min(matrix.shape)`` (ARPACK needs
    dim < min(m, n); the message says how many dimensions the data allows).
    """
    SVDConfig(dim=dim, algorithm=algorithm, seed=seed)  # validates the choices
    m, n = matrix.shape
    if dim >= min(m, n):
        raise EmbedkitError(
            f"cannot keep {dim} dimensions of a {m} x {n} matrix: the SVD allows at most "
            f"{max(min(m, n) - 1, 0)}; lower --dim or use a larger corpus / lower --min-count"
        )
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    if algorithm == "arpack":
        v0 = np.random.default_rng(seed).uniform(-1, 1, min(m, n))
        u, s, vt = spla.svds(matrix, k=dim, v0=v0, solver="arpack")
    else:
        u, s, vt = randomized_svd(matrix, dim, seed, oversample, power_iters, workers)
    order = np.argsort(-s, kind="stable")
    u, vt = fix_signs(u[:, order], vt[order])
    return u, s[order], vt


def randomized_svd(matrix: sp.csr_matrix, dim: int, seed: int = 0, oversample: int = 20,
                   power_iters: int = 4, workers: int = 2
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Halko et al. (2011) randomized SVD with renormalised power iterations (seeded).

    The sparse products run on ``workers`` row blocks in threads (scipy's sparse kernels
    release the GIL); each row is computed as without threads, so results do not depend on
    ``workers``.
    """
    m, n = matrix.shape
    width = min(dim + oversample, min(m, n))
    rng = np.random.default_rng(seed)
    with _RowBlocks(matrix, workers) as a, _RowBlocks(matrix.T.tocsr(), workers) as a_t:
        q = a @ rng.standard_normal((n, width))
        # Power passes renormalised by LU (cheap, keeps the range well conditioned, as in
        # Halko et al. sec. 4.5 and scikit-learn); one economic QR at the end gives the basis.
        for _ in range(power_iters):
            q = a @ _lu_basis(a_t @ _lu_basis(q))
        q = sl.qr(q, mode="economic", check_finite=False)[0]
        small = (a_t @ q).T  # (width, n) = Q^T A
    u_small, s, vt = np.linalg.svd(small, full_matrices=False)
    return (q @ u_small)[:, :dim], s[:dim], vt[:dim]


class _RowBlocks:
    """A CSR matrix cut into row blocks of about equal nonzeros, multiplied in threads."""

    def __init__(self, matrix: sp.csr_matrix, workers: int):
        workers = max(1, min(workers, matrix.shape[0]))
        targets = np.linspace(0, matrix.nnz, workers + 1)[1:-1]
        cuts = np.searchsorted(matrix.indptr, targets)
        inner = sorted({int(c) for c in cuts if 0 < c < matrix.shape[0]})
        self.bounds = [0, *inner, matrix.shape[0]]
        self.blocks = [matrix[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True)]
        self.shape = matrix.shape
        self.pool = ThreadPoolExecutor(len(self.blocks)) if len(self.blocks) > 1 else None

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        if self.pool is None:
            return self.blocks[0] @ dense
        out = np.empty((self.shape[0], dense.shape[1]), dtype=np.result_type(dense, np.float64))

        def product(i: int) -> None:
            out[self.bounds[i]:self.bounds[i + 1]] = self.blocks[i] @ dense

        list(self.pool.map(product, range(len(self.blocks))))
        return out

    def __enter__(self) -> _RowBlocks:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _lu_basis(block: np.ndarray) -> np.ndarray:
    return sl.lu(block, permute_l=True, check_finite=False)[0]


def fix_signs(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flip each (u_i, v_i) pair so the largest-|value| entry of u_i is positive."""
    u, vt = np.array(u), np.array(vt)
    if u.size == 0:
        return u, vt
    pivots = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[pivots, np.arange(u.shape[1])])
    signs[signs == 0] = 1
    return u * signs, vt * signs[:, None]


def zero_rows(matrix: sp.spmatrix) -> np.ndarray:
    """Boolean mask of the rows with no stored nonzero value (words without contexts)."""
    csr = sp.csr_matrix(matrix)
    csr.eliminate_zeros()
    return np.diff(csr.indptr) == 0


def embed(u: np.ndarray, s: np.ndarray, eig: float = 0.5,
          zero: np.ndarray | None = None) -> np.ndarray:
    """Word vectors U * S**eig as float32 (rows flagged in ``zero`` set exactly to 0)."""
    if eig < 0:
        raise UsageError(f"eig (the exponent p of Sigma^p) must be >= 0, got {eig}")
    out = (u * (s ** eig if eig else np.ones_like(s))[None, :]).astype(np.float32)
    if zero is not None:
        out[zero] = 0.0
    return out
