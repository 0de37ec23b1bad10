"""Co-occurrence counting: word-id documents -> sparse word x context count matrix.

The arrow ``vocab -> cooccur`` of the data flow. Documents of word ids are concatenated into
chunks; for each offset d = 1..K the pairs of a chunk are two numpy slices ``(ids[:-d],
ids[d:])`` masked where they cross a document boundary or hit a removed token (-1); a
chunk's pairs become a partial CSR matrix (scipy sums the duplicates), and partial matrices
are summed whenever they outgrow their share of the memory budget, so all pairs of a corpus
are never held at once (nor those of one long document: its offsets are counted a group at
a time when a wide window gives it more pairs than a chunk's share). The budget bounds the
counting; the result itself (and, for the symmetric window, the transient of adding the
transpose: about twice the result) is data-determined, and a warning says when it exceeds
the budget. :func:`count_chunk` and :func:`merge` are pure, so a distributed engine can
count shards and reduce them.

Context types (``CountConfig.context``):

- ``window``: K words on each side of the focus word (the lecture's 2K-word context);
- ``left`` / ``right``: the single word just before / after it (bigram contexts);
- ``document``: the document itself (a term-document matrix, as in LSA).

Window weighting (``CountConfig.weighting``), for a context d words away:

- ``uniform``: 1;
- ``harmonic``: 1/d (GloVe, Pennington et al. 2014);
- ``dynamic``: (K - d + 1)/K, the *expectation* of word2vec's dynamic window (a window size
  drawn uniformly from 1..K per focus word), as hyperwords' ``dyn`` (Levy et al. 2015).
  It is deterministic: no window sizes are sampled.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from embedkit import progress
from embedkit.errors import EmbedkitError, UsageError
from embedkit.svd import check_seed
from embedkit.units import human_bytes
from embedkit.vocab import discard_mask

log = logging.getLogger("embedkit.cooccur")

CONTEXTS = ("window", "left", "right", "document")
WEIGHTINGS = ("uniform", "harmonic", "dynamic")
COUNT_DTYPE = np.float32
"""Counts are float32: a third less memory than float64; whole counts stay exact up to 2**24
(16.7 M) per pair, beyond that they are rounded to 7 significant digits (harmless for PMI)."""
_PAIR_BYTES = 4 + 4 + 4  # row id, column id, float32 weight
_WORK_FACTOR = 3  # pair arrays, their masks and scipy's COO -> CSR copies


@dataclass(frozen=True)
class CountConfig:
    """How to count co-occurrences.

    Parameters
    ----------
    window : K, context words on each side (``context="window"``); >= 1.
    context : "window" | "left" | "right" | "document".
    weighting : "uniform" | "harmonic" | "dynamic" (see the module docstring).
    subsample : word2vec subsampling threshold t (0 = off); removed tokens leave a gap.
    memory : bytes the counting stage may use (pair arrays plus partial matrices).
    seed : seeds the subsampling draws (one stream per chunk: the same seed, memory budget
        and workers give the same counts).
    workers : counting threads (numpy and scipy release the GIL in the heavy steps).
    """

    window: int = 2
    context: str = "window"
    weighting: str = "uniform"
    subsample: float = 0.0
    memory: int = 2 << 30
    seed: int = 0
    workers: int = 2

    def __post_init__(self) -> None:
        if self.context not in CONTEXTS:
            raise UsageError(
                f"unknown context {self.context!r}; choose one of {', '.join(CONTEXTS)}"
            )
        if self.weighting not in WEIGHTINGS:
            raise UsageError(
                f"unknown window weighting {self.weighting!r}; "
                f"choose one of {', '.join(WEIGHTINGS)}"
            )
        if self.window < 1:
            raise UsageError(f"window must be >= 1, got {self.window} (--window)")
        if not (math.isfinite(self.subsample) and 0 <= self.subsample < 1):
            raise UsageError(f"subsample threshold must be in [0, 1) (0 = off; word2vec "
                             f"uses 1e-5 to 1e-3; 1 or more discards nothing), got "
                             f"{self.subsample}")
        if self.memory < 1 << 20:
            raise UsageError(f"memory budget must be at least 1 MiB, got {self.memory} bytes")
        if self.workers < 1:
            raise UsageError(f"workers must be >= 1, got {self.workers} (--workers)")
        check_seed(self.seed)

    def to_dict(self) -> dict:
        return asdict(self)

    def offset_weights(self, longest: int | None = None) -> np.ndarray:
        """Weight of a context d = 1..K words away (index d - 1), or only d < ``longest``
        (no pairs are further apart in a chunk whose longest document has that length)."""
        k = 1 if self.context in ("left", "right") else self.window
        d = np.arange(1, (k if longest is None else min(k, max(longest - 1, 0))) + 1,
                      dtype=np.float64)
        if self.weighting == "harmonic":
            return 1.0 / d
        if self.weighting == "dynamic":
            return (k - d + 1) / k
        return np.ones(d.size)

    def chunk_tokens(self) -> int:
        """Tokens per chunk, so each worker's pair arrays use about 1/4 of the budget."""
        per_token = _PAIR_BYTES * _WORK_FACTOR * (1 if self.context == "document" else self.window)
        return max(10_000, int(self.memory * 0.25 / (per_token * self.workers)))

    def group_pairs(self) -> int:
        """Pairs held at once while counting one chunk: about twice a worker's share of the
        budget (at least a million). A chunk with more pairs (one long document, which
        chunks never split, under a wide window) is counted a group of offsets at a time."""
        share = self.memory * 0.25 / (_PAIR_BYTES * _WORK_FACTOR * self.workers)
        return max(1_000_000, 2 * int(share))


