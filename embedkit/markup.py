"""Markup → plain text: the text-extraction step between reading files and tokenising.

Each extractor streams: it takes decoded text blocks (or a binary stream for XML) and
yields one plain-text string per document, so a big file never sits whole in memory.
The parsers are well-kept ones, not home-made regular expressions:

* HTML and SGML (Reuters-21578): the standard library's :class:`html.parser.HTMLParser`,
  which tolerates unquoted attributes, missing root elements and stray ``<!DOCTYPE>``
  lines; character references (``&amp;``, ``&#3;``) are decoded by the parser.
* XML: :func:`xml.etree.ElementTree.iterparse` (streaming; it honours the encoding the
  file declares).
* Wikipedia dumps: gensim's ``extract_pages`` and ``filter_wiki`` (imported lazily).

:func:`clean_leftovers` removes HTML tags left inside *plain* text (the ``<br />`` in
IMDB reviews) and decodes entities; that one is a small regular expression on purpose: it
only removes things that look exactly like tags, and parsing every plain-text document
with a full HTML parser would cost more than the tokenising itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import BinaryIO
from xml.etree.ElementTree import ParseError, iterparse

from embedkit.errors import InputFormatError

_LINE_BREAK_TAG = re.compile(r"<(?:br|p|/p|div|/div|li|hr)\b[^<>]{0,200}>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]{0,30}(?:\s[^<>]{0,500})?/?>")

SGML_TEXT_TAGS = {"reuters": ("title", "body", "text")}
"""Document tags whose text comes only from text directly inside a few inner elements:
for Reuters-21578 the ``<TITLE>`` and ``<BODY>``, and the bare ``<TEXT>`` of the
``TYPE="UNPROC"`` stories that have neither (never ``<DATE>``, ``<TOPICS>``, ``<DATELINE>``)."""

_BLOCK_TAGS = frozenset([
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "title", "tr", "ul",
])
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template", "svg"))
_REDIRECT = "#redirect"


def clean_leftovers(text: str) -> str:
    """Remove HTML tags left in plain text and decode entities.

    ``<br />``, ``<p>`` and similar block tags become a line break, any other tag a space;
    ``&amp;``, ``&#39;`` … are decoded. Text without ``<`` or ``&`` is returned unchanged
    (the check is a C-level scan).
    """
    if "<" in text:
        text = _TAG.sub(" ", _LINE_BREAK_TAG.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    return text


class _HTMLText(HTMLParser):
    """Collects the visible text of an HTML page, one line per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(blocks: Iterable[str]) -> str:
    """The visible text of one HTML document given as decoded blocks."""
    parser = _HTMLText()
    for block in blocks:
        parser.feed(block)
    parser.close()
    return "".join(parser.parts)


class _SGMLDocuments(HTMLParser):
    """Splits SGML into documents at ``document_tag``; keeps text whose innermost open
    element is one of ``text_tags`` (all text in the document when ``text_tags`` is None)."""

    def __init__(self, document_tag: str, text_tags: tuple[str, ...] | None) -> None:
        super().__init__(convert_charrefs=True)
        self.document_tag = document_tag.lower()
        self.text_tags = text_tags
        self.done: list[str] = []
        self._parts: list[str] | None = None  # None: outside a document
        self._open: list[str] = []  # elements open inside the current document

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == self.document_tag:
            self._parts, self._open = [], []
        elif self._parts is not None:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass  # <BR/> and friends hold no text

    def handle_endtag(self, tag: str) -> None:
        if self._parts is None:
            return
        if tag == self.document_tag:
            self.done.append("".join(self._parts).strip())
            self._parts = None
        elif tag in self._open:  # tolerate unclosed inner elements
            while self._open.pop() != tag:
                pass
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._parts is None:
            return
        if self.text_tags is None or (self._open and self._open[-1] in self.text_tags):
            self._parts.append(data)


