"""Shards: the units of work of :mod:`embedkit.distributed`, planned here, run on workers.

A shard is a part of a corpus read by one task (:func:`plan_shards`, in corpus order): small
files are grouped up to ``shard_bytes``; a plain (uncompressed) file read with
``format="lines"`` that is larger is cut into byte ranges aligned to line breaks; a tar/zip
archive is cut into groups of consecutive members (a worker streams a ``.tar.gz`` from its
start to reach its group: k groups cost k/2 decompressions of the archive); a compressed file
is one shard. Documents are cut by the same :class:`~embedkit.corpus.Corpus` code as on one
machine (:class:`ShardCorpus`), so each shard holds exactly the single-machine documents.
Other formats (``text``, ``paragraphs``, ...) are never cut inside a file: their document
boundaries depend on the whole file.

The functions that read, tokenise and count one shard (:func:`tokenize_shard`,
:func:`shard_word_counts`, :func:`count_shard`, ...) run on Dask workers, each a pure
function of its inputs, so Dask can re-run it when a worker dies. They need no Dask
themselves: this module does not import it, and the same steps can run in one process.
"""

from __future__ import annotations

import contextlib
import io
import logging
import lzma
import math
import os
import socket
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

from embedkit.build import TokenizedCorpus, _plain, read_tokens
from embedkit.cooccur import COUNT_DTYPE, CountConfig, count_chunk, iter_chunks, merge
from embedkit.corpus import Corpus, CorpusConfig, CorpusStats
from embedkit.errors import EmbedkitError, InputFormatError, NotFoundError, UsageError
from embedkit.sources import BLOCK, CorpusFile, Source, decompressed, is_archive, sources
from embedkit.tokens import TokenizerConfig
from embedkit.vocab import Vocabulary, discard_mask

DEFAULT_SHARD_BYTES = 32 << 20
_READ_ERRORS = (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, lzma.LZMAError,
                zlib.error, InputFormatError)


# -- shards ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shard:
    """One unit of work: whole files, one archive's members [lo, hi), or a byte range."""

    number: int
    files: tuple[CorpusFile, ...]
    members: tuple[int, int] | None = None
    byte_range: tuple[int, int] | None = None

    @property
    def size(self) -> int:
        if self.byte_range is not None:
            return self.byte_range[1] - self.byte_range[0]
        return sum(f.size for f in self.files)


def count_members(file: CorpusFile, glob: str | None, exclude: tuple[str, ...]) -> int:
    """The archive members of ``file`` a corpus reads (-1 if the archive is unreadable)."""
    try:
        return sum(1 for _ in sources(file, glob, exclude, [0]))
    except Exception:  # noqa: BLE001 - the worker skips it with the corpus's own warning
        return -1


def plan_shards(corpus: Corpus, shard_bytes: int = DEFAULT_SHARD_BYTES,
                members: dict[str, int] | None = None) -> list[Shard]:
    """Cut ``corpus`` into shards of about ``shard_bytes`` bytes on disk, in corpus order.

    ``members`` gives the number of wanted members of each archive (default: counted
    here, reading each archive once).
    """
    if shard_bytes < 1:
        raise UsageError(f"shard_bytes must be >= 1, got {shard_bytes}")
    config = corpus.config
    plan: list[tuple] = []
    group: list[CorpusFile] = []
    for file in corpus.files:
        file = file._replace(path=os.path.abspath(file.path))  # workers have another cwd
        if is_archive(file.path):
            n = (members or {}).get(file.path)
            n = count_members(file, config.glob, config.exclude) if n is None else n
            k = min(max(1, math.ceil(file.size / shard_bytes)), max(n, 1))
            edges = np.linspace(0, n, k + 1).astype(int)
            parts = [((file,), (int(a), int(b)), None) for a, b in pairwise(edges)]
            if n <= 0:  # unreadable or empty: one shard, skipped with the reader's warning
                parts = [((file,), None, None)]
        elif file.size > shard_bytes and _splittable(file.path, config):
            cuts = line_cuts(file.path, file.size, shard_bytes)
            parts = [((file,), None, (a, b)) for a, b in pairwise(cuts)]
        else:
            group.append(file)
            if sum(f.size for f in group) >= shard_bytes:
                plan.append((tuple(group), None, None))
                group = []
            continue
        if group:
            plan.append((tuple(group), None, None))
            group = []
        plan += parts
    if group:
        plan.append((tuple(group), None, None))
    return [Shard(i, *spec) for i, spec in enumerate(plan)]


