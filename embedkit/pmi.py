"""Weighting: sparse co-occurrence counts -> PMI, PPMI or shifted PPMI (pure, no I/O).

The arrow ``cooccur -> pmi`` of the data flow, with the formulas of DESIGN.md (the lecture
and Levy, Goldberg & Dagan 2015, TACL 3):

    PMI(w, c)   = log2( C(w, c) / (C(w) * P_a(c)) )          P_a(c) = C(c)^a / sum_c' C(c')^a
    PPMI(w, c)  = max(PMI(w, c), 0)
    SPPMI(w, c) = max(PMI(w, c) - log2 k, 0)

With a = 1 (no context-distribution smoothing), P_a(c) = C(c)/N and PMI = log2(N C(w,c) /
(C(w) C(c))), the lecture's formula. C(w) and C(c) are the row and column sums of the count
matrix, N its total. PMI is computed on the stored (nonzero) entries only: an unseen pair
stays 0 in the sparse result, never -inf.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from embedkit.errors import EmbedkitError, UsageError

WEIGHTINGS = ("count", "pmi", "ppmi", "sppmi")
ROUNDING = 1e-12
"""A PMI this close to 0 is 0: the rounding of the logarithms, not a measured association
(kept, it would become a positive PPMI weight and, alone, meaningless unit vectors)."""


@dataclass(frozen=True)
class PMIConfig:
    """How to weight counts.

    Parameters
    ----------
    weighting : "count" (raw counts) | "pmi" | "ppmi" | "sppmi".
    cds : context-distribution smoothing exponent a (0.75 as in Levy et al. 2015;
        1 = none, the lecture's PMI).
    shift : k, subtracted as log2 k before clipping; ``None`` = 1 (no shift) for pmi and
        ppmi, 5 for sppmi (the k of SGNS's 5 negative samples, Levy & Goldberg 2014).
    """

    weighting: str = "ppmi"
    cds: float = 0.75
    shift: float | None = None

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise UsageError(
                f"unknown weighting {self.weighting!r}; choose one of {', '.join(WEIGHTINGS)}"
            )
        if not 0 < self.cds <= 1:
            raise UsageError(f"cds (context smoothing exponent) must be in (0, 1], got {self.cds}")
        if self.shift is not None and not (math.isfinite(self.shift) and self.shift >= 1):
            raise UsageError(f"shift k must be a finite number >= 1 (log2 k is subtracted), "
                             f"got {self.shift}")

    @property
    def k(self) -> float:
        """The shift actually applied."""
        if self.shift is not None:
            return float(self.shift)
        return 5.0 if self.weighting == "sppmi" else 1.0

    def to_dict(self) -> dict:
        return asdict(self) | {"shift": self.k}


def context_probabilities(counts: sp.spmatrix, cds: float) -> np.ndarray:
    """P_a(c) = C(c)^a / sum C(c')^a for every column (0 where a column is empty)."""
    col = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    smoothed = col ** cds if cds != 1 else col
    total = smoothed.sum()
    return smoothed / total if total > 0 else smoothed


def weight(counts: sp.spmatrix, config: PMIConfig | None = None) -> sp.csr_matrix:
    """Weighted copy of a word x context count matrix.

    Parameters
    ----------
    counts : sparse (n_words, n_contexts), nonnegative.
    config : :class:`PMIConfig` (default: PPMI with cds 0.75).

    Returns
    -------
    csr_matrix float64 of the same shape; for ppmi/sppmi only positive entries are stored.
    """
    config = config or PMIConfig()
    counts = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    counts.sum_duplicates()
    counts.eliminate_zeros()
    if counts.nnz and counts.data.min() < 0:
        raise EmbedkitError("co-occurrence counts must be nonnegative")
    if config.weighting == "count":
        return counts
    if counts.nnz == 0:
        raise EmbedkitError("the count matrix is empty: no word has any context")
    row = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    p_context = context_probabilities(counts, config.cds)
    # log2(C(w,c) / (C(w) * P_a(c))), only on stored entries
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    out = counts
    out.data = np.log2(counts.data) - np.log2(row[rows]) - np.log2(p_context[counts.indices])
    if config.k != 1:
        out.data -= np.log2(config.k)
    out.data[np.abs(out.data) < ROUNDING] = 0.0  # exactly independent, up to rounding
    if config.weighting in ("ppmi", "sppmi"):
        np.maximum(out.data, 0.0, out=out.data)
        out.eliminate_zeros()
    return out