def sgml_documents(blocks: Iterable[str], document_tag: str = "reuters") -> Iterator[str]:
    """One plain-text string per ``<document_tag>`` element of SGML given as text blocks.

    For Reuters-21578 (``document_tag="reuters"``) the text is the ``<TITLE>`` and the
    ``<BODY>`` (see :data:`SGML_TEXT_TAGS`); for other tags, all text inside the element.
    """
    parser = _SGMLDocuments(document_tag, SGML_TEXT_TAGS.get(document_tag.lower()))
    for block in blocks:
        parser.feed(block)
        yield from parser.done
        parser.done.clear()
    parser.close()
    yield from parser.done


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_documents(stream: BinaryIO, name: str, document_tag: str | None = None) -> Iterator[str]:
    """One plain-text string per document element of an XML stream.

    Documents are the elements named ``document_tag`` (namespace ignored), or, when it is
    None, the children of the root element; text directly inside the root (outside every
    child: all of ``<text>...</text>``, or the tails in ``<doc><title>T</title>body</doc>``)
    is one more document, the last. Text pieces are joined with spaces. A file that is not
    well-formed raises :class:`InputFormatError` naming ``name`` and the line.
    """
    depth = 0  # depth of the current element: the root is 0
    inside = 0  # > 0 while inside a document element
    root = previous = None  # the root; the last child of the root that ended
    loose: list[str] = []  # the root's own text (its text, the children's tails)
    try:
        for event, elem in iterparse(stream, events=("start", "end")):
            if event == "end":
                depth -= 1
            is_doc = _local(elem.tag) == document_tag if document_tag else depth == 1
            if event == "start":
                if root is None:
                    root = elem
                depth += 1
                inside += is_doc
                continue
            if not document_tag and (is_doc or elem is root):
                # the root's text before this element is complete now: keep it, and free
                # the child before (the root would otherwise hold every document)
                before = root.text if previous is None else previous.tail
                if before and not before.isspace():
                    loose.append(before.strip())
                if previous is not None:
                    root.remove(previous)
                previous = elem
            if elem is root and not document_tag:
                if loose:
                    yield " ".join(loose)
                continue
            if is_doc:
                inside -= 1
                text = " ".join(t.strip() for t in elem.itertext() if t.strip())
                tail = elem.tail
                elem.clear()
                elem.tail = tail
                if text:
                    yield text
            elif not inside:
                elem.clear()
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputFormatError(f"not well-formed XML ({exc}); fix the file or read it with "
                               "--format text", name, line) from None


def wiki_articles(stream: BinaryIO, name: str) -> Iterator[str]:
    """Raw wiki markup of each article (main namespace, redirects skipped) of a MediaWiki dump.

    Pass each result through :func:`wiki_text` to get plain text (that step is the
    expensive one, so the corpus reader runs it in its worker processes).
    """
    from gensim.corpora.wikicorpus import extract_pages

    try:
        for _title, text, _pageid in extract_pages(stream, filter_articles=_is_article):
            if text and not text.lstrip()[:9].lower().startswith(_REDIRECT):
                yield text
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputFormatError(f"not a well-formed MediaWiki XML dump ({exc})", name,
                               line) from None


_WIKI_EMPHASIS = re.compile(r"'{2,}")
_WIKI_LINE_MARKS = re.compile(r"^[ \t]*(?:=+|[*#:;]+)[ \t]*|[ \t]*=+[ \t]*$", re.MULTILINE)
_WIKI_GALLERY = re.compile(
    r"^[^|\n]{1,240}\.(?:jpe?g|png|gif|svg|tiff?|ogg|ogv|oga|webm|pdf|djvu)[ \t]*\|",
    re.IGNORECASE | re.MULTILINE)


def _is_article(elem, ns_path: str, **_: object) -> bool:
    """Main-namespace pages (dumps without ``<ns>`` elements keep every page)."""
    ns = elem.find(ns_path)
    return ns is None or (ns.text or "0").strip() == "0"


def wiki_text(markup: str) -> str:
    """Plain text of one article's wiki markup.

    gensim's ``filter_wiki`` removes templates, links, tables, references and tags; what it
    leaves for its tokenizer to drop is removed here too: ``''``/``'''`` emphasis, heading
    ``==`` and list ``*``/``#`` marks at line starts, and gallery lines' file names
    (``File.jpg|caption`` keeps the caption).
    """
    from gensim.corpora.wikicorpus import filter_wiki

    text = filter_wiki(markup)
    text = _WIKI_GALLERY.sub("", text)
    text = _WIKI_LINE_MARKS.sub("", text)
    return _WIKI_EMPHASIS.sub("", text).strip()
