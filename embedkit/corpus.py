"""Text files → documents → tokens, streaming: the ``corpus`` arrow of the data flow.

A :class:`Corpus` is a list of files (plain, ``.gz``/``.bz2``/``.xz``, tar and zip
archives, folders walked recursively) plus a :class:`CorpusConfig` saying how to cut them
into documents. It never holds the corpus in memory: every method is a generator that
reads blocks, and each call starts a fresh pass (so a corpus can be read once to count a
vocabulary and again to count co-occurrences).

Formats (``CorpusConfig.format``):

======================  ====================================================================
``text``                one document per file (files over ``block_bytes`` are cut at line
                        breaks into several documents); HTML leftovers (``<br />``) removed
``lines``               one document per non-blank line (gensim's ``LineSentence`` layout)
``paragraphs``          one document per blank-line separated paragraph
``html``                visible text of each file (stdlib ``HTMLParser``)
``sgml``                one document per ``<REUTERS>`` (or ``document_tag``) element; for
                        Reuters-21578 the ``<TITLE>`` and ``<BODY>`` text
``xml``                 one document per ``document_tag`` element, or per child of the root
``wiki``                MediaWiki XML dump: one document per article, redirects and
                        non-article namespaces skipped, markup removed with gensim's tools
``auto`` (default)      by extension (``.xml``, ``.html``/``.htm``, ``.sgm``/``.sgml``, after
                        removing ``.gz``/``.bz2``/``.xz``), else by content (``<?xml``,
                        ``<mediawiki``, ``<html``, ``<REUTERS``), else ``text``
======================  ====================================================================

Undecodable bytes are replaced by U+FFFD and counted (``stats.replaced_bytes``, one
warning per file). A binary file (NUL bytes in its first block) or an unreadable or
corrupt one is skipped with a warning naming it and listed in ``stats.skipped``; a missing
path raises :class:`~embedkit.errors.NotFoundError` at construction. Files found in
folders and archives named ``README*``, ``LICENSE*``, ``*.vocab``, ``urls_*.txt`` … (see
:data:`DEFAULT_EXCLUDE`) are skipped, so the IMDB tarballs give exactly their reviews.

Typical use (the builder)::

    corpus = Corpus(["aclImdb_v1_labelled.tar.gz"], CorpusConfig())
    for batch in corpus.token_batches(TokenizerConfig(), workers=2):
        for tokens in batch:          # list[str] per document, in corpus order
            ...
    corpus.stats.documents, corpus.stats.tokens, corpus.stats.skipped

``token_batches`` tokenises in a process pool (clean-up of markup leftovers, wiki markup
removal and sentence splitting happen in the workers too) and yields batches in corpus
order, identical to the serial :meth:`Corpus.token_documents`.

``Corpus.files`` lists the files on disk as :class:`~embedkit.sources.CorpusFile`
``(path, size, member=None)``, an archive being one entry (its members are counted in
``stats.members`` during a pass, so listing them needs no extra pass over a big archive).
XML and wiki dumps are decoded like text (byte-order mark, else the XML declaration,
else ``encoding``) before the parser sees them, so bad bytes are counted, not fatal.
``embedkit.shards`` subclasses :class:`Corpus` and reuses ``_pieces`` and
``_source_pieces``; keep their contracts.
"""

from __future__ import annotations

import logging
import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from typing import Any, BinaryIO

from embedkit import markup
from embedkit.errors import InputFormatError, UsageError
from embedkit.pieces import batched, chunks, ordered_map, split_piece, tokenize_pieces
from embedkit.sources import (
    BLOCK,
    CorpusFile,
    Source,
    Utf8Reader,
    bom_encoding,
    check_encoding,
    decoded_blocks,
    detect_format,
    expand_paths,
    sources,
    xml_declared_encoding,
)
from embedkit.tokens import TokenizerConfig
from embedkit.units import human_bytes

log = logging.getLogger("embedkit.corpus")

FORMATS = ("auto", "text", "lines", "paragraphs", "html", "sgml", "xml", "wiki")
DEFAULT_EXCLUDE = (".*", "README", "README.*", "LICENSE*", "COPYING*", "PROVENANCE*",
                   "*.vocab", "urls_*.txt", "imdbEr.txt", "*.feat", "*.dtd")
"""File-name patterns skipped in folders and archives (dataset metadata, not text)."""
_CONTROL = bytes(sorted(set(range(32)) - {9, 10, 12, 13})) + b"\x7f"


def _binary(head: bytes) -> bool:
    """NUL bytes, or more than 5% control bytes (text has none; random bytes ~13%)."""
    if b"\0" in head:
        return True
    return len(head) > 64 and len(head) - len(head.translate(None, _CONTROL)) > 0.05 * len(head)


