"""Import and export word vectors in the word2vec, GloVe and fastText file formats.

Formats (``format=``): ``word2vec`` (text with a ``COUNT DIM`` header), ``fasttext-vec``
(the same text format, as fastText writes it), ``glove`` (text without a header),
``word2vec-binary``, ``fasttext-bin`` (a fastText model; its subword tables come along, so
unknown words get vectors). ``auto`` detects the format from the file's first bytes
(:func:`detect_format`); gzip, bz2 and xz files are read transparently.

>>> from embedkit.formats import import_vectors, export_vectors
>>> vectors = import_vectors("glove.6B.100d.txt.gz", "glove.h5")   # streams into a store
>>> export_vectors(vectors, "glove.bin", "word2vec-binary")
"""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path
from typing import Any

from embedkit import workspace
from embedkit.errors import UsageError
from embedkit.formats.binary import BinaryReader
from embedkit.formats.detect import FORMATS, check_format, detect_format, sniff
from embedkit.formats.export import EXPORT_FORMATS, check_export_args, export_vectors
from embedkit.formats.fasttext_bin import FastTextBinReader
from embedkit.formats.ingest import Ingest, MemorySink
from embedkit.formats.source import SourceFile
from embedkit.formats.text import TextReader
from embedkit.store import StoreWriter, load
from embedkit.vectors import Vectors

__all__ = [
    "EXPORT_FORMATS", "FORMATS", "check_export_args", "detect_format", "export_vectors",
    "import_to_workspace", "import_vectors", "read_vectors",
]


def read_vectors(path: str | os.PathLike, format: str = "auto", limit: int | None = None,
                 encoding: str = "utf-8") -> Vectors:
    """Read a vector file into an in-memory :class:`Vectors` (same parsers as the import).

    Parameters
    ----------
    path : a word2vec / GloVe / fastText file, optionally gzip/bz2/xz-compressed.
    format : ``auto`` or one of :data:`FORMATS`.
    limit : read only the first ``limit`` rows.
    encoding : of the words (invalid bytes are replaced by U+FFFD, with a warning).
    """
    started = time.perf_counter()
    with SourceFile(path) as source:
        reader, fmt = _open_reader(source, format, limit, encoding)
        ingest = Ingest(reader, source, encoding)
        sink = ingest.run(MemorySink)
        assert isinstance(sink, MemorySink)
        meta = _provenance(source, fmt, format, limit, encoding, ingest, started)
        counts = _kept(reader.counts, len(sink.words))
        return Vectors(sink.words, sink.matrix(), counts, meta, reader.subwords)


def import_vectors(path: str | os.PathLike, out_path: str | os.PathLike, format: str = "auto",
                   limit: int | None = None, encoding: str = "utf-8") -> Vectors:
    """Stream a vector file into a store at ``out_path`` and open it (lazily).

    Rows go to the store block by block, so the matrix is never held in memory; the store
    replaces ``out_path`` atomically only when complete (an error or a kill leaves whatever
    was there untouched). Parameters as in :func:`read_vectors`.
    """
    started = time.perf_counter()
    writer: StoreWriter | None = None

    def open_sink(dim: int, expected_rows: int | None) -> StoreWriter:
        nonlocal writer
        writer = StoreWriter(out_path, dim, expected_rows)
        return writer

    try:
        with SourceFile(path) as source:
            reader, fmt = _open_reader(source, format, limit, encoding)
            ingest = Ingest(reader, source, encoding)
            ingest.run(open_sink)
            assert writer is not None
            if reader.subwords is not None:
                writer.add_subwords(reader.subwords)
            meta = _provenance(source, fmt, format, limit, encoding, ingest, started)
            writer.commit(meta, _kept(reader.counts, writer.size))
    finally:
        if writer is not None:
            writer.abort()  # no-op after a commit (the temporary file is gone)
    return load(out_path)


def import_to_workspace(path: str | os.PathLike, name: str,
                        home: str | os.PathLike | None = None, force: bool = False,
                        format: str = "auto", limit: int | None = None,
                        encoding: str = "utf-8") -> Vectors:
    """Import a vector file as the workspace set ``name`` (``<home>/<name>/vectors.h5``).

    An existing name is refused unless ``force``; with ``force`` the old set stays in place
    until the new store is complete.
    """
    check_format(format)
    _check_encoding(encoding)
    folder_existed = workspace.set_dir(name, home).exists()
    target = workspace.target_path(name, home, force)
    try:
        return import_vectors(path, target, format, limit, encoding)
    except BaseException:
        if not folder_existed and target.parent.is_dir() and not any(target.parent.iterdir()):
            target.parent.rmdir()  # leave no empty folder behind for a failed new name
        raise


def _open_reader(source: SourceFile, format: str, limit: int | None, encoding: str):
    """The reader for ``format`` (detected when ``auto``) and the format's name."""
    fmt = check_format(format)
    if limit is not None and limit <= 0:
        raise UsageError(f"--limit must be a positive number of rows, got {limit}")
    _check_encoding(encoding)
    if fmt == "auto":
        fmt = sniff(source.head, source.path)
    if fmt == "fasttext-bin":
        return FastTextBinReader(source, limit, encoding), fmt
    if fmt == "word2vec-binary":
        return BinaryReader(source, limit), fmt
    return TextReader(source, header=fmt != "glove", limit=limit), fmt


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}; try utf-8, latin-1 or cp1252") from None


def _kept(counts: Any, size: int) -> Any:
    """Counts of the kept rows (fastText models have no duplicate words to drop)."""
    return None if counts is None else counts[:size]


def _source_name(path: Path) -> str:
    """The absolute path of the file read, or "stdin" / "pipe" for a stream without one."""
    if str(path) == "/dev/stdin":
        return "stdin"
    resolved = path.resolve()
    return "pipe" if ":[" in resolved.name else str(resolved)  # /proc/PID/fd/pipe:[INODE]


def _provenance(source: SourceFile, fmt: str, requested: str, limit: int | None,
                encoding: str, ingest: Ingest, started: float) -> dict[str, Any]:
    stats = ingest.stats.as_dict()
    stats["invalid_utf8_words"] += getattr(ingest.reader, "invalid_words", 0)
    stats["words_with_spaces"] = getattr(ingest.reader, "spaced_words", 0)
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return {
        "source": _source_name(Path(source.path)),
        "source_sha256": source.sha256(),
        "source_format": fmt,
        "source_compression": source.compression or "none",
        "builder": "import",
        "params": {"format": requested, "limit": limit, "encoding": encoding},
        "stats": stats,
        "import_seconds": stats["seconds"],
    }
