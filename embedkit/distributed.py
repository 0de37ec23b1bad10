"""PPMI-SVD past one machine: the counting and SVD stages as Dask tasks, same results.

The twin of :func:`embedkit.build.build_ppmi_svd` on a Dask cluster (``dask[distributed]``,
the optional extra ``embedkit[distributed]``). The stages are the single-machine ones,
run per shard:

1. **Shards** (:func:`~embedkit.shards.plan_shards`): the corpus is cut into shards of
   about ``shard_bytes`` on disk (small files grouped, big line files cut at line breaks,
   archives cut into groups of members), each holding exactly the single-machine
   documents; :mod:`embedkit.shards` plans them and holds the functions that read,
   tokenise and count one shard on a worker.
2. **Vocabulary, two passes**: each shard is tokenised once (the ids stay in worker memory,
   4 bytes a token, spilled to disk by Dask if need be); per-shard word counts are summed
   by a tree reduction and the global :class:`~embedkit.vocab.Vocabulary` is built with
   the same ``min_count``/``max_vocab``/order. It is exact, and needs every distinct word
   counted; a streaming top-K sketch (space-saving / Misra-Gries per shard) would bound
   that memory but make the words near the cut-off approximate, so the vocabulary, and
   hence the counts, could differ from the single-machine build.
3. **Counts**: each shard maps its words to vocabulary ids and counts with the same
   :func:`~embedkit.cooccur.count_chunk` (windows never cross a document); the sparse
   partial matrices are summed by a tree reduction (``split_every`` at a time).
   Counts are identical to the single machine's: bit for bit with the default uniform
   weights (and any weights exact in binary); harmonic 1/d or dynamic (K-d+1)/K weights
   are summed in another order, equal to rounding.
   Subsampling draws one uniform number per token from a counter-based hash of (seed,
   global token position), so it does not depend on the sharding, but it is not the
   single-machine builder's stream (seeded per chunk): compare builds without it.
4. **SVD** (:func:`choose_svd`): when the PPMI matrix and the SVD's dense blocks fit in
   ``svd_memory`` the counts are gathered here and the single-machine
   :func:`~embedkit.svd.truncated_svd` runs (identical vectors); otherwise the steps of
   its randomized SVD run with their sparse products over a Dask array of row bands of
   the PPMI matrix (:class:`ClusterMatrix`): same seed, same sketch, so the same vectors
   up to rounding. (``dask.array.linalg.svd_compressed`` draws its own sketch: on the Lee
   corpus its trailing singular values differed by 0.7% from the single-machine ones, so
   it is not used.) The choice is logged and can be forced (``svd=``).

A worker that dies loses its tasks and results; Dask re-runs them from their inputs
(every task here is a pure function of its shard), so the result is unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import signal
import socket
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp

from embedkit import progress
from embedkit.build import (
    DEFAULT_PRESET,
    _check_dim,
    check_weighted,
    corpus_files,
    corpus_params,
    open_corpus,
    parse_memory,
    resolve_preset,
)
from embedkit.cooccur import CountConfig, merge
from embedkit.corpus import Corpus, warn_unused_tag
from embedkit.errors import EmbedkitError, InputFormatError, UsageError
from embedkit.pmi import PMIConfig, weight
from embedkit.shards import (
    DEFAULT_SHARD_BYTES,
    Shard,
    add_word_counts,
    count_members,
    count_shard,
    plan_shards,
    shard_summary,
    shard_word_counts,
    tokenize_shard,
)
from embedkit.sources import is_archive
from embedkit.svd import SVDConfig, embed, fix_signs, truncated_svd, zero_rows
from embedkit.tokens import TokenizerConfig
from embedkit.units import plural
from embedkit.vectors import Vectors
from embedkit.vocab import Vocabulary

log = logging.getLogger("embedkit.distributed")

INSTALL_HINT = "pip install -c constraints.txt -e '.[distributed]' in the embedkit checkout"
SVD_CHOICES = ("auto", "local", "cluster")
_CLUSTER = re.compile(r"local:(\d+)")


def require_dask() -> Any:
    """The ``distributed`` package, or a one-line error saying how to install it."""
    try:
        import dask.array  # noqa: F401
        import distributed
    except ImportError:
        raise EmbedkitError(f"the distributed builder needs Dask: {INSTALL_HINT}") from None
    return distributed


# -- cluster plumbing -----------------------------------------------------------------------
def tree_reduce(client: Any, futures: list, combine: Callable, split_every: int = 8,
                name: str = "reduce") -> Any:
    """Combine ``futures`` ``split_every`` at a time, level by level, into one future."""
    if not futures:
        raise UsageError("nothing to reduce")
    level = 0
    while len(futures) > 1:
        futures = [client.submit(combine, futures[i:i + split_every],
                                 key=f"{name}-{level}-{i // split_every}")
                   for i in range(0, len(futures), split_every)]
        level += 1
    return futures[0]


def parse_cluster(spec: str) -> int:
    """The number of workers in ``local:N``."""
    match = _CLUSTER.fullmatch(str(spec).strip())
    if not match or int(match.group(1)) < 1:
        raise UsageError(f"--cluster must be local:N with N >= 1 worker processes (e.g. "
                         f"local:4), got {spec!r}")
    most = 4 * (os.cpu_count() or 1)
    if int(match.group(1)) > most:
        raise UsageError(f"--cluster {spec}: at most {most} local workers on "
                         f"{os.cpu_count()} cores; use --scheduler for a bigger cluster")
    return int(match.group(1))


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, cluster: str | None = None, client: Any = None,
                timeout: float = 10) -> Iterator[Any]:
    """A ``distributed.Client``: given, connected to ``scheduler``, or on a new LocalCluster."""
    if client is not None:
        with _quiet_dask():
            yield client
        return
    if (scheduler is None) == (cluster is None):
        given = "both were given" if scheduler is not None else "neither was given"
        raise UsageError(f"give either --scheduler ADDRESS or --cluster local:N ({given})")
    n_workers = parse_cluster(cluster) if cluster is not None else 0
    distributed = require_dask()
    if scheduler is not None:
        _probe(scheduler, timeout)
        try:
            connected = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError, MemoryError) as exc:
            reason = ("its reply is not Dask's" if isinstance(exc, MemoryError) else
                      str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__)
            raise EmbedkitError(f"cannot reach the Dask scheduler at {scheduler!r} ({reason}); "
                                "check the address (e.g. tcp://host:8786) and that "
                                "`dask scheduler` runs there") from None
        with _quiet_dask(), connected:  # quiet while closing too: a lost scheduler logs then
            _need_workers(connected, scheduler, 3 * timeout)
            yield connected
        return
    log.info("starting a local Dask cluster of %d worker processes (1 thread each)", n_workers)
    try:  # Dask's own logs are silenced: every failure reaches the user as one Error line
        with _workers_ignore_sigint():
            local = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                             processes=True, dashboard_address=":0",
                                             silence_logs=logging.CRITICAL)
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise EmbedkitError(f"cannot start a local Dask cluster of {n_workers} workers "
                            f"({str(exc).splitlines()[0][:160]})") from None
    with _quiet_dask(), local, distributed.Client(local, set_as_default=False) as connected:
        yield connected


@contextlib.contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """Start local worker processes with SIGINT ignored (inherited through exec): Ctrl-C
    reaches the whole process group, and each worker would print a KeyboardInterrupt
    traceback; this process alone handles it and closes the cluster. A Ctrl-C while the
    workers start is ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be changed in the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _probe(address: str, timeout: float) -> None:
    """Fail at once on a malformed (usage), refused or unresolvable TCP address (Dask would
    retry until its timeout)."""
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("", "tcp", "tls", "ucx", "inproc", "ws", "wss"):
        raise UsageError(f"--scheduler {address!r}: unknown protocol {scheme}://; write the "
                         "address as tcp://HOST:PORT")
    if scheme not in ("", "tcp"):
        return  # tls://, ucx://, ...: left to Dask
    if not port.isdigit() or not host:
        raise UsageError(f"--scheduler {address!r}: write the address as tcp://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout):
            pass
    except OSError as exc:
        raise EmbedkitError(f"cannot reach the Dask scheduler at {address!r} "
                            f"({str(exc) or type(exc).__name__}); check the address and that "
                            "`dask scheduler` runs there") from None


def _need_workers(client: Any, address: str, timeout: float) -> None:
    """A scheduler without workers would leave the build waiting forever."""
    if client.scheduler_info().get("workers"):
        return
    log.info("waiting up to %.0f s for a Dask worker to join %s", timeout, address)
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        raise EmbedkitError(f"the Dask scheduler at {address!r} has no workers (waited "
                            f"{timeout:.0f} s); start some with `dask worker {address}`") from None


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own error logs and 'large graph' warnings would bury the one Error line; they
    show with -v."""
    loggers = _dask_loggers()
    levels = [logger.level for logger in loggers]
    if not log.isEnabledFor(logging.DEBUG):
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph")
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def _dask_loggers() -> list[logging.Logger]:
    """The ``distributed`` logger and its children with a level of their own (Dask's
    config sets ``distributed.client``'s, which a parent's level does not override)."""
    named = [name for name, logger in logging.root.manager.loggerDict.items()
             if name.startswith("distributed.") and isinstance(logger, logging.Logger)
             and logger.level != logging.NOTSET]
    return [logging.getLogger(name) for name in ["distributed", *sorted(named)]]


@contextlib.contextmanager
def _cluster_errors() -> Iterator[None]:
    """Workers that keep dying, or a lost scheduler, as one-line errors."""
    distributed = require_dask()
    try:
        yield
    except distributed.KilledWorker as exc:
        raise EmbedkitError(f"Dask workers died repeatedly running {exc.args[0]!r}; check "
                            "their memory limit and logs (lower --memory)") from None
    except (distributed.client.FutureCancelledError, distributed.comm.CommClosedError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise EmbedkitError(f"lost the Dask cluster during the build ({reason}); check that "
                            "the scheduler and workers still run, then rerun") from None


def _wait(client: Any, futures: list, desc: str) -> None:
    """Wait for ``futures`` with a progress bar; a worker that died too often is an error."""
    distributed = require_dask()
    with progress.task(desc, len(futures)) as bar:
        for _ in distributed.as_completed(futures, loop=client.loop):
            bar.advance()


# -- the distributed stages -----------------------------------------------------------------
@dataclass
class TokenizedShards:
    """Tokenised shards held on the cluster, in order.

    ``tokens`` are futures of :class:`~embedkit.shards.ShardTokens`.
    """

    shards: list[Shard]
    tokens: list[Any]
    summaries: list[dict[str, Any]]
    run: str

    @property
    def total_tokens(self) -> int:
        return sum(s["tokens"] for s in self.summaries)

    def starts(self, key: str) -> np.ndarray:
        """Per shard, the corpus position of its first document or token (``key``)."""
        sizes = [s[key] for s in self.summaries]
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def tokenize_distributed(client: Any, corpus: Corpus, tokenizer: TokenizerConfig,
                         shard_bytes: int = DEFAULT_SHARD_BYTES) -> TokenizedShards:
    """Plan shards, tokenise each on the cluster; the ids stay there, summaries come back."""
    run = uuid.uuid4().hex[:10]
    archives = [f._replace(path=os.path.abspath(f.path)) for f in corpus.files
                if is_archive(f.path)]
    listed = client.gather(client.map(count_members, archives, glob=corpus.config.glob,
                                      exclude=corpus.config.exclude))
    members = {f.path: n for f, n in zip(archives, listed, strict=True)}
    shards = plan_shards(corpus, shard_bytes, members)
    workers = len(client.scheduler_info().get("workers", {}))
    log.info("%s (about %.1f MiB each) on %s", plural(len(shards), "shard"),
             sum(s.size for s in shards) / max(len(shards), 1) / 2**20,
             plural(workers, "worker"))
    tokens = [client.submit(tokenize_shard, s, corpus.config, tokenizer,
                            key=f"embedkit-tokenize-{run}-{s.number}") for s in shards]
    summaries = [client.submit(shard_summary, t, key=f"embedkit-summary-{run}-{i}")
                 for i, t in enumerate(tokens)]
    _wait(client, tokens, "reading and tokenising (shards)")
    done = TokenizedShards(shards, tokens, client.gather(summaries), run)
    for summary in done.summaries:
        for name, reason in summary["skipped"]:
            log.warning("skipping %s: %s", name, reason)
    warn_unused_tag(corpus.config.document_tag,  # the workers' own warnings are not shown
                    {f for s in done.summaries for f in s["stats"].get("formats", {})})
    if done.total_tokens == 0:  # worded as the single-machine Corpus.check_not_empty
        skipped = [f"{n}: {r}" for s in done.summaries for n, r in s["skipped"]][:3]
        where = ", ".join(corpus.paths[:3]) + (" ..." if len(corpus.paths) > 3 else "")
        raise InputFormatError(f"no documents with words found in {where}"
                               + (f" (skipped {'; '.join(skipped)})" if skipped else "")
                               + "; check the paths, --glob and --format")
    return done


def vocabulary_distributed(client: Any, shards: TokenizedShards, min_count: int = 5,
                           max_vocab: int | None = None, split_every: int = 8
                           ) -> tuple[Any, Vocabulary, int]:
    """The global vocabulary from per-shard word counts summed by a tree reduction.

    Returns the vocabulary as a future (kept on the cluster for the counting tasks), its
    local copy, and the number of distinct words.
    """
    words = [client.submit(shard_word_counts, t, key=f"embedkit-words-{shards.run}-{i}")
             for i, t in enumerate(shards.tokens)]
    total = tree_reduce(client, words, add_word_counts, split_every,
                        f"embedkit-wordsum-{shards.run}")
    vocab_f = client.submit(Vocabulary.from_counts, total, min_count, max_vocab,
                            key=f"embedkit-vocab-{shards.run}")
    distinct = client.submit(len, total, key=f"embedkit-distinct-{shards.run}")
    return vocab_f, vocab_f.result(), int(distinct.result())


def count_distributed(client: Any, shards: TokenizedShards, vocab_f: Any, vocab_size: int,
                      config: CountConfig, split_every: int = 8) -> Any:
    """Per-shard partial count matrices summed by a tree reduction: a future of the CSR.

    The matrix is the single-machine :func:`~embedkit.cooccur.count_cooccurrences` result
    (vocab x vocab, or vocab x documents for ``context="document"``).
    """
    doc_starts, token_starts = shards.starts("documents"), shards.starts("tokens")
    parts = [client.submit(count_shard, t, vocab_f, config, int(d), int(p),
                           key=f"embedkit-count-{shards.run}-{i}")
             for i, (t, d, p) in enumerate(zip(shards.tokens, doc_starts, token_starts,
                                                strict=True))]
    total = tree_reduce(client, parts, merge, split_every, f"embedkit-merge-{shards.run}")
    _wait(client, parts, "counting co-occurrences (shards)")
    if config.context == "document":
        n_docs = sum(s["documents"] for s in shards.summaries)
        total = client.submit(_pad_columns, total, n_docs, key=f"embedkit-pad-{shards.run}")
    return total


# -- SVD stage ------------------------------------------------------------------------------
def choose_svd(shape: tuple[int, int], nnz: int, dim: int, oversample: int, budget: int,
               choice: str = "auto") -> tuple[str, int]:
    """``("local" | "cluster", estimated bytes)`` for the SVD of a PPMI matrix.

    The estimate is an upper bound: the PPMI matrix and its transpose in CSR (at most
    ``nnz`` entries of 12 bytes), plus three dense (rows + columns) x (dim + oversample)
    float64 blocks of the randomized SVD. "local" gathers the matrix to this machine when
    the estimate fits ``budget`` bytes; ``choice`` forces a branch.
    """
    if choice not in SVD_CHOICES:
        raise UsageError(f"unknown SVD placement {choice!r}; "
                         f"choose one of {', '.join(SVD_CHOICES)}")
    m, n = shape
    estimate = 2 * (nnz * 12 + (m + 1) * 8) + 3 * (m + n) * (dim + oversample) * 8
    if choice != "auto":
        return choice, estimate
    return ("local" if estimate <= budget else "cluster"), estimate


class ClusterMatrix:
    """A sparse matrix held on the cluster as row bands (a Dask array of CSR blocks).

    It offers ``shape``, ``.T`` and ``@`` with a dense block, the products a randomized SVD
    needs, computed on the cluster; only dense (rows x (dim + oversample)) blocks come
    here. Row bands of ``A @ X`` are computed exactly as on one machine; ``A.T @ Y``
    sums per-band products in another order (equal to rounding).
    """

    def __init__(self, client: Any, bands: Any, edges: np.ndarray, transposed: bool = False):
        self.client, self.bands, self.edges, self.transposed = client, bands, edges, transposed

    @property
    def shape(self) -> tuple[int, int]:
        m, n = self.bands.shape
        return (n, m) if self.transposed else (m, n)

    @property
    def T(self) -> ClusterMatrix:  # noqa: N802 - the numpy/scipy name
        return ClusterMatrix(self.client, self.bands, self.edges, not self.transposed)

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        import dask.array as da

        if not self.transposed:
            product = self.bands.dot(dense)
        else:
            chunks = (tuple(np.diff(self.edges).tolist()), dense.shape[1])
            product = self.bands.T.dot(da.from_array(dense, chunks=chunks))
        return np.asarray(self.client.compute(product, sync=True))

    @classmethod
    def from_future(cls, client: Any, matrix_f: Any, shape: tuple[int, int], nnz: int,
                    min_rows: int = 1) -> ClusterMatrix:
        """Cut a CSR matrix future into row bands (about 64 MiB, at least 2 per worker)."""
        import dask
        import dask.array as da

        m, n = shape
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        wanted = max(2 * workers, math.ceil(nnz * 12 / (64 << 20)))
        edges = np.linspace(0, m, max(1, min(m // max(min_rows, 1), wanted)) + 1).astype(int)
        futures = [client.submit(_row_band, matrix_f, int(a), int(b)) for a, b in pairwise(edges)]
        blocks = [da.from_delayed(dask.delayed(f), shape=(int(b - a), n), dtype=np.float64,
                                  meta=sp.csr_matrix((0, 0)))
                  for f, (a, b) in zip(futures, pairwise(edges), strict=True)]
        return cls(client, da.concatenate(blocks, axis=0), edges)


def svd_on_cluster(client: Any, weighted_f: Any, shape: tuple[int, int], nnz: int,
                   config: SVDConfig) -> tuple[np.ndarray, np.ndarray]:
    """U and S by the single-machine randomized SVD's steps, sparse products on the cluster.

    The steps of :func:`embedkit.svd.randomized_svd` (Halko et al. 2011): the same seeded
    Gaussian sketch, power passes renormalised by LU, an economic QR, the SVD of the small
    projected matrix; then sorted and sign-fixed as :func:`embedkit.svd.truncated_svd`.
    """
    a = ClusterMatrix.from_future(client, weighted_f, shape, nnz, config.dim + config.oversample)
    a_t = a.T
    m, n = shape
    width = min(config.dim + config.oversample, m, n)
    q = a @ np.random.default_rng(config.seed).standard_normal((n, width))
    for _ in range(config.power_iters):
        q = a @ _lu_basis(a_t @ _lu_basis(q))
    q = sl.qr(q, mode="economic", check_finite=False)[0]
    u_small, s, vt = np.linalg.svd((a_t @ q).T, full_matrices=False)
    u, s, vt = (q @ u_small)[:, :config.dim], s[:config.dim], vt[:config.dim]
    order = np.argsort(-s, kind="stable")
    u, _ = fix_signs(u[:, order], vt[order])
    return u, s[order]


def _lu_basis(block: np.ndarray) -> np.ndarray:
    return sl.lu(block, permute_l=True, check_finite=False)[0]


def factorise(client: Any, counts_f: Any, pmi_config: PMIConfig, svd_config: SVDConfig,
              budget: int, choice: str = "auto", by_document: bool = False
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Weight the counts and factorise them, here or on the cluster (see :func:`choose_svd`).

    ``by_document``: the columns are documents (``context="document"``), named in the
    error when too few of them limit ``dim``. Returns U, S, the mask of words without
    contexts, and statistics.
    """
    what = "documents (--context document)" if by_document else "distinct words"
    shape, nnz = client.submit(_shape_nnz, counts_f).result()
    branch, estimate = choose_svd(shape, nnz, svd_config.dim, svd_config.oversample, budget,
                                  choice)
    where = ("gathering the matrix to this machine" if branch == "local" else
             "randomized SVD with its sparse products on the cluster (Dask array)")
    log.info("SVD stage: %s (PPMI matrix %d x %d, <= %d nonzeros, estimated %.1f MiB %s "
             "the %.1f MiB budget)", where, *shape, nnz, estimate / 2**20,
             "within" if estimate <= budget else "over", budget / 2**20)
    stats = {"svd_stage": branch, "svd_estimate_bytes": estimate, "nonzero_counts": nnz,
             "matrix_shape": list(shape)}
    if branch == "local":
        weighted = weight(counts_f.result(), pmi_config)
        _check_dim(svd_config.dim, min(weighted.shape), None, what=what)
        with progress.task(f"SVD ({svd_config.algorithm}, {svd_config.dim} dims)", 1):
            u, s, _ = truncated_svd(weighted, svd_config.dim, svd_config.algorithm,
                                    svd_config.seed, svd_config.oversample,
                                    svd_config.power_iters)
        empty, stats["nonzero_weighted"] = zero_rows(weighted), int(weighted.nnz)
        return u, s, empty, stats
    if svd_config.algorithm != "randomized":
        log.warning("the cluster SVD is randomized; --algorithm %s applies "
                    "only when the matrix is gathered", svd_config.algorithm)
    weighted_f = client.submit(weight, counts_f, pmi_config)
    _check_dim(svd_config.dim, min(shape), None, what=what)
    with progress.task(f"SVD (randomized, products on the cluster, {svd_config.dim} dims)", 1):
        u, s = svd_on_cluster(client, weighted_f, shape, nnz, svd_config)
    empty = client.submit(zero_rows, weighted_f).result()
    stats["nonzero_weighted"] = client.submit(_nnz, weighted_f).result()
    return u, s, empty, stats


def _nnz(matrix: sp.spmatrix) -> int:
    return int(matrix.nnz)


def _pad_columns(matrix: sp.csr_matrix, cols: int) -> sp.csr_matrix:
    return merge([matrix, sp.csr_matrix((matrix.shape[0], cols), dtype=matrix.dtype)])


def _row_band(matrix: sp.csr_matrix, start: int, end: int) -> sp.csr_matrix:
    return matrix[start:end]


def _shape_nnz(matrix: sp.spmatrix) -> tuple[tuple[int, int], int]:
    return tuple(int(x) for x in matrix.shape), int(matrix.nnz)


# -- the whole build ------------------------------------------------------------------------
def build_ppmi_svd_distributed(
    corpus: Any,
    *,
    scheduler: str | None = None,
    cluster: str | None = None,
    client: Any = None,
    tokenizer: TokenizerConfig | None = None,
    min_count: int = 5,
    max_vocab: int | None = None,
    window: int | None = None,
    context: str = "window",
    window_weighting: str = "uniform",
    subsample: float = 0.0,
    weighting: str | None = None,
    cds: float | None = None,
    shift: float | None = None,
    dim: int = 300,
    eig: float | None = None,
    algorithm: str = "randomized",
    seed: int = 0,
    memory: str | int = "2G",
    preset: str | None = None,
    shard_bytes: str | int | None = None,
    svd: str = "auto",
    svd_memory: str | int | None = None,
    split_every: int = 8,
    timeout: float = 10.0,
) -> Vectors:
    """PPMI-SVD vectors with the counting (and maybe the SVD) stage on a Dask cluster.

    Parameters are those of :func:`embedkit.build.build_ppmi_svd`, plus:

    scheduler : address of a running Dask scheduler (``tcp://host:8786``); or
    cluster : ``"local:N"``, a LocalCluster of N worker processes (1 thread each); or
    client : an existing ``distributed.Client`` (left open).
    corpus : paths or a :class:`~embedkit.corpus.Corpus`; every worker must read the files
        at the same paths (a shared filesystem), and this machine too (it plans shards).
    shard_bytes : bytes on disk per shard (``"32M"`` or a number; files grouped, big line
        files cut); default (None): the
        corpus split in two shards per worker, at most 32 MiB each (a small corpus in one
        shard would keep every worker but one idle).
    svd : "auto" (by size, logged), "local" (gather) or "cluster" (the randomized SVD's
        steps over row bands of the PPMI matrix on the cluster).
    svd_memory : the budget of the "local" SVD (default: ``memory``).
    split_every : fan-in of the tree reductions.
    timeout : seconds to wait for the scheduler.

    ``memory`` is the counting budget of each task (one task per worker thread).

    Returns
    -------
    :class:`Vectors`, as the single-machine builder's: same vocabulary, identical counts
    and PPMI; identical vectors when the SVD runs here, equal within SVD tolerance otherwise.
    """
    values = resolve_preset(preset, weighting=weighting, cds=cds, eig=eig, window=window)
    tokenizer = tokenizer or TokenizerConfig()
    count_cfg = CountConfig(window=values["window"], context=context, weighting=window_weighting,
                            subsample=subsample, memory=parse_memory(memory), seed=seed,
                            workers=1)
    pmi_cfg = PMIConfig(weighting=values["weighting"], cds=values["cds"], shift=shift)
    svd_cfg = SVDConfig(dim=dim, eig=values["eig"], algorithm=algorithm, seed=seed)
    budget = parse_memory(memory if svd_memory is None else svd_memory)
    choose_svd((2, 2), 0, 1, 0, budget, svd)  # validates the choice before any work
    if split_every < 2:
        raise UsageError(f"split_every must be >= 2, got {split_every}")
    if shard_bytes is not None:  # "32M" or a number of bytes; None: automatic
        shard_bytes = parse_memory(shard_bytes)
        if shard_bytes < 1:
            raise UsageError(f"shard_bytes must be >= 1 byte (None: automatic), got {shard_bytes}")
    corpus = _file_corpus(corpus)
    timings: dict[str, float] = {}
    with dask_client(scheduler, cluster, client, timeout) as connected, _cluster_errors():
        clock = time.perf_counter()
        shard_bytes = shard_bytes or _auto_shard_bytes(
            corpus, len(connected.scheduler_info().get("workers", {})))
        shards = tokenize_distributed(connected, corpus, tokenizer, shard_bytes)
        clock = _lap(timings, "read_tokenize_s", clock)
        vocab_f, vocab, distinct = vocabulary_distributed(connected, shards, min_count,
                                                          max_vocab, split_every)
        clock = _lap(timings, "vocabulary_s", clock)
        _check_dim(dim, len(vocab), min_count, max_vocab)
        counts_f = count_distributed(connected, shards, vocab_f, len(vocab), count_cfg,
                                     split_every)
        clock = _lap(timings, "count_s", clock)
        u, s, empty, svd_stats = factorise(connected, counts_f, pmi_cfg, svd_cfg, budget, svd,
                                           count_cfg.context == "document")
        check_weighted(int((~empty).sum()), pmi_cfg)
        _lap(timings, "weight_svd_s", clock)
        workers = len(connected.scheduler_info().get("workers", {}))
    if empty.any():
        log.info("%d words have no contexts left after weighting: their vectors are zero",
                 int(empty.sum()))
    meta = {"source": "ppmi-svd", "builder": "embedkit.distributed.build_ppmi_svd_distributed",
            "_arrays": {"singular_values": s.astype(np.float64)}}
    vectors = Vectors(vocab.words, embed(u, s, svd_cfg.eig, zero=empty), vocab.counts, meta)
    vectors.metadata.update(
        params={"tokenizer": tokenizer.to_dict(), "min_count": min_count,
                "max_vocab": max_vocab, "preset": preset or DEFAULT_PRESET,
                "corpus": corpus_params(corpus),
                "count": count_cfg.to_dict(), "pmi": pmi_cfg.to_dict(),
                "svd": _svd_params(svd_cfg, svd_stats["svd_stage"]),
                "distributed": {"scheduler": scheduler, "cluster": cluster,
                                "shard_bytes": shard_bytes, "svd": svd,
                                "split_every": split_every}},
        stats={"tokens": shards.total_tokens,
               "documents": sum(x["documents"] for x in shards.summaries),
               "distinct_words": distinct, "vocabulary": len(vocab), "shards": len(shards.shards),
               "workers": workers, **_summed_stats(shards), **svd_stats,
               "words_without_contexts": int(empty.sum())},
        files=corpus_files(corpus),
        timings={k: round(v, 3) for k, v in timings.items()})
    return vectors


def _svd_params(svd_cfg: SVDConfig, stage: str) -> dict[str, Any]:
    """The SVD settings as run: the cluster stage is randomized whatever was asked."""
    params = svd_cfg.to_dict()
    if stage != "local":
        params["algorithm"] = "randomized"
    return params


def _auto_shard_bytes(corpus: Corpus, workers: int) -> int:
    """Two shards per worker, between 1 MiB and :data:`DEFAULT_SHARD_BYTES` each."""
    total = sum(f.size for f in corpus.files)
    return int(min(DEFAULT_SHARD_BYTES, max(1 << 20, total // max(2 * workers, 1))))


def _file_corpus(corpus: Any) -> Corpus:
    opened = open_corpus(corpus)
    if not isinstance(opened, Corpus):
        raise UsageError("the distributed builder reads files on the workers: pass corpus "
                         "paths or an embedkit.corpus.Corpus, not token lists")
    return opened


def _summed_stats(shards: TokenizedShards) -> dict[str, Any]:
    """The corpus readers' statistics over all shards (files counted once)."""
    total: Counter = Counter()
    for summary in shards.summaries:
        total.update({k: v for k, v in summary["stats"].items()
                      if isinstance(v, (int, float)) and not isinstance(v, bool)
                      and k not in ("documents", "tokens", "files")})
    skipped = sorted({f"{n}: {r}" for s in shards.summaries for n, r in s["skipped"]})
    paths = {f.path for shard in shards.shards for f in shard.files}
    total["files"] = len(paths - {line.split(": ", 1)[0] for line in skipped})
    return {**total, **({"skipped_files": skipped} if skipped else {})}


def _lap(timings: dict[str, float], name: str, start: float) -> float:
    now = time.perf_counter()
    timings[name] = now - start
    return now