@dataclass(frozen=True)
class CorpusConfig:
    """How files become documents (see the module docstring for the formats).

    Attributes
    ----------
    format : one of :data:`FORMATS` (default ``"auto"``).
    glob : pattern that files found in folders and archive members must match
        (matched from the right: ``"*.txt"``, ``"train/*/*.txt"``); None reads all.
    encoding : text encoding (default UTF-8); undecodable bytes are replaced and counted.
        A byte-order mark, and for XML the declared encoding, take precedence.
    sentences : yield one document per sentence (:func:`embedkit.tokens.split_sentences`).
    clean_markup : remove HTML tags and entities left in plain text (``<br />``).
    document_tag : SGML/XML element that delimits documents (SGML default ``REUTERS``).
    exclude : file-name patterns skipped in folders and archives.
    block_bytes : a ``text`` file longer than this is cut at line breaks into documents.
    """

    format: str = "auto"
    glob: str | None = None
    encoding: str = "utf-8"
    sentences: bool = False
    clean_markup: bool = True
    document_tag: str | None = None
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    block_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        for name in ("sentences", "clean_markup"):
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.format not in FORMATS:
            raise UsageError(f"unknown corpus format {self.format!r}; valid: {', '.join(FORMATS)}")
        try:
            check_encoding(self.encoding)
        except (LookupError, TypeError):
            raise UsageError(f"unknown encoding {self.encoding!r}; use a Python codec name "
                             "such as utf-8, latin-1 or cp1252") from None
        if self.glob is not None and (not isinstance(self.glob, str) or not self.glob.strip()):
            raise UsageError(f"glob must be a non-empty pattern such as '*.txt', got "
                             f"{self.glob!r}")
        if isinstance(self.exclude, str):
            object.__setattr__(self, "exclude", (self.exclude,))
        object.__setattr__(self, "exclude", tuple(self.exclude))
        if not isinstance(self.block_bytes, int) or self.block_bytes < 1024:
            raise UsageError(f"block_bytes must be an integer >= 1024, got {self.block_bytes!r}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exclude"] = list(self.exclude)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown corpus option(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(sorted(known))}")
        return cls(**data)


@dataclass
class CorpusStats:
    """What the last pass over a corpus read (reset at the start of each pass).

    ``input_bytes`` are bytes read from disk (compressed), ``text_bytes`` the bytes after
    decompression; ``documents`` counts non-empty documents yielded and ``tokens`` their
    tokens (token passes only); ``replaced_bytes`` counts undecodable bytes replaced by
    U+FFFD; ``skipped`` lists ``(name, reason)`` of files left out.
    """

    files: int = 0
    members: int = 0
    input_bytes: int = 0
    text_bytes: int = 0
    documents: int = 0
    tokens: int = 0
    replaced_bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def keys(self) -> list[str]:
        """Field names, so ``dict(stats)`` works like ``stats.to_dict()``."""
        return [f.name for f in fields(self)]

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)


