"""Exporters: a set to word2vec text, word2vec binary or GloVe text, atomically.

Rows stream out in blocks (a set opened from a store is never loaded whole). Text values
are printed with ``precision`` significant digits (``%.6g`` by default; 9 digits give back
every float32 exactly); binary rows are the float32 bytes, so binary round trips are
bit-exact. The file goes to a temporary name in the target's folder, is fsynced and renamed
over the target only when complete. A name ending in ``.gz``, ``.bz2`` or ``.xz`` is
compressed.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from embedkit import progress
from embedkit.atomic import atomic_path
from embedkit.errors import EmbedkitError, UsageError
from embedkit.vectors import Vectors

EXPORT_FORMATS = ("word2vec", "word2vec-binary", "glove")
_BLOCK_ROWS = 16384
_COMPRESSORS = {".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


def export_vectors(vectors: Vectors, path: str | os.PathLike, format: str,
                   precision: int = 6) -> Path:
    """Write ``vectors`` to ``path`` in ``format`` (one of :data:`EXPORT_FORMATS`).

    Parameters
    ----------
    vectors : the set (in memory or opened from a store).
    path : the output file; ``.gz``/``.bz2``/``.xz`` names are compressed.
    format : ``word2vec`` (text with a ``COUNT DIM`` header), ``word2vec-binary`` or
        ``glove`` (text without a header).
    precision : significant digits of text values (1 to 17).

    Returns
    -------
    The path written.
    """
    check_export_args(format, precision)
    _check_words(vectors.words)
    path = Path(path)
    _check_target(vectors, path)
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        stream = _compressed(raw, path)
        _write(vectors, stream, format, precision)
        if stream is not raw:
            stream.close()  # writes the compressor's trailer; ``raw`` stays open
    return path


def check_export_args(format: str, precision: int) -> None:
    """A usage error for an unknown export format or an impossible precision."""
    if format not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {format!r}; choose one of: "
                         + ", ".join(EXPORT_FORMATS))
    if not 1 <= precision <= 17:
        raise UsageError(f"--precision must be 1 to 17 significant digits, got {precision}")


def _write(vectors: Vectors, out: BinaryIO, format: str, precision: int) -> None:
    if format != "glove":
        out.write(f"{len(vectors)} {vectors.dim}\n".encode())
    line = " ".join([f"%.{precision}g"] * vectors.dim)
    with progress.task(f"exporting {format}", total=len(vectors)) as bar:
        for words, rows in _blocks(vectors):
            if format == "word2vec-binary":
                out.write(_binary_block(words, rows))
            else:
                pairs = zip(words, rows.tolist(), strict=True)
                text = [f"{word} {line % tuple(row)}" for word, row in pairs]
                out.write(("\n".join(text) + "\n").encode("utf-8"))
            bar.advance(len(words))


def _binary_block(words: list[str], rows: np.ndarray) -> bytes:
    rows = np.ascontiguousarray(rows, dtype="<f4")
    parts: list[bytes] = []
    for word, row in zip(words, rows, strict=True):
        parts += [word.encode("utf-8"), b" ", row.tobytes(), b"\n"]
    return b"".join(parts)


def _blocks(vectors: Vectors) -> Iterator[tuple[list[str], np.ndarray]]:
    for start in range(0, len(vectors), _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, len(vectors))
        yield vectors.words[start:stop], vectors.rows(np.arange(start, stop))


def _check_target(vectors: Vectors, path: Path) -> None:
    """Refuse to overwrite the set's own store, or to write a compression we cannot."""
    source = vectors.metadata.get("path")
    if source and path.exists() and Path(source).exists() and path.samefile(source):
        raise UsageError(f"{path} is the store of the set being exported; choose another "
                         "output file")
    if path.suffix.lower() in _UNWRITABLE:
        raise UsageError(f"{path}: cannot write {path.suffix} compression; use .gz, .bz2 or "
                         ".xz, or a name without a compression ending")


_UNWRITABLE = (".zst", ".zip", ".lz4", ".7z", ".z", ".lzma", ".br")


def _compressed(raw: BinaryIO, path: Path) -> BinaryIO:
    suffix = path.suffix.lower()
    if suffix == ".gz":  # the header names the final file, not the temporary one
        return gzip.GzipFile(filename=path.name, fileobj=raw, mode="wb", mtime=0)
    if suffix in _COMPRESSORS:
        return _COMPRESSORS[suffix](raw, mode="wb")
    return raw


def _check_words(words: list[str]) -> None:
    """Words with a space or newline inside cannot be written to these formats and read back."""
    joined = "\x00".join(words)
    if " " not in joined and "\n" not in joined:
        return
    for i, word in enumerate(words):
        if " " in word or "\n" in word:
            raise EmbedkitError(
                f"word {word!r} (row {i + 1}) contains a space or newline, which the word2vec and "
                "GloVe formats cannot hold; export a subset without it"
            )
