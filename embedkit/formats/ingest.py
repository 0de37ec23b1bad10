"""From a reader's raw blocks to a set: decode words, drop duplicates, check values, write.

Shared by every format: words are decoded (invalid bytes replaced by U+FFFD and counted),
a repeated word keeps its first row (counted, warned about), a NaN or infinite value is an
error naming the line and word. Blocks go straight to a sink, either a
:class:`~embedkit.store.StoreWriter` (streaming, so the matrix is never held twice) or a
list of blocks for an in-memory set.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from embedkit import progress
from embedkit.formats.blocks import RawBlock, format_error
from embedkit.formats.source import SourceFile
from embedkit.units import plural

log = logging.getLogger("embedkit.formats")


@dataclass
class ImportStats:
    """What an import read and what it had to fix."""

    rows: int = 0
    duplicates_dropped: int = 0
    invalid_utf8_words: int = 0
    replaced_bytes: int = 0
    examples: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Reader(Protocol):
    """A format's reader (text, binary, fastText .bin): raw blocks plus what it knows.

    ``unit`` is ``"line"`` or ``"row"`` (for error messages); ``expected_rows`` is the
    header's count where there is one; ``counts`` and ``subwords`` are fastText's.
    """

    path: Any
    unit: str
    limit: int | None
    dim: int | None
    expected_rows: int | None
    counts: np.ndarray | None
    subwords: Any

    def blocks(self): ...


class Sink(Protocol):
    """Where rows go: a :class:`~embedkit.store.StoreWriter` or a :class:`MemorySink`."""

    def append(self, words: list[str], rows: np.ndarray) -> None: ...


class MemorySink:
    """Collects blocks for a set built in memory.

    With the row count known (a header), rows go into one preallocated matrix; otherwise
    blocks are kept and joined at the end.
    """

    def __init__(self, dim: int, expected_rows: int | None = None) -> None:
        self.words: list[str] = []
        self.dim = dim
        self._matrix = _preallocate(expected_rows, dim)
        self._blocks: list[np.ndarray] = []

    def append(self, words: list[str], rows: np.ndarray) -> None:
        start = len(self.words)
        self.words.extend(words)
        if self._matrix is not None:
            self._matrix[start:len(self.words)] = rows
        else:
            self._blocks.append(np.array(rows, dtype=np.float32))

    def matrix(self) -> np.ndarray:
        if self._matrix is not None:
            return self._matrix[:len(self.words)]
        if not self._blocks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(self._blocks) if len(self._blocks) > 1 else self._blocks[0]


def _preallocate(rows: int | None, dim: int) -> np.ndarray | None:
    """Room for the header's count of rows; ``None`` (grow block by block) when there is no
    header or it claims more than memory can hold (a lie the reader then reports)."""
    if not rows:
        return None
    try:
        return np.empty((rows, dim), np.float32)
    except MemoryError:
        return None


class Ingest:
    """Runs a reader into a sink, keeping :class:`ImportStats`."""

    def __init__(self, reader: Reader, source: SourceFile, encoding: str = "utf-8"):
        self.reader = reader
        self.source = source
        self.encoding = encoding
        self.stats = ImportStats()
        self._seen: set[str] = set()

    def run(self, open_sink) -> Sink:
        """Feed every block to the sink ``open_sink(dim, expected_rows)`` creates."""
        sink = None
        with progress.task(f"importing {self.source.path.name}", total=self.source.size) as bar:
            for block in self.reader.blocks():
                words = self._decode(block)
                self._check_nul(block, words)
                self._check_finite(block, words)
                keep = self._first_occurrences(words, block)
                if sink is None:
                    sink = open_sink(block.rows.shape[1], self._expected_rows())
                if keep is None:
                    sink.append(words, block.rows)
                else:
                    sink.append([words[i] for i in keep], block.rows[keep])
                bar.update(completed=self.source.raw_position)
        if sink is None:
            raise format_error(self.source.path, "line", None,
                               "no vectors in the file (nothing but a header or blank lines)")
        self.stats.rows = len(self._seen)
        self._warn()
        return sink

    def _expected_rows(self) -> int | None:
        """Rows to make room for: the header's count, capped by ``limit``."""
        expected, limit = self.reader.expected_rows, getattr(self.reader, "limit", None)
        return expected if limit is None or expected is None else min(expected, limit)

    def _decode(self, block: RawBlock) -> list[str]:
        if not block.words or isinstance(block.words[0], str):
            return block.words  # type: ignore[return-value]
        try:
            return [w.decode(self.encoding) for w in block.words]  # type: ignore[union-attr]
        except UnicodeDecodeError:
            pass
        words = []
        for raw, place in zip(block.words, block.places, strict=True):
            word, bad = decode_replace(raw, self.encoding)  # type: ignore[arg-type]
            if bad:
                self.stats.invalid_utf8_words += 1
                self.stats.replaced_bytes += bad
                self.stats.examples.setdefault("invalid_utf8", f"{self.reader.unit} {place}")
            words.append(word)
        return words

    def _check_nul(self, block: RawBlock, words: list[str]) -> None:
        """A NUL byte in a word: the store's strings cannot hold one (a corrupt file)."""
        if "\x00" not in "".join(words):
            return
        i = next(i for i, word in enumerate(words) if "\x00" in word)
        raise format_error(
            self.source.path, self.reader.unit, int(block.places[i]),
            f"the word {words[i]!r} contains a NUL byte, which a stored word cannot hold (a "
            "corrupt file?); fix or remove the row",
        )

    def _check_finite(self, block: RawBlock, words: list[str]) -> None:
        finite = np.isfinite(block.rows)
        if finite.all():
            return
        i = int(np.argmin(finite.all(axis=1)))
        column = int(np.argmin(finite[i])) + 1
        raise format_error(
            self.source.path, self.reader.unit, int(block.places[i]),
            f"value {column} of {words[i]!r} is {block.rows[i, column - 1]} "
            "(NaN, infinite, or beyond the float32 range); fix or remove the row",
        )

    def _first_occurrences(self, words: list[str], block: RawBlock) -> list[int] | None:
        """Row ids to keep, or ``None`` when the block repeats no word (the usual case)."""
        fresh = set(words)
        if len(fresh) == len(words) and self._seen.isdisjoint(fresh):
            self._seen |= fresh
            return None
        keep = []
        for i, word in enumerate(words):
            if word in self._seen:
                self.stats.duplicates_dropped += 1
                self.stats.examples.setdefault(
                    "duplicate", f"{word!r} at {self.reader.unit} {block.places[i]}")
            else:
                self._seen.add(word)
                keep.append(i)
        return keep

    def _warn(self) -> None:
        path, stats = self.source.path, self.stats
        spaced = getattr(self.reader, "spaced_words", 0)
        if spaced:
            log.warning("%s: %d words contain spaces (kept whole; export them with --spaces "
                        "skip or underscore)", path, spaced)
        if stats.duplicates_dropped:
            log.warning("%s: %d duplicate words dropped, the first row of each kept (first: %s)",
                        path, stats.duplicates_dropped, stats.examples["duplicate"])
        if stats.invalid_utf8_words:
            log.warning("%s: %s had invalid %s bytes (%s replaced by U+FFFD; first at %s); "
                        "pass --encoding if the file uses another encoding",
                        path, plural(stats.invalid_utf8_words, "word"), self.encoding,
                        plural(stats.replaced_bytes, "byte"), stats.examples["invalid_utf8"])


def decode_replace(raw: bytes, encoding: str) -> tuple[str, int]:
    """``raw`` decoded with U+FFFD for invalid bytes, and how many bytes were replaced."""
    out, bad, start = [], 0, 0
    while True:
        try:
            out.append(raw[start:].decode(encoding))
            return "".join(out), bad
        except UnicodeDecodeError as err:
            out.append(raw[start:start + err.start].decode(encoding))
            out.append("\ufffd")
            bad += err.end - err.start
            start += err.end