class Corpus:
    """A restartable, streaming view of text files as documents and tokens.

    Parameters
    ----------
    paths : a path or a list of paths (files, folders, archives); str or PathLike.
    config : :class:`CorpusConfig` (default: auto-detected formats, UTF-8).

    Raises
    ------
    NotFoundError : a path that does not exist.
    """

    def __init__(self, paths: str | os.PathLike | Iterable[str | os.PathLike],
                 config: CorpusConfig = CorpusConfig()) -> None:
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise UsageError("no corpus paths given; name at least one file or folder")
        self.config = config
        self.files: list[CorpusFile] = expand_paths(self.paths, config.glob, config.exclude)
        self.stats = CorpusStats()
        self._tag_warned = False

    def __repr__(self) -> str:
        return (f"Corpus({len(self.files)} file(s), {self.total_bytes:,} bytes, "
                f"format={self.config.format!r})")

    @property
    def total_bytes(self) -> int:
        """Size on disk of all files (the total for a progress bar over ``stats.input_bytes``)."""
        return sum(f.size for f in self.files)

    # --- public passes ---------------------------------------------------------------------

    def documents(self) -> Iterator[str]:
        """The plain text of each document (or sentence, with ``sentences=True``), in order."""
        split = partial(split_piece, clean=self.config.clean_markup,
                        sentences=self.config.sentences)
        for mode, text in self._pieces():
            for doc in split(mode, text):
                self.stats.documents += 1
                yield doc

    def token_documents(self, tokenizer: TokenizerConfig = TokenizerConfig()
                        ) -> Iterator[list[str]]:
        """The tokens of each document, in order; documents without tokens are left out."""
        for batch in self.token_batches(tokenizer, workers=1):
            yield from batch

    def token_batches(self, tokenizer: TokenizerConfig = TokenizerConfig(),
                      batch_bytes: int = 4 << 20, workers: int | None = 2
                      ) -> Iterator[list[list[str]]]:
        """Batches of tokenised documents, tokenised in ``workers`` processes, in corpus order.

        Parameters
        ----------
        tokenizer : the tokenisation policy.
        batch_bytes : about this much text per batch (larger: less overhead, more memory).
        workers : processes that tokenise (None: one per core; 1: in this process).

        Yields
        ------
        list[list[str]] : the token lists of consecutive non-empty documents. The
        concatenation of all batches equals :meth:`token_documents` exactly.
        """
        if workers is None:
            workers = os.cpu_count() or 1
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise UsageError(f"workers must be a positive integer, got {workers!r}")
        if not isinstance(batch_bytes, int) or batch_bytes < 1:
            raise UsageError(f"batch_bytes must be a positive integer, got {batch_bytes!r}")
        job = partial(tokenize_pieces, tokenizer=tokenizer, clean=self.config.clean_markup,
                      sentences=self.config.sentences)
        batches = batched(self._pieces(), batch_bytes)
        results = map(job, batches) if workers == 1 else ordered_map(job, batches, workers)
        for joined in results:
            docs = [line.split(" ") for line in joined.split("\n")] if joined else []
            self.stats.documents += len(docs)
            self.stats.tokens += sum(map(len, docs))
            yield docs

    def token_stream(self, tokenizer: TokenizerConfig = TokenizerConfig(),
                     workers: int | None = 2) -> TokenStream:
        """A re-iterable of token lists (what gensim's ``Word2Vec(sentences=...)`` expects)."""
        return TokenStream(self, tokenizer, workers)

    def check_not_empty(self) -> None:
        """Raise :class:`InputFormatError` if the last pass found no documents, saying why."""
        if self.stats.documents:
            return
        why = "; ".join(f"{name}: {reason}" for name, reason in self.stats.skipped[:3])
        where = ", ".join(self.paths[:3]) + (" ..." if len(self.paths) > 3 else "")
        tag = self.config.document_tag
        if self.stats.text_bytes and tag:  # most likely no element of that name
            raise InputFormatError(
                f"no documents with words in {where}: is there a <{tag}> element "
                "(--document-tag)? Check the element name, else the tokeniser options")
        if self.stats.text_bytes:  # text was read: the tokeniser or the markup left nothing
            raise InputFormatError(
                f"no words in the {human_bytes(self.stats.text_bytes)} of text read from "
                f"{where} (only markup, spaces or punctuation, or every token dropped by "
                "the tokeniser options: --min-length, --numbers drop, ...); check them and "
                "--format")
        raise InputFormatError(
            f"no documents with words found in {where}"
            + (f" (skipped {why})" if why else "")
            + "; check the paths, --glob and --format")

    # --- reading ---------------------------------------------------------------------------

    def _pieces(self) -> Iterator[tuple[str, str]]:
        """(mode, text) pieces of all files; see :func:`split_piece` for the modes."""
        self.stats = stats = CorpusStats()
        counter = [0]
        for file in self.files:
            name, kept = file.path, 0
            try:
                for source in sources(file, self.config.glob, self.config.exclude, counter):
                    name, kept = source.name, 0
                    stats.members += source.name != file.path
                    for piece in self._source_pieces(source):
                        stats.input_bytes = counter[0]
                        kept += 1
                        yield piece
                stats.files += 1
            except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, lzma.LZMAError,
                    zlib.error, InputFormatError) as exc:
                self._fault(name, _reason(exc), kept)
            stats.input_bytes = counter[0]
        self._warn_unused_tag()

    def _warn_unused_tag(self) -> None:
        """Say once when a document tag was given but no file was read as XML or SGML."""
        if not self._tag_warned:
            self._tag_warned = warn_unused_tag(self.config.document_tag, self.stats.formats)

    def _fault(self, name: str, reason: str, kept: int) -> None:
        """A file that failed to read: skipped, or read in part when pieces of it were
        already used (streamed: they are in the counts)."""
        if not kept:
            self._skip(name, f"unreadable ({reason})")
            return
        self.stats.files += 1
        log.warning("%s: read only in part: %s; the text before that point was kept",
                    name, reason)
        self.stats.skipped.append((name, f"read in part ({reason})"))

    def _skip(self, name: str, reason: str) -> None:
        log.warning("skipping %s: %s", name, reason)
        self.stats.skipped.append((name, reason))

    def _source_pieces(self, source: Source) -> Iterator[tuple[str, str]]:
        if source.problem:
            self._skip(source.name, source.problem)
            return
        stream = _Tally(source.stream, self.stats)
        head = stream.read(BLOCK)
        encoding = bom_encoding(head) or self.config.encoding
        wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16",
                                                               "utf32"))
        if not wide and _binary(head[:8192]):
            self._skip(source.name, "binary file (NUL or control bytes); pass text files only")
            return
        fmt = self.config.format
        if fmt == "auto":
            fmt = detect_format(source.name, head,
                                encoding if encoding != self.config.encoding else "latin-1")
        self.stats.formats[fmt] = self.stats.formats.get(fmt, 0) + 1
        replaced = [0]
        try:
            if fmt in ("xml", "wiki"):
                encoding = bom_encoding(head) or xml_declared_encoding(head) or encoding
                xml = Utf8Reader(decoded_blocks(stream, encoding, head, replaced))
                if fmt == "xml":
                    docs = markup.xml_documents(xml, source.name, self.config.document_tag)
                    yield from (("doc", text) for text in docs)
                else:
                    yield from (("wiki", text) for text in markup.wiki_articles(xml, source.name))
            else:
                yield from self._text_pieces(fmt, stream, head, encoding, replaced)
            if stream.fault is not None:  # the text before the fault was used: say so
                raise stream.fault
        finally:
            if replaced[0]:
                self.stats.replaced_bytes += replaced[0]
                log.warning("%s: replaced %d undecodable byte(s) with U+FFFD; pass the right "
                            "--encoding (e.g. latin-1) if that is wrong", source.name, replaced[0])

    def _text_pieces(self, fmt: str, stream: _Tally, head: bytes, encoding: str,
                     replaced: list[int]) -> Iterator[tuple[str, str]]:
        if fmt == "text" and len(head) < min(BLOCK, self.config.block_bytes):  # a small file
            more = stream.read(1)
            if not more:
                try:
                    text = head.decode(encoding)
                except UnicodeDecodeError:
                    text = None  # decoded below, with the bad bytes counted
                if text is not None:
                    yield "text", text.lstrip("\ufeff")
                    return
            stream.unread(more)
        blocks = decoded_blocks(stream, encoding, head, replaced)
        if fmt == "html":
            yield "doc", markup.html_text(blocks)
        elif fmt == "sgml":
            for text in markup.sgml_documents(blocks, self.config.document_tag or "reuters"):
                yield "doc", text
        elif fmt == "text":
            for text in chunks(blocks, self.config.block_bytes, "\n"):
                yield "text", text
        else:  # lines, paragraphs: pieces of whole lines, split into documents later
            for text in chunks(blocks, BLOCK, "\n\n" if fmt == "paragraphs" else "\n"):
                yield fmt, text