# -- pure per-chunk counting -------------------------------------------------------------
def doc_index(boundaries: np.ndarray) -> np.ndarray:
    """Per token, its document number within the chunk (``boundaries`` = start offsets + end)."""
    lengths = np.diff(np.asarray(boundaries, dtype=np.int64))
    return np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)


def _directed_pairs(ids: np.ndarray, doc: np.ndarray, config: CountConfig
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(focus, context, weight) arrays with the context d = 1..K words to the right, in
    groups of offsets of at most about ``config.group_pairs()`` pairs (a window as wide as a
    long document would otherwise hold all its n^2/2 pairs at once)."""
    longest = int(np.bincount(doc).max()) if doc.size else 0
    weights = config.offset_weights(longest)  # not K weights for a --window of 10^9
    limit = config.group_pairs()
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    held = 0
    for d in range(1, weights.size + 1):  # none beyond the longest document
        left, right = ids[:-d], ids[d:]
        mask = (doc[:-d] == doc[d:]) & (left >= 0) & (right >= 0)
        rows.append(left[mask])
        cols.append(right[mask])
        vals.append(np.full(rows[-1].size, weights[d - 1], dtype=COUNT_DTYPE))
        held += rows[-1].size
        if held >= limit:
            yield np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
            rows, cols, vals, held = [], [], [], 0
    if rows:
        yield np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _directed_counts(ids: np.ndarray, boundaries: np.ndarray, vocab_size: int,
                     config: CountConfig, first_doc: int = 0) -> sp.csr_matrix:
    """Counts of (focus, context-to-the-right) pairs; the symmetric window is A + A.T."""
    ids = np.asarray(ids, dtype=np.int32)
    doc = doc_index(boundaries)
    if doc.size != ids.size:
        raise UsageError(f"boundaries cover {doc.size} tokens but the chunk has {ids.size}")
    if config.context == "document":
        known = ids >= 0
        shape = (vocab_size, first_doc + len(boundaries) - 1)
        coo = sp.coo_matrix((np.ones(int(known.sum()), dtype=COUNT_DTYPE),
                             (ids[known], doc[known] + first_doc)), shape=shape)
        return coo.tocsr()
    shape = (vocab_size, vocab_size)
    parts = _Accumulator(int(config.memory * 0.25 / config.workers), warn=False)  # the
    # corpus-wide accumulator warns about the counts' size once
    for rows, cols, vals in _directed_pairs(ids, doc, config):
        parts.add(sp.coo_matrix((vals, (rows, cols)), shape=shape, dtype=COUNT_DTYPE).tocsr())
    if not parts.parts:
        return sp.csr_matrix(shape, dtype=COUNT_DTYPE)
    return parts.parts[0] if len(parts.parts) == 1 else parts.result()


def _finish(directed: sp.csr_matrix, config: CountConfig) -> sp.csr_matrix:
    """From directed (context to the right) counts to the configured context type."""
    if config.context == "window":
        out = (directed + directed.T.tocsr()).tocsr()
    elif config.context == "left":
        out = directed.T.tocsr()
    else:  # right, document
        out = directed
    out.sum_duplicates()
    return out


def count_chunk(ids: np.ndarray, boundaries: np.ndarray, vocab_size: int,
                config: CountConfig, first_doc: int = 0) -> sp.csr_matrix:
    """Weighted co-occurrence counts of one chunk of documents (pure).

    Parameters
    ----------
    ids : ndarray (n,) int32, the chunk's word ids, documents concatenated; -1 = a removed
        token (unknown or subsampled), which pairs with nothing but keeps its position.
    boundaries : ndarray (ndocs + 1,) int, each document's start offset, then ``n``.
    vocab_size : number of word ids (rows, and columns for word contexts).
    config : :class:`CountConfig` (subsampling is not applied here).
    first_doc : for ``context="document"``, the column of the chunk's first document.

    Returns
    -------
    csr_matrix (vocab_size, vocab_size) float32 [or (vocab_size, first_doc + ndocs)].
    Windows never cross a document boundary.
    """
    return _finish(_directed_counts(ids, boundaries, vocab_size, config, first_doc), config)


def merge(partials: Sequence[sp.spmatrix]) -> sp.csr_matrix:
    """Sum partial count matrices (columns padded to the widest, for document contexts)."""
    if not partials:
        raise UsageError("nothing to merge")
    cols = max(p.shape[1] for p in partials)
    total = None
    for part in partials:
        part = sp.csr_matrix(part)
        if part.shape[1] < cols:
            part = sp.csr_matrix((part.data, part.indices, part.indptr),
                                 shape=(part.shape[0], cols))
        total = part if total is None else total + part
    assert total is not None
    return total.tocsr()


def csr_bytes(matrix: sp.csr_matrix) -> int:
    return int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)


# -- streaming over a corpus -------------------------------------------------------------
@dataclass
class _Chunk:
    ids: np.ndarray
    boundaries: np.ndarray
    first_doc: int
    number: int


def iter_chunks(id_docs: Iterable[np.ndarray], chunk_tokens: int) -> Iterator[_Chunk]:
    """Group documents of ids into chunks of about ``chunk_tokens`` tokens."""
    buffer: list[np.ndarray] = []
    size = first = number = 0
    for doc in id_docs:
        buffer.append(np.asarray(doc, dtype=np.int32))
        size += buffer[-1].size
        if size >= chunk_tokens:
            yield _pack(buffer, first, number)
            first, number, buffer, size = first + len(buffer), number + 1, [], 0
    if buffer:
        yield _pack(buffer, first, number)


def _pack(docs: list[np.ndarray], first_doc: int, number: int) -> _Chunk:
    lengths = np.fromiter((d.size for d in docs), dtype=np.int64, count=len(docs))
    boundaries = np.concatenate([[0], np.cumsum(lengths)])
    ids = np.concatenate(docs) if docs else np.empty(0, np.int32)
    return _Chunk(ids, boundaries, first_doc, number)


class _Accumulator:
    """Partial matrices, summed whenever they pass their share of the memory budget."""

    def __init__(self, budget: int, warn: bool = True):
        self.budget, self.warn = budget, warn
        self.parts: list[sp.csr_matrix] = []
        self.peak_bytes = 0
        self.flushes = 0

    def add(self, part: sp.csr_matrix) -> None:
        self.parts.append(part)
        held = sum(csr_bytes(p) for p in self.parts)
        self.peak_bytes = max(self.peak_bytes, held)
        if held > self.budget and len(self.parts) > 1:
            self.parts = [merge(self.parts)]
            self.flushes += 1
            merged = csr_bytes(self.parts[0])
            if merged > self.budget and self.warn:
                log.warning("the counts alone take %s, over the %s share of the memory "
                            "budget for them; raise --memory or lower --max-vocab",
                            human_bytes(merged), human_bytes(self.budget))
                self.budget = 2 * merged  # avoid merging after every chunk

    def result(self) -> sp.csr_matrix:
        return merge(self.parts)


def count_cooccurrences(id_docs: Iterable[np.ndarray], vocab_size: int, config: CountConfig,
                        keep_prob: np.ndarray | None = None, stats: dict | None = None,
                        total_tokens: int | None = None) -> sp.csr_matrix:
    """Count co-occurrences over a stream of documents, within the memory budget.

    Parameters
    ----------
    id_docs : iterable of int32 arrays, one per document (-1 = removed token).
    vocab_size : number of word ids.
    config : :class:`CountConfig`.
    keep_prob : per word id, the probability of keeping an occurrence (from
        :meth:`embedkit.vocab.Vocabulary.keep_probabilities`); needed when
        ``config.subsample > 0``.
    stats : optional dict that receives chunk, flush and memory figures.
    total_tokens : for the progress bar.

    Returns
    -------
    csr_matrix (vocab_size, vocab_size) float32, word x context [(vocab_size, ndocs) for
    ``context="document"``], canonical (sorted indices, no duplicates).
    """
    if vocab_size < 1:
        raise EmbedkitError("the vocabulary is empty: nothing to count")
    if config.subsample > 0 and keep_prob is None:
        raise UsageError("subsampling needs keep_prob (Vocabulary.keep_probabilities)")
    # a quarter of the budget for pair arrays (chunk_tokens), a quarter for the partial
    # matrices held, and their merge needs about as much again
    acc = _Accumulator(int(config.memory * 0.25))
    tokens = docs = 0
    pending: list[Future] = []
    with ThreadPoolExecutor(config.workers) as pool, \
            progress.task("counting co-occurrences (tokens)", total_tokens) as bar:
        for chunk in iter_chunks(id_docs, config.chunk_tokens()):
            tokens += chunk.ids.size
            docs += chunk.boundaries.size - 1
            pending.append(pool.submit(_count_one, chunk, vocab_size, config, keep_prob))
            while len(pending) > config.workers:
                acc.add(pending.pop(0).result())
            bar.advance(chunk.ids.size)
        for future in pending:
            acc.add(future.result())
    if tokens == 0:
        raise EmbedkitError("the corpus holds no tokens of the vocabulary: nothing to count")
    directed = acc.result()
    if config.context == "document" and directed.shape[1] < docs:
        directed = merge([directed, sp.csr_matrix((vocab_size, docs))])
    if config.context == "window" and 4 * csr_bytes(directed) > config.memory:
        log.warning("symmetrising the counts needs about %s, over the --memory budget "
                    "of %s (the result alone takes half of that)",
                    human_bytes(4 * csr_bytes(directed)), human_bytes(config.memory))
    if stats is not None:
        stats.update(tokens=tokens, documents=docs, chunk_tokens=config.chunk_tokens(),
                     flushes=acc.flushes, partial_peak_bytes=acc.peak_bytes)
    return _finish(directed, config)


def _count_one(chunk: _Chunk, vocab_size: int, config: CountConfig,
               keep_prob: np.ndarray | None) -> sp.csr_matrix:
    ids = chunk.ids
    if config.subsample > 0 and keep_prob is not None:
        rng = np.random.default_rng([config.seed, chunk.number])
        ids = np.where(discard_mask(ids, keep_prob, rng), -1, ids).astype(np.int32)
    return _directed_counts(ids, chunk.boundaries, vocab_size, config, chunk.first_doc)
