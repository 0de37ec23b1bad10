"""The text row parser for word2vec text, fastText ``.vec`` and GloVe files.

A row is ``word x1 x2 ... xD``: the word runs to the first space (as gensim reads it),
the values are separated by whitespace (fastText's trailing space and CRLF endings are
fine). The file is read in blocks of about 8 MiB of whole lines; each block's words come
from one ``partition`` per line and all of its numbers from one call of numpy's C parser
(``np.loadtxt`` on the block's value strings), which also checks that every line has the
same number of values. Only when a block fails does a slow line-by-line pass run, to name
the first bad line and say what is wrong with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np

from embedkit.formats.blocks import BLOCK_BYTES, RawBlock, format_error
from embedkit.formats.detect import looks_binary, parse_header
from embedkit.formats.source import SourceFile


class TextReader:
    """Rows of a text vector file, with (``header=True``) or without a ``COUNT DIM`` line."""

    unit = "line"

    def __init__(self, source: SourceFile, header: bool, limit: int | None = None):
        self.source = source
        self.path = source.path
        self.limit = limit
        self.expected_rows: int | None = None
        self.dim: int | None = None
        self.counts = None
        self.subwords = None
        self.spaced_words = 0
        self._first_line = 1
        self._dim_origin = ""
        if header:
            self._read_header()

    def _read_header(self) -> None:
        first = self.source.head.partition(b"\n")[0]
        parsed = parse_header(first)
        if parsed is None:
            shown = first[:60].decode("utf-8", "replace")
            raise format_error(
                self.path, "line", 1,
                f"expected a word2vec header 'COUNT DIM', got {shown!r}; "
                "for a file without a header pass --format glove",
            )
        count, dim = parsed
        if dim == 0:
            raise format_error(self.path, "line", 1, "the header says 0 dimensions")
        self.source.read(len(first) + 1)
        self.expected_rows, self.dim = count, dim
        self._first_line = 2
        self._dim_origin = f"the header on line 1 says {dim}"

    def blocks(self) -> Iterator[RawBlock]:
        """Parsed blocks of rows, in file order; checks the header's count at the end."""
        line_no, rows_read = self._first_line, 0
        for lines in self._line_blocks():
            if self.limit is not None:
                lines = lines[: self.limit - rows_read]
            block = self._parse(lines, line_no)
            line_no += len(lines)
            if block is not None:
                rows_read += len(block.words)
                self._check_count(rows_read, block)
                yield block
            if self.limit is not None and rows_read >= self.limit:
                return
        if self.expected_rows is not None and rows_read < self.expected_rows:
            raise format_error(
                self.path, "line", line_no,
                f"the header says {self.expected_rows} words but the file ends after "
                f"{rows_read} rows (truncated file or wrong header?)",
            )

    def _check_count(self, rows_read: int, block: RawBlock) -> None:
        if self.expected_rows is None or rows_read <= self.expected_rows:
            return
        extra = int(block.places[len(block.words) - (rows_read - self.expected_rows)])
        raise format_error(
            self.path, "line", extra,
            f"more rows than the header's count ({self.expected_rows}); fix the header "
            f"or pass --limit {self.expected_rows} to read only that many",
        )

    def _line_blocks(self) -> Iterator[list[bytes]]:
        """Lists of whole lines (without their newlines), about BLOCK_BYTES at a time."""
        carry = b""
        while True:
            chunk = self.source.read(BLOCK_BYTES)
            if not chunk:
                if carry:
                    yield [carry]
                return
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            carry = data[cut:]
            lines = data[:cut].split(b"\n")
            lines.pop()
            yield lines

    def _parse(self, lines: list[bytes], first_line: int) -> RawBlock | None:
        places = np.arange(first_line, first_line + len(lines))
        parts = [line.partition(b" ") for line in lines]
        rests = [p[2] for p in parts]
        rows = _parse_numbers(rests)
        if rows is None or rows.shape[0] != len(lines):
            keep = [i for i, line in enumerate(lines) if line.strip()]  # blank lines: skipped
            if not keep:
                return None
            if len(keep) < len(lines):
                parts = [parts[i] for i in keep]
                rests = [p[2] for p in parts]
                places = places[keep]
                rows = _parse_numbers(rests)
        if self.dim is None:
            self.dim = len(rests[0].split())
            self._dim_origin = f"line {int(places[0])} has {self.dim}"
            if self.dim == 0:
                self._fail_row(parts, places)
        if rows is None or rows.shape != (len(parts), self.dim):
            parts = self._rejoin_spaced_words(parts)
            rows = _parse_numbers([p[2] for p in parts])
            if rows is None or rows.shape != (len(parts), self.dim):
                self._fail_row(parts, places)
        return RawBlock([p[0] for p in parts], rows, places)

    def _rejoin_spaced_words(self, parts: list[tuple[bytes, bytes, bytes]]):
        """Give back their spaces to words like ``". . ."`` (glove.840B has some).

        A line with more than ``dim`` fields whose extra leading fields are not all numbers
        and whose last ``dim`` fields are: the extra fields belong to the word. A line with
        extra *numbers* stays as it is, to be reported as having too many values.
        """
        fixed = []
        for word, sep, rest in parts:
            values = rest.split()
            extra = len(values) - self.dim
            if extra > 0 and _parse_numbers([b" ".join(values[:extra])]) is None:
                tail = b" ".join(values[extra:])
                if _parse_numbers([tail]) is not None:
                    word, rest = b" ".join([word, *values[:extra]]), tail
                    self.spaced_words += 1
            fixed.append((word, sep, rest))
        return fixed

    def _fail_row(self, parts: list[tuple[bytes, bytes, bytes]], places: np.ndarray) -> None:
        """Find the first bad line of a block that failed to parse and raise its error."""
        for (word, _, rest), place in zip(parts, places, strict=True):
            values = rest.split()
            shown = word[:60].decode("utf-8", "replace")
            if len(values) != self.dim:
                raise format_error(
                    self.path, "line", int(place),
                    f"{len(values)} values for {shown!r}, expected {self.dim} "
                    f"({self._dim_origin}){_hint(word, rest)}",
                )
            for column, value in enumerate(values, start=1):
                if _parse_numbers([value]) is None:
                    raise format_error(
                        self.path, "line", int(place),
                        f"value {column} of {shown!r} is not a number: "
                        f"{value[:40].decode('utf-8', 'replace')!r}{_hint(word, rest)}",
                    )
        raise format_error(self.path, "line", int(places[0]),
                           "the rows from here do not read as text vectors (binary data or "
                           "unusual separators?); check the file and --format")


def _hint(word: bytes, rest: bytes) -> str:
    """What a bad row suggests: binary rows read as text, or tab-separated fields."""
    if looks_binary(word + rest):
        return "; the rows look binary: leave out --format to detect the format"
    if b"\t" in word:
        return "; the fields are separated by tabs, the format wants spaces"
    return ""


def _parse_numbers(rests: list[bytes]) -> np.ndarray | None:
    """All values of the lines as one float32 matrix (``None`` when they do not parse)."""
    try:
        with warnings.catch_warnings():  # "input contained no data": reported by the caller
            warnings.simplefilter("ignore", UserWarning)
            return np.loadtxt(rests, dtype=np.float32, comments=None, ndmin=2)
    except ValueError:
        return None