def warn_unused_tag(tag: str | None, formats: Iterable[str]) -> bool:
    """Log that ``tag`` (``--document-tag``) was not used when no file was read as XML or
    SGML (``formats``: those the files were read as); True when it did."""
    formats = set(formats)
    if not tag or not formats or {"xml", "sgml"} & formats:
        return False
    log.warning("document tag <%s> (--document-tag) was not used: no file was read as XML "
                "or SGML (read as %s); give --format xml or sgml if they are", tag,
                ", ".join(sorted(formats)))
    return True


class TokenStream:
    """Re-iterable token lists of a corpus: each ``iter()`` is a fresh pass."""

    def __init__(self, corpus: Corpus, tokenizer: TokenizerConfig, workers: int | None) -> None:
        self.corpus, self.tokenizer, self.workers = corpus, tokenizer, workers

    def __iter__(self) -> Iterator[list[str]]:
        for batch in self.corpus.token_batches(self.tokenizer, workers=self.workers):
            yield from batch


class _Tally:
    """A read-only byte stream that counts ``text_bytes`` and can push back a block."""

    def __init__(self, stream: BinaryIO, stats: CorpusStats) -> None:
        self._stream = stream
        self._stats = stats
        self._pushed = b""
        self._fault: BaseException | None = None

    @property
    def fault(self) -> BaseException | None:
        """The error that ended the stream early, if one did."""
        return self._fault

    def unread(self, data: bytes) -> None:
        self._pushed = data + self._pushed
        self._stats.text_bytes -= len(data)

    def read(self, n: int = -1) -> bytes:
        if self._pushed:
            if n is None or n < 0:
                data, self._pushed = self._pushed + self._read(-1), b""
            else:
                data, self._pushed = self._pushed[:n], self._pushed[n:]
        else:
            data = self._read(n)
        self._stats.text_bytes += len(data)
        return data

    def _read(self, n: int) -> bytes:
        """Up to ``n`` bytes (all with n < 0) in small reads: a stream that breaks (a
        truncated .gz) gives what came before the fault and then ends; the reader raises
        :attr:`fault` once that text is used."""
        if self._fault is not None:
            return b""
        parts, size = [], 0
        try:
            while n < 0 or size < n:
                chunk = self._stream.read(_READ_STEP if n < 0 else min(_READ_STEP, n - size))
                if not chunk:
                    break
                parts.append(chunk)
                size += len(chunk)
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            if not parts:
                raise
            self._fault = exc
        return b"".join(parts)


_READ_STEP = 1 << 16


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
