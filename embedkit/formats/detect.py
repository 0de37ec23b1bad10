"""Which format a vector file is in, decided from its first bytes.

- fastText ``.bin``: magic number 793712314 (fastText >= 0.2), or an older header of 12
  plausible int32 fields (dim, ws, epoch, ...; gensim still reads those files).
- A first line ``COUNT DIM`` is a word2vec header; the rows after it are text
  (``word2vec``, or ``fasttext-vec`` when the file is named ``*.vec``) or binary floats
  (``word2vec-binary``).
- Otherwise a first line ``word x1 ... xD`` of numbers is GloVe (word2vec text, no header).
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

from embedkit.errors import InputFormatError, UsageError
from embedkit.formats.source import SourceFile

FORMATS = ("word2vec", "word2vec-binary", "glove", "fasttext-vec", "fasttext-bin")
FASTTEXT_MAGIC = 793712314
_HEADER = re.compile(rb"^\s*(\d+)\s+(\d+)\s*$")
_CONTROL = bytes(range(9)) + bytes(range(14, 32))
NOT_VECTORS = "not a word2vec, GloVe or fastText file"


def check_format(fmt: str) -> str:
    """``fmt`` if it names a format (or ``auto``); a usage error listing them otherwise."""
    if fmt != "auto" and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: auto, {', '.join(FORMATS)}")
    return fmt


def detect_format(path: str | os.PathLike) -> str:
    """The format of the vector file at ``path`` (compressed files are looked inside)."""
    with SourceFile(path) as source:
        return sniff(source.head, source.path)


def sniff(head: bytes, path: Path) -> str:
    """The format of a file whose first (decompressed) bytes are ``head``."""
    if not head.strip():
        raise InputFormatError("file is empty; " + NOT_VECTORS.replace("not ", "expected "), path)
    if is_fasttext_bin(head):
        return "fasttext-bin"
    if len(head) < 48 and head[:4] == struct.pack("<i", FASTTEXT_MAGIC):
        raise InputFormatError(f"a fastText .bin model that ends after {len(head)} bytes "
                               "(truncated file)", path)
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        raise InputFormatError(
            f"{NOT_VECTORS} but an HDF5 file (an embedkit store opens with embedkit.load, "
            "or by name once it is in the workspace)", path,
        )
    first, _, rest = head.partition(b"\n")
    header = parse_header(first)
    if header is not None:
        dim = header[1]
        if not _text_rows(rest, dim) and (looks_binary(rest[: 4 * dim + 256])
                                          or _is_binary_row(rest, dim)):
            return "word2vec-binary"
        return "fasttext-vec" if _stem_suffix(path) == ".vec" else "word2vec"
    if looks_binary(first) or not is_text_row(first):
        raise InputFormatError(
            f"{NOT_VECTORS} (the first line is neither a 'COUNT DIM' header nor "
            "'word x1 x2 ...'); pass --format if you know the format",
            path, 1,
        )
    return "glove"


def parse_header(line: bytes) -> tuple[int, int] | None:
    """``(count, dim)`` from a word2vec header line, else ``None``."""
    match = _HEADER.match(line)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def is_fasttext_bin(head: bytes) -> bool:
    if len(head) < 48:
        return False
    ints = struct.unpack("<12i", head[:48])
    if ints[0] == FASTTEXT_MAGIC:
        return True
    # fastText < 0.2: dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn
    dim, ws, epoch, min_count, neg, ngrams, loss, model, bucket, minn, maxn = ints[:11]
    return (0 < dim <= 100_000 and 0 < ws <= 1000 and 0 < epoch <= 100_000 and min_count >= 0
            and neg >= 0 and 0 < ngrams <= 100 and loss in (1, 2, 3, 4) and model in (1, 2, 3)
            and bucket >= 0 and 0 <= minn <= maxn <= 100)


def looks_binary(sample: bytes) -> bool:
    """Control bytes (other than tab/newline/CR) do not occur in text vector files."""
    return any(byte in _CONTROL for byte in sample)


def _text_rows(rest: bytes, dim: int) -> bool:
    """The first row and the other whole lines of a binary row's length after it each end in
    ``dim`` numbers: text, even where a word holds a control byte (binary rows split at
    their newline bytes into pieces that are not)."""
    first, _, more = rest.partition(b"\n")
    lines = [first, *more[: 4 * dim + 256].split(b"\n")[:-1]]
    return all(_ends_in_numbers(line, dim) for line in lines if line.strip())


def _ends_in_numbers(line: bytes, dim: int) -> bool:
    fields = line.split()
    return len(fields) > dim and all(is_number(f) for f in fields[-dim:])


def _is_binary_row(rest: bytes, dim: int) -> bool:
    """A first row that is not text but has room for ``word`` + space + dim float32."""
    line = rest.partition(b"\n")[0]
    if is_text_row(line) or is_text_row(line, dim):  # text, whatever its value count
        return False
    if _has_text_fields(line, dim):  # text with a bad value: the text parser names it
        return False
    space = rest.find(b" ")
    return space > 0 and len(rest) >= space + 1 + 4 * dim


def _has_text_fields(line: bytes, dim: int) -> bool:
    """A word and ``dim`` >= 2 space-separated printable ASCII fields, at least half of them
    numbers: a text row with a bad value (float32 bytes almost never split like that). A
    single value proves nothing: one float32 can be four printable bytes."""
    fields = line.split()
    if dim < 2 or len(fields) <= dim or not all(f.isascii() for f in fields[-dim:]):
        return False
    return 2 * sum(is_number(f) for f in fields[-dim:]) >= dim


def is_number(field: str | bytes) -> bool:
    """Whether ``float(field)`` parses (NaN and infinity included)."""
    try:
        float(field)
    except ValueError:
        return False
    return True


def is_text_row(line: bytes, dim: int | None = None) -> bool:
    """``word x1 ... xD``: at least one value, all of them numbers. With ``dim`` known, the
    last ``dim`` fields must be numbers and the word may hold spaces (``new york 0.1 ...``)."""
    parts = line.split()
    values = parts[1:] if dim is None else parts[-dim:] if len(parts) > dim else []
    if not values or looks_binary(line):
        return False
    try:
        [float(x) for x in values]
    except ValueError:
        return False
    return True


def _stem_suffix(path: Path) -> str:
    """The extension under any compression suffix: ``x.vec.gz`` -> ``.vec``."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in (".gz", ".bz2", ".xz"):
        suffixes.pop()
    return suffixes[-1] if suffixes else ""