def _splittable(path: str, config: CorpusConfig) -> bool:
    """Byte ranges keep documents intact only for one-document-per-line, ASCII-safe text."""
    if config.format != "lines" or "\n".encode(config.encoding) != b"\n":
        return False  # UTF-16/32: a 0x0A byte may sit inside a character
    try:
        with open(path, "rb") as stream:
            return decompressed(stream) is stream
    except OSError:
        return False


def line_cuts(path: str, size: int, shard_bytes: int) -> list[int]:
    """Byte offsets 0 < ... < size just after a line break, about ``shard_bytes`` apart."""
    cuts = [0]
    with open(path, "rb") as stream:
        target = shard_bytes
        while target < size:
            stream.seek(target - 1)
            cut = _next_line_start(stream)
            if cut is None or cut >= size:
                break
            cuts.append(cut)
            target = cut + shard_bytes
    cuts.append(size)
    return cuts


def _next_line_start(stream: io.BufferedReader) -> int | None:
    start = stream.tell()
    while block := stream.read(1 << 16):
        at = block.find(b"\n")
        if at >= 0:
            return start + at + 1
        start += len(block)
    return None


# -- reading one shard (runs on a worker) ---------------------------------------------------
class _ByteRange(io.RawIOBase):
    """Bytes [start, end) of a file as a raw stream."""

    def __init__(self, path: str, start: int, end: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._left)
        got = self._file.readinto(memoryview(buffer)[:n]) if n > 0 else 0
        self._left -= got or 0
        return got or 0

    def close(self) -> None:
        self._file.close()
        super().close()


class ShardCorpus(Corpus):
    """The documents of one :class:`Shard`: the corpus reader restricted to its part."""

    def __init__(self, shard: Shard, config: CorpusConfig) -> None:
        super().__init__([f.path for f in shard.files], config)
        self.shard = shard

    def _pieces(self) -> Iterator[tuple[str, str]]:
        if self.shard.members is None and self.shard.byte_range is None:
            yield from super()._pieces()
            return
        self.stats = CorpusStats()
        file = self.shard.files[0]
        kept = 0
        try:
            with self._sources(file) as found:
                for source in found:
                    for piece in self._source_pieces(source):
                        kept += 1
                        yield piece
            self.stats.files += 1
        except _READ_ERRORS as exc:  # as the single-machine reader does
            self._fault(file.path, str(exc).splitlines()[0][:200], kept)

    @contextlib.contextmanager
    def _sources(self, file: CorpusFile) -> Iterator[Iterator[Source]]:
        if self.shard.byte_range is not None:
            start, end = self.shard.byte_range
            with io.BufferedReader(_ByteRange(file.path, start, end), BLOCK) as stream:
                yield iter([Source(file.path, stream)])
            self.stats.input_bytes = end - start
            return
        counter = [0]
        found = sources(file, self.config.glob, self.config.exclude, counter)
        try:
            yield self._member_range(found, counter)
        finally:
            found.close()

    def _member_range(self, found: Iterator[Source], counter: list[int]) -> Iterator[Source]:
        """The shard's members [lo, hi) of an archive, counted in ``stats.members``; its
        ``input_bytes`` are the archive bytes read from the first of them to the end of the
        last, so the shards of one archive add up to about its size."""
        lo, hi = self.shard.members  # type: ignore[misc]
        first = 0 if lo == 0 else None
        for i, source in zip(range(hi), found, strict=False):
            if i < lo:
                continue
            first = counter[0] if first is None else first
            self.stats.members += 1
            yield source
        self.stats.input_bytes = counter[0] - (counter[0] if first is None else first)


