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
import logging
import lzma
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from embedkit import progress
from embedkit.atomic import atomic_path
from embedkit.errors import EmbedkitError, UsageError
from embedkit.vectors import Vectors

log = logging.getLogger("embedkit.formats")

EXPORT_FORMATS = ("word2vec", "word2vec-binary", "glove")
_BLOCK_ROWS = 16384
_COMPRESSORS = {".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


def export_vectors(vectors: Vectors, path: str | os.PathLike, format: str,
                   precision: int = 6, spaces: str = "refuse") -> Path:
    """Write ``vectors`` to ``path`` in ``format`` (one of :data:`EXPORT_FORMATS`).

    Parameters
    ----------
    vectors : the set (in memory or opened from a store).
    path : the output file; ``.gz``/``.bz2``/``.xz`` names are compressed; ``"-"`` writes
        to standard output.
    format : ``word2vec`` (text with a ``COUNT DIM`` header), ``word2vec-binary`` or
        ``glove`` (text without a header).
    precision : significant digits of text values (1 to 17).
    spaces : words holding a space or newline (``glove.840B`` has some), which these
        formats cannot hold: ``refuse`` (an error), ``skip`` (leave them out) or
        ``underscore`` (write ``new_york`` for ``new york``).

    Returns
    -------
    The path written.
    """
    check_export_args(format, precision)
    if spaces not in SPACES:
        raise UsageError(f"--spaces must be one of {', '.join(SPACES)}, got {spaces!r}")
    words, keep = _exportable(vectors.words, spaces)
    if str(path) == "-":  # standard output, uncompressed
        _write(vectors, words, keep, sys.stdout.buffer, format, precision)
        sys.stdout.buffer.flush()
        return Path("-")
    path = Path(path)
    _check_target(vectors, path)
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        stream = _compressed(raw, path)
        _write(vectors, words, keep, stream, format, precision)
        if stream is not raw:
            stream.close()  # writes the compressor's trailer; ``raw`` stays open
    return path


SPACES = ("refuse", "skip", "underscore")


def _exportable(words: list[str], spaces: str) -> tuple[list[str], np.ndarray | None]:
    """The words to write and the rows kept (None: all), by the ``spaces`` policy."""
    joined = "\x00".join(words)
    if " " not in joined and "\n" not in joined:
        return words, None
    bad = [i for i, w in enumerate(words) if " " in w or "\n" in w]
    if spaces == "refuse":
        raise EmbedkitError(
            f"word {words[bad[0]]!r} (row {bad[0] + 1}) contains a space or newline, which "
            f"the word2vec and GloVe formats cannot hold ({len(bad)} such words); pass "
            "--spaces skip to leave them out or --spaces underscore to write new_york")
    if spaces == "skip":
        log.warning("left out %d words that contain a space or newline", len(bad))
        keep = np.setdiff1d(np.arange(len(words)), bad)
        return [words[i] for i in keep], keep
    log.warning("wrote %d words with their spaces as underscores", len(bad))
    return [w.replace(" ", "_").replace("\n", "_") for w in words], None


def check_export_args(format: str, precision: int) -> None:
    """A usage error for an unknown export format or an impossible precision."""
    if format not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {format!r}; choose one of: "
                         + ", ".join(EXPORT_FORMATS))
    if not 1 <= precision <= 17:
        raise UsageError(f"--precision must be 1 to 17 significant digits, got {precision}")


def _write(vectors: Vectors, words: list[str], keep: np.ndarray | None, out: BinaryIO,
           format: str, precision: int) -> None:
    if format != "glove":
        out.write(f"{len(words)} {vectors.dim}\n".encode())
    line = " ".join([f"%.{precision}g"] * vectors.dim)
    with progress.task(f"exporting {format}", total=len(words)) as bar:
        for block, rows in _blocks(vectors, words, keep):
            if format == "word2vec-binary":
                out.write(_binary_block(block, rows))
            else:
                pairs = zip(block, rows.tolist(), strict=True)
                text = [f"{word} {line % tuple(row)}" for word, row in pairs]
                out.write(("\n".join(text) + "\n").encode("utf-8"))
            bar.advance(len(block))


def _binary_block(words: list[str], rows: np.ndarray) -> bytes:
    rows = np.ascontiguousarray(rows, dtype="<f4")
    parts: list[bytes] = []
    for word, row in zip(words, rows, strict=True):
        parts += [word.encode("utf-8"), b" ", row.tobytes(), b"\n"]
    return b"".join(parts)


def _blocks(vectors: Vectors, words: list[str], keep: np.ndarray | None
            ) -> Iterator[tuple[list[str], np.ndarray]]:
    for start in range(0, len(words), _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, len(words))
        ids = np.arange(start, stop) if keep is None else keep[start:stop]
        yield words[start:stop], vectors.rows(ids)


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
