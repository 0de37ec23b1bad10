"""The word2vec binary reader (Mikolov's C tool, ``-binary 1``).

Layout: a text header ``COUNT DIM\\n``, then per word ``word`` + space + DIM little-endian
float32 (+ an optional newline, which the next word's leading newlines absorb, as gensim
does). Words have variable length, so one ``find`` per row locates them; the vectors of a
whole block are then cut out of the buffer and reinterpreted by numpy in one go.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from embedkit.formats.blocks import BLOCK_BYTES, RawBlock, format_error
from embedkit.formats.detect import is_text_row, looks_binary, parse_header
from embedkit.formats.source import SourceFile

MAX_WORD_BYTES = 1 << 16  # a "word" longer than this means the file is not what it claims


class BinaryReader:
    """Rows of a word2vec binary file."""

    unit = "row"

    def __init__(self, source: SourceFile, limit: int | None = None):
        self.source = source
        self.path = source.path
        self.limit = limit
        self.counts = None
        self.subwords = None
        first = source.head.partition(b"\n")[0]
        parsed = parse_header(first)
        if parsed is None:
            raise format_error(
                self.path, "line", 1,
                "expected a word2vec header 'COUNT DIM' before the binary rows; "
                "pass --format glove or word2vec for text files",
            )
        self.expected_rows, self.dim = parsed
        if self.dim == 0:
            raise format_error(self.path, "line", 1, "the header says 0 dimensions")
        rows = source.head[len(first) + 1:]
        row = rows.partition(b"\n")[0]
        # text: no control byte in the sample (a float32 alone can look like a number)
        if len(row.split()) == self.dim + 1 and not looks_binary(rows) and is_text_row(row):
            raise format_error(self.path, "line", 2,
                               "the rows are text, not binary; use --format word2vec")
        source.read(len(first) + 1)

    def blocks(self) -> Iterator[RawBlock]:
        """Parsed blocks of rows; a file that ends before the header's count is an error."""
        wanted = self.expected_rows if self.limit is None else min(self.limit, self.expected_rows)
        buffer, row = b"", 1
        while row <= wanted:
            chunk = self.source.read(BLOCK_BYTES)
            buffer += chunk
            words, offsets, used = self._split_rows(buffer, wanted - row + 1, row, final=not chunk)
            if words:
                places = np.arange(row, row + len(words))
                yield RawBlock(words, self._gather(buffer, offsets), places)
                row += len(words)
            buffer = buffer[used:]
            if not chunk:
                break
        if row <= wanted:
            raise format_error(
                self.path, "row", row,
                f"the header says {self.expected_rows} words but the file ends after "
                f"{row - 1} rows (truncated file or wrong header?)",
            )
        if self.limit is None and (buffer + self.source.read(BLOCK_BYTES)).strip():
            raise format_error(
                self.path, "row", row,
                f"more rows than the header's count ({self.expected_rows}); fix the header "
                f"or pass --limit {self.expected_rows} to read only those",
            )

    def _split_rows(self, buffer: bytes, most: int, row: int, final: bool):
        """Words and vector offsets of the complete rows in ``buffer`` (at most ``most``)."""
        row_bytes = 4 * self.dim
        words: list[bytes] = []
        offsets: list[int] = []
        pos, end = 0, len(buffer)
        while len(words) < most:
            space = buffer.find(b" ", pos, pos + MAX_WORD_BYTES)
            if space < 0:
                if end - pos >= MAX_WORD_BYTES or (final and buffer[pos:].strip()):
                    raise format_error(
                        self.path, "row", row + len(words),
                        "no word followed by a space where a row should start "
                        "(corrupt file, or a header that disagrees with the rows?)",
                    )
                break
            if end - space - 1 < row_bytes:
                break
            words.append(buffer[pos:space].lstrip(b"\n"))
            offsets.append(space + 1)
            pos = space + 1 + row_bytes
        return words, offsets, pos

    def _gather(self, buffer: bytes, offsets: list[int]) -> np.ndarray:
        view = memoryview(buffer)
        row_bytes = 4 * self.dim
        packed = b"".join([view[o:o + row_bytes] for o in offsets])
        return np.frombuffer(packed, dtype="<f4").reshape(len(offsets), self.dim)