@dataclass
class ShardTokens:
    """A tokenised shard: ids into ``words`` (first-seen order), documents by ``boundaries``."""

    number: int
    words: list[str]
    counts: np.ndarray
    ids: np.ndarray
    boundaries: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _quiet_worker_logs() -> None:
    """On a worker, the reader's warnings (skipped files, replaced bytes) come back in the
    shard's summary and are logged by the client; without this, Python's last-resort
    handler would print them on the worker's stderr too (a local cluster's is ours)."""
    logger = logging.getLogger("embedkit")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def tokenize_shard(shard: Shard, config: CorpusConfig, tokenizer: TokenizerConfig) -> ShardTokens:
    """Read and tokenise one shard (the single-machine :func:`~embedkit.build.read_tokens`)."""
    _quiet_worker_logs()
    try:
        corpus = ShardCorpus(shard, config)
    except NotFoundError as exc:
        raise NotFoundError(f"a Dask worker on {socket.gethostname()} cannot see a corpus file "
                            f"({exc}); every worker must read the corpus at the same path "
                            "(a shared filesystem)") from None
    try:
        read = read_tokens(corpus, tokenizer, workers=1)
    except EmbedkitError:  # no tokens in this shard: other shards may have some
        read = TokenizedCorpus([], np.zeros(0, np.int64), [], [], _plain(corpus.stats))
    lengths = np.fromiter((d.size for d in read.docs), np.int64, len(read.docs))
    ids = np.concatenate(read.docs) if read.docs else np.empty(0, np.int32)
    return ShardTokens(shard.number, read.words, read.counts, ids,
                       np.concatenate([[0], np.cumsum(lengths)]),
                       {**read.stats, "formats": dict(corpus.stats.formats)},
                       list(corpus.stats.skipped))


def shard_word_counts(tokens: ShardTokens) -> Counter:
    return Counter(dict(zip(tokens.words, tokens.counts.tolist(), strict=True)))


def add_word_counts(parts: Sequence[Counter]) -> Counter:
    total: Counter = Counter()
    for part in parts:
        total.update(part)
    return total


def shard_summary(tokens: ShardTokens) -> dict[str, Any]:
    return {"tokens": int(tokens.ids.size), "documents": int(tokens.boundaries.size - 1),
            "stats": tokens.stats, "skipped": tokens.skipped}


# -- counting one shard (runs on a worker) --------------------------------------------------
class CounterDraws:
    """Uniform [0, 1) draws by token position (splitmix64 of seed and position).

    Stands in for ``numpy.random.Generator`` in :func:`~embedkit.vocab.discard_mask`: the
    draw of a token depends only on the seed and its position in the corpus, not on how
    the corpus was sharded or chunked.
    """

    def __init__(self, seed: int, first_position: int) -> None:
        self.seed, self.position = int(seed), int(first_position)

    def random(self, n: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            z = np.arange(self.position, self.position + n, dtype=np.uint64)
            z = z * np.uint64(0x9E3779B97F4A7C15) + np.uint64(self.seed & (2**64 - 1))
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z ^= z >> np.uint64(31)
        self.position += n
        return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def count_shard(tokens: ShardTokens, vocab: Vocabulary, config: CountConfig,
                first_doc: int = 0, first_token: int = 0) -> sp.csr_matrix:
    """Co-occurrence counts of one shard with :func:`~embedkit.cooccur.count_chunk`.

    ``first_doc`` and ``first_token`` place the shard in the corpus: the column of its
    first document (``context="document"``) and the position of its first token
    (subsampling draws).
    """
    lookup = np.fromiter(map(vocab.word_to_id.get, tokens.words, repeat(-1)), np.int32,
                         len(tokens.words))
    ids = lookup[tokens.ids] if tokens.ids.size else tokens.ids
    if config.subsample > 0:
        keep = vocab.keep_probabilities(config.subsample)
        ids = np.where(discard_mask(ids, keep, CounterDraws(config.seed, first_token)), -1, ids)
    docs = np.split(ids.astype(np.int32), tokens.boundaries[1:-1]) if ids.size else []
    cols = first_doc if config.context == "document" else len(vocab)
    total = sp.csr_matrix((len(vocab), cols), dtype=COUNT_DTYPE)
    for chunk in iter_chunks(docs, config.chunk_tokens()):
        part = count_chunk(chunk.ids, chunk.boundaries, len(vocab), config,
                           first_doc + chunk.first_doc)
        total = merge([total, part])
    return total
