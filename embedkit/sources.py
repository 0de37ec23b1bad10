"""Files → byte streams: the I/O half of corpus reading.

Expands the paths a user gives (files, folders walked recursively, a glob, exclusions)
into :class:`CorpusFile` entries, and opens each one as a stream of *sources*: a plain
file, a ``.gz``/``.bz2``/``.xz`` file (recognised by its magic bytes, decompressed on the
fly), or every member of a tar (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``,
``.tar.xz``) or zip archive, read sequentially without unpacking anything to disk.
It also guesses a file's format from its name and first bytes (:func:`detect_format`,
:func:`bom_encoding`) and decodes byte blocks incrementally, replacing and counting
undecodable bytes.
:mod:`embedkit.corpus` builds documents on top of it.
"""

from __future__ import annotations

import bz2
import codecs
import fnmatch
import gzip
import io
import logging
import lzma
import os
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from embedkit import tarstream
from embedkit.errors import NotFoundError

log = logging.getLogger("embedkit.corpus")

BLOCK = 1 << 20
"""Bytes read at a time from a stream."""

TAR_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)
COMPRESSIONS: tuple[tuple[str, bytes, Callable[[BinaryIO], BinaryIO]], ...] = (
    ("gzip", b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    ("bz2", b"BZh", lambda f: bz2.BZ2File(f, mode="rb")),
    ("xz", b"\xfd7zXZ\x00", lambda f: lzma.LZMAFile(f, mode="rb")),  # noqa: SIM115
)
"""(name, magic bytes, opener of a decompressing stream) of the compressions read."""


def compression_of(head: bytes) -> tuple[str, Callable[[BinaryIO], BinaryIO]] | None:
    """(name, opener) of the compression whose magic bytes start ``head``, else None."""
    for name, magic, opener in COMPRESSIONS:
        if head.startswith(magic):
            return name, opener
    return None
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


class CorpusFile(NamedTuple):
    """One file on disk that the corpus reads (an archive counts as one file)."""

    path: str
    size: int
    member: str | None = None


class Source(NamedTuple):
    """One readable unit: a file or an archive member, as a decompressed byte stream."""

    name: str  # for messages: "path" or "archive.tar.gz:member"
    stream: BinaryIO
    problem: str | None = None  # why it cannot be read (the reader skips it, saying so)


def expand_paths(paths: list[str | os.PathLike], glob: str | None,
                 exclude: tuple[str, ...]) -> list[CorpusFile]:
    """The files behind ``paths``: named files as given, folders walked recursively.

    Files found inside folders must match ``glob`` (matched from the right against the
    path relative to the folder, so ``*.txt`` and ``train/*/*.txt`` both work) and no
    ``exclude`` pattern (matched against the file name); files named explicitly are
    always read. Order is deterministic (sorted). A missing path is a
    :class:`NotFoundError`.
    """
    files: list[CorpusFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path):
                rel = found.relative_to(path).as_posix()
                if not wanted(rel, glob, exclude):
                    continue
                if found.is_file():
                    files.append(CorpusFile(str(found), _size(found)))
                else:  # a FIFO or device would block or never end
                    log.warning("skipping %s: not a regular file", found)
        elif path.exists():
            files.append(CorpusFile(str(path), _size(path)))
        else:
            raise NotFoundError(f"corpus path {str(raw)!r} does not exist; check the spelling "
                                "or pass a file or folder that exists")
    return _once(files)


def _once(files: list[CorpusFile]) -> list[CorpusFile]:
    """Each file once, in first-named order: a file named twice (or inside a folder also
    named) would be counted twice."""
    seen: set[str] = set()
    out = []
    for file in files:
        key = os.path.realpath(file.path)
        if key in seen:
            log.warning("%s is named more than once; it is read once", file.path)
            continue
        seen.add(key)
        out.append(file)
    return out


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            yield Path(folder) / name


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def wanted(rel: str, glob: str | None, exclude: tuple[str, ...]) -> bool:
    """Whether a file found in a folder or an archive (relative name ``rel``) is read."""
    base = rel.rsplit("/", 1)[-1]
    if exclude and _any_of(exclude).match(base):
        return False
    return glob is None or PurePosixPath(rel).match(glob)


@lru_cache(maxsize=16)
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex for a tuple of fnmatch patterns (50k members: 0.05 s, not 1 s)."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


def is_archive(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(TAR_SUFFIXES) or lower.endswith(ZIP_SUFFIXES)


def strip_compression(name: str) -> str:
    """``reut2-000.sgm.gz`` → ``reut2-000.sgm`` (for format detection by extension)."""
    lower = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def decompressed(stream: BinaryIO) -> BinaryIO:
    """``stream``, or a decompressing stream over it when it starts with gzip/bz2/xz magic.

    ``stream`` must support ``peek`` (files opened ``"rb"``, tar and zip members do).
    """
    found = compression_of(stream.peek(6)[:6])
    return found[1](stream) if found else stream


class _CountingRaw(io.RawIOBase):
    """A raw binary file that adds the bytes read through it to ``counter[0]`` (progress)."""

    def __init__(self, raw: BinaryIO, counter: list[int]) -> None:
        super().__init__()
        self._raw = raw
        self._counter = counter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        self._counter[0] += n or 0
        return n

    def seekable(self) -> bool:  # zip archives need it
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


@contextmanager
def open_file(path: str, counter: list[int]) -> Iterator[BinaryIO]:
    """Open ``path`` for buffered binary reading; ``counter[0]`` tracks raw bytes read."""
    with open(path, "rb", buffering=0) as raw:
        yield io.BufferedReader(_CountingRaw(raw, counter), BLOCK)


def sources(file: CorpusFile, glob: str | None, exclude: tuple[str, ...],
            counter: list[int]) -> Iterator[Source]:
    """The readable units inside one corpus file, as decompressed streams.

    Archives yield their wanted members (see :func:`wanted`) in archive order;
    other files yield themselves. Errors opening or reading propagate as ``OSError``,
    ``EOFError``, ``tarfile.TarError`` or ``zipfile.BadZipFile``; the caller turns them
    into warnings.
    """
    lower = file.path.lower()
    if lower.endswith(TAR_SUFFIXES):
        yield from _tar_members(file.path, counter, glob, exclude)
        return
    with open_file(file.path, counter) as stream:
        if lower.endswith(ZIP_SUFFIXES):
            yield from _zip_members(file.path, stream, glob, exclude)
        else:
            yield Source(file.path, decompressed(stream))


def _tar_members(path: str, counter: list[int], glob: str | None,
                 exclude: tuple[str, ...]) -> Iterator[Source]:
    """Wanted members of a tar archive: the fast reader, else ``tarfile`` from where it
    stopped (sparse or very large members)."""
    done, start = 0, counter[0]
    try:
        with open_file(path, counter) as stream:
            for name, data in tarstream.members(decompressed(stream)):
                if wanted(name, glob, exclude):
                    done += 1
                    yield Source(f"{path}:{name}", _bytes_stream(data))
        return
    except tarstream.Unsupported:
        pass
    counter[0] = start  # read again from the start, skipping the members already given
    with open_file(path, counter) as stream, tarfile.open(fileobj=stream, mode="r|*") as archive:
        for member in archive:
            if member.isfile() and wanted(member.name, glob, exclude):
                if done:
                    done -= 1
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    yield Source(f"{path}:{member.name}", decompressed(handle))


def _bytes_stream(data: bytes) -> BinaryIO:
    """A stream over an archive member's bytes, decompressed if they are gzip/bz2/xz."""
    found = compression_of(data)
    return found[1](io.BytesIO(data)) if found else io.BytesIO(data)


def _zip_members(path: str, stream: BinaryIO, glob: str | None,
                 exclude: tuple[str, ...]) -> Iterator[Source]:
    with zipfile.ZipFile(stream) as archive:
        for info in archive.infolist():
            if info.is_dir() or not wanted(info.filename, glob, exclude):
                continue
            name = f"{path}:{info.filename}"
            if info.flag_bits & 0x1:  # one member skipped, not the archive
                yield Source(name, io.BytesIO(), "encrypted zip member (needs a password); "
                                                 "extract it and pass the text")
                continue
            try:
                handle = archive.open(info)
            except NotImplementedError:  # a compression method Python's zipfile lacks
                yield Source(name, io.BytesIO(), "unsupported zip compression method; "
                                                 "re-pack the archive with deflate")
                continue
            with handle:
                yield Source(name, decompressed(handle))


# --- format sniffing and decoding ----------------------------------------------------------

_EXTENSIONS = {".xml": "xml", ".html": "html", ".htm": "html", ".xhtml": "html",
               ".sgm": "sgml", ".sgml": "sgml"}
_SNIFF = 4096

def detect_format(name: str, head: bytes, encoding: str = "latin-1") -> str:
    """The format of a file from its name (compression suffix removed) and first bytes."""
    base = strip_compression(name.rsplit(":", 1)[-1]).lower()
    fmt = _EXTENSIONS.get(os.path.splitext(base)[1])
    if fmt is None and head[:64].lstrip(b" \t\r\n\x00\xef\xbb\xbf\xfe\xff")[:1] != b"<":
        return "text"  # the common case, decided without decoding
    lower = head[:_SNIFF].decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n").lower()
    if fmt == "xml" or (fmt is None and lower.startswith("<?xml")):
        return "wiki" if "<mediawiki" in lower else "xml"
    if fmt:
        return fmt
    if lower.startswith("<mediawiki"):
        return "wiki"
    if lower.startswith("<!doctype html") or lower.startswith("<html"):
        return "html"
    if "<reuters" in lower:
        return "sgml"
    return "text"


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``head`` declares, if any."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


_replaced = [0]


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _replaced[0] += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("embedkit.count", _count_and_replace)


def check_encoding(encoding: str) -> str:
    """The canonical name of a text codec; :class:`LookupError` for an unknown one (or a
    bytes-to-bytes codec such as ``base64``)."""
    info = codecs.lookup(encoding)
    if not getattr(info, "_is_text_encoding", True):
        raise LookupError(f"{encoding} is not a text encoding")
    return info.name


def decoded_blocks(stream: BinaryIO, encoding: str, first: bytes = b"",
                   stats_replaced: list[int] | None = None) -> Iterator[str]:
    """Decode a byte stream block by block; undecodable bytes become U+FFFD and are counted.

    ``first`` is a block already read from the stream (used for sniffing). The number of
    replaced bytes is added to ``stats_replaced[0]``. A UTF-8 byte-order mark is dropped.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="embedkit.count")
    start = _replaced[0]
    block = first or stream.read(BLOCK)
    leading = True
    try:
        while block:
            text = decoder.decode(block)
            if leading and text:
                text = text.lstrip("\ufeff")
                leading = False
            if text:
                yield text
            block = stream.read(BLOCK)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
    finally:
        if stats_replaced is not None:
            stats_replaced[0] += _replaced[0] - start


_XML_DECLARATION = re.compile(
    r"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])([A-Za-z0-9._-]+)\2""")


def xml_declared_encoding(head: bytes) -> str | None:
    """The encoding an ASCII-compatible ``<?xml ... encoding="..."?>`` declaration names."""
    m = _XML_DECLARATION.match(head[:200].decode("latin-1"))
    if m is None:
        return None
    try:
        return check_encoding(m.group(3))
    except LookupError:
        return None


class Utf8Reader:
    """A byte stream of UTF-8 over decoded text blocks, for the XML parsers.

    XML is decoded by :func:`decoded_blocks` first (so undecodable bytes are replaced and
    counted like everywhere else, instead of stopping the parser), then re-encoded; the
    ``encoding`` of the XML declaration is rewritten to ``utf-8`` to match.
    """

    def __init__(self, blocks: Iterator[str]) -> None:
        self._blocks = blocks
        self._buffer = b""
        self._first = True

    def read(self, n: int = -1) -> bytes:
        while n is None or n < 0 or len(self._buffer) < n:
            block = next(self._blocks, None)
            if block is None:
                break
            if self._first:
                block = _XML_DECLARATION.sub(r'\1"utf-8"', block, count=1)
                self._first = False
            self._buffer += block.encode("utf-8")
        if n is None or n < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data
