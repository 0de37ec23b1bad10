"""Readers for labelled text: files in the usual layouts -> :class:`LabelledTexts`.

Layouts (``layout=`` / ``--format``):

``folders``
    One folder per class, optionally below split folders: aclImdb ``train/pos``,
    ``test/neg`` (``unsup`` ignored), 20 Newsgroups ``20news-bydate-train/<class>/``.
    A folder, or a ``.tar.gz``/``.tar``/``.zip`` archive read member by member (streamed,
    never extracted to disk).
``fasttext``
    ``__label__X [__label__Y ...] text`` lines (several labels = multi-label).
``label-first``
    ``label sentence`` lines (the Kim 2014 sentence sets: MR, SST, TREC, Subj, CR, MPQA).
``table``
    CSV or TSV with a text column and a label column (by header name or 0-based index).
    TSV cells are literal (no quoting); CSV follows RFC 4180 quoting.
``reuters``
    Reuters-21578 SGML (a folder of ``reut2-*.sgm[.gz]`` or one file): multi-label TOPICS,
    the ModApte split (LEWISSPLIT TRAIN/TEST with TOPICS="YES"); documents without topics
    are dropped, as usual.

Bytes that are not valid in the encoding are replaced (U+FFFD) and counted in
:attr:`LabelledTexts.replaced`; lines are split on ``\\n`` only (latin-1 ``\\x85`` is not a
line break).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import html
import logging
import os
import re
import tarfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from embedkit.classify.preprocess import listing
from embedkit.errors import InputFormatError, NotFoundError, UsageError
from embedkit.formats.detect import is_number

log = logging.getLogger("embedkit.classify")

LAYOUTS = ("auto", "folders", "fasttext", "label-first", "table", "reuters")
SPLITS = ("train", "validation", "test")
_SPLIT_NAMES = {
    "train": "train", "training": "train", "test": "test", "testing": "test",
    "dev": "validation", "val": "validation", "valid": "validation", "validation": "validation",
}
_IGNORED_CLASSES = {"unsup"}
_TEXT_NAMES = ("text", "sentence", "review", "content", "document", "body", "message", "tweet")
_LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "topic", "y")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_URLS = re.compile(r"urls_(.+)\.txt")
_REVIEW_ID = re.compile(r"(\d+)_")
_INTEGER = re.compile(r"[+-]?[0-9]+")  # a label-first file's integer labels: 1, -1, +1
_QUOTED = re.compile(r'"[^"]*"')


@dataclass
class LabelledTexts:
    """Texts with their labels (a tuple per text: one label, or several for multi-label).

    ``splits[i]`` is the split the source itself gives text ``i`` ("train", "validation",
    "test") or "" where it gives none. ``groups[i]`` names what text ``i`` is about where the
    source says (aclImdb: the film's URL), "" where it does not; drawn splits keep a group
    together. ``replaced`` counts texts with undecodable bytes.
    """

    texts: list[str]
    labels: list[tuple[str, ...]]
    splits: list[str]
    multi_label: bool = False
    source: str = ""
    layout: str = ""
    replaced: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    _tokens: dict[Any, list[list[str]]] = field(default_factory=dict, repr=False, compare=False)
    groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.groups:
            self.groups = [""] * len(self.texts)
        elif len(self.groups) != len(self.texts):
            raise ValueError(f"{len(self.groups)} groups for {len(self.texts)} texts")

    def tokens(self, config: Any) -> list[list[str]]:
        """Token lists of the texts under a ``TokenizerConfig`` (computed once per config,
        shared with subsets)."""
        if config not in self._tokens:
            from embedkit.tokens import tokenize

            self._tokens[config] = [tokenize(text, config) for text in self.texts]
        return self._tokens[config]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_names(self) -> list[str]:
        """Every label that occurs, sorted."""
        return sorted({lab for labs in self.labels for lab in labs})

    def has_split(self, name: str) -> bool:
        return name in self.splits

    def subset(self, ids: Sequence[int]) -> LabelledTexts:
        """The texts at ``ids``, in that order."""
        return LabelledTexts(
            [self.texts[i] for i in ids], [self.labels[i] for i in ids],
            [self.splits[i] for i in ids], self.multi_label, self.source, self.layout,
            self.replaced, dict(self.info),
            {config: [toks[i] for i in ids] for config, toks in self._tokens.items()},
            [self.groups[i] for i in ids],
        )

    def counts(self) -> dict[str, int]:
        """Texts per label."""
        return dict(sorted(Counter(lab for labs in self.labels for lab in labs).items()))

    @classmethod
    def concat(cls, parts: Sequence[LabelledTexts]) -> LabelledTexts:
        """The texts of ``parts`` one after another (token lists kept where all have them)."""
        first = parts[0]
        tokens = {c: [t for part in parts for t in part._tokens[c]] for c in first._tokens
                  if all(c in part._tokens for part in parts)}
        layouts = list(dict.fromkeys(part.layout for part in parts))
        return cls([t for part in parts for t in part.texts],
                   [lab for part in parts for lab in part.labels],
                   [s for part in parts for s in part.splits],
                   any(part.multi_label for part in parts),
                   ", ".join(dict.fromkeys(part.source for part in parts if part.source)),
                   "+".join(layouts), sum(part.replaced for part in parts),
                   {k: v for part in parts for k, v in part.info.items()}, tokens,
                   [g for part in parts for g in part.groups])


DataPath = str | os.PathLike | Sequence[str | os.PathLike]


def read_dataset(
    path: DataPath,
    layout: str = "auto",
    text_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    label_prefix: str = "__label__",
) -> LabelledTexts:
    """Read labelled texts from ``path`` in ``layout`` (``"auto"`` detects it).

    ``path`` may also be several files, read alike and joined in order; each file's name
    gives its split (``stsa.fine.train``, ``stsa.fine.dev``, ``stsa.fine.test``).
    Raises :class:`InputFormatError` naming the file and line for rows without a label, and
    when nothing labelled is found; rows with a label but no text are skipped (one warning).
    """
    options = {"layout": layout, "text_column": text_column, "label_column": label_column,
               "delimiter": delimiter, "encoding": encoding, "label_prefix": label_prefix}
    if not isinstance(path, (str, os.PathLike)):
        paths = [Path(p) for p in path]
        if len(paths) != 1:
            return _read_files(paths, options)
        path = paths[0]
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or folder")
    if layout not in LAYOUTS:
        raise UsageError(f"unknown dataset format {layout!r}; valid: {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = detect_layout(path)
    if layout == "folders":
        data = read_folders(path, encoding)
    elif layout == "reuters":
        data = read_reuters(path)
    elif layout == "table":
        data = read_table(path, text_column, label_column, delimiter, encoding)
    elif layout == "fasttext":
        data = read_fasttext(path, encoding, label_prefix)
    else:
        data = read_label_first(path, encoding)
    if not data.texts:
        raise InputFormatError(f"no labelled texts found (read as {layout!r}); check the file "
                               "or pass --format", path)
    if data.replaced:
        log.warning("%s: %d texts had bytes that are not valid %s; they were replaced "
                    "(pass --encoding latin-1 to read them as latin-1)",
                    path, data.replaced, encoding)
    data.source, data.layout = str(path), layout
    return data


def _read_files(paths: list[Path], options: dict[str, Any]) -> LabelledTexts:
    if not paths:
        raise UsageError("no data given: name a file, folder or archive of labelled texts")
    seen: dict[Path, Path] = {}
    for path in paths:
        if path.exists() and path.resolve() in seen:
            raise UsageError(f"{path} is given twice (as {seen[path.resolve()]} too): "
                             "name each data file once")
        seen[path.resolve()] = path
    return LabelledTexts.concat([read_dataset(path, **options) for path in paths])


# -- layout detection -----------------------------------------------------------------
def detect_layout(path: Path) -> str:
    """Guess the layout of ``path`` from its name and first lines."""
    if path.is_dir():
        return "reuters" if any(path.glob("reut2-*.sgm*")) else "folders"
    name = path.name.lower()
    if name.endswith((".sgm", ".sgm.gz")):
        return "reuters"
    if _is_archive(path):
        return "folders"
    if name.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz")):
        return "table"
    raw = _read_bytes(path).removeprefix(codecs.BOM_UTF8)
    lines = [ln for ln in raw.split(b"\n", 400)[:400] if ln.strip()]
    if not lines:
        raise InputFormatError("empty file: no labelled texts", path)
    first = lines[0].decode("utf-8", "replace").strip()
    if any(word.startswith("__label__") for word in first.split()):
        return "fasttext"
    if "\t" in first:
        return "table"
    if _looks_label_first([ln.split(None, 1)[0] for ln in lines]):
        return "label-first"
    raise InputFormatError(
        "cannot tell the layout of this file; pass --format "
        "(fasttext, label-first, table, folders or reuters)", path)


def _looks_label_first(heads: list[bytes]) -> bool:
    """First words that are labels: few distinct ones (or, in a short file, all integers)."""
    if any(len(h) > 40 for h in heads):
        return False
    distinct = set(heads)
    if all(_INTEGER.fullmatch(h.decode("latin-1")) for h in heads) and len(distinct) <= 50:
        return len(heads) < 50 or len(distinct) <= len(heads) // 2
    # words as labels must repeat: a short plain-text file ("a dull mess", "moving and
    # sharp") has as many first words as lines
    return len(distinct) < len(heads) and len(distinct) <= max(2, min(50, len(heads) // 2))


def _is_archive(path: Path) -> bool:
    if path.name.lower().endswith(".zip"):
        return zipfile.is_zipfile(path)
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, tarfile.TarError):
        return False


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _decode(raw: bytes, encoding: str) -> tuple[str, bool]:
    """Text of ``raw`` (a UTF-8 byte-order mark dropped); undecodable bytes are replaced and
    reported (second item)."""
    encoding = _without_bom(encoding)
    try:
        return raw.decode(encoding), False
    except UnicodeDecodeError:
        return raw.decode(encoding, errors="replace"), True


def _without_bom(encoding: str) -> str:
    """``utf-8-sig`` for UTF-8 (it drops a leading byte-order mark), else ``encoding``."""
    try:
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError:
        return encoding


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with 1-based line numbers, split on b'\\n' only."""
    for number, line in enumerate(_read_bytes(path).split(b"\n"), 1):
        if line.strip():
            yield number, line.rstrip(b"\r")


# -- folder per class -----------------------------------------------------------------
def read_folders(path: Path, encoding: str = "utf-8") -> LabelledTexts:
    """One folder per class (below optional train/test folders), in a folder or archive."""
    docs, url_lists, files = [], {}, 0
    for parts, raw in _iter_tree(path):
        files += 1
        if _class_of(parts):
            docs.append((parts, raw))
        elif _URLS.fullmatch(parts[-1]):  # aclImdb: urls_<class>.txt, line i = review i
            url_lists[(*parts[:-1], _URLS.fullmatch(parts[-1])[1])] = raw
    if not docs:
        found = f"{files} files, none inside" if files else "no files in"
        raise InputFormatError(
            f"no class folders: {found} a folder named after its class; lay the texts out "
            "as <class>/<file> (below train/ and test/ folders if split), or pass --format "
            "for a file of labelled lines", path)
    depth = Counter(len(parts) for parts, _ in docs).most_common(1)[0][0]
    texts, labels, splits, replaced, places = [], [], [], 0, []
    for parts, raw in docs:
        if len(parts) != depth:
            continue  # README, vocabularies and files beside the class folders
        text, bad = _decode(raw, encoding)
        texts.append(_BR.sub(" ", text))
        labels.append((parts[-2],))
        splits.append(next((_split_of(p) for p in parts[:-2] if _split_of(p)), ""))
        places.append(parts)
        replaced += bad
    return LabelledTexts(texts, labels, splits, replaced=replaced,
                         groups=_url_groups(places, url_lists))


def _url_groups(places: list[tuple[str, ...]], url_lists: dict[tuple[str, ...], bytes]
                ) -> list[str]:
    """The film of every review where aclImdb's ``urls_<class>.txt`` gives it (review file
    ``<id>_<rating>.txt`` is about the film on line ``id``), else ""."""
    if not url_lists:
        return []
    lines = {key: raw.decode("utf-8", "replace").splitlines() for key, raw in url_lists.items()}
    groups = []
    for parts in places:
        urls = lines.get(parts[:-1], [])
        match = _REVIEW_ID.match(parts[-1])
        index = int(match[1]) if match else len(urls)
        groups.append(urls[index].strip() if index < len(urls) else "")
    return groups


def _iter_tree(path: Path) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """(path parts, bytes) of every file in a folder, tar or zip archive (streamed)."""
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file():
                yield file.relative_to(path).parts, file.read_bytes()
    elif path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                if not member.is_dir():
                    yield PurePosixPath(member.filename).parts, archive.read(member)
    else:
        try:
            with tarfile.open(path, "r|*") as archive:
                for member in archive:
                    if member.isfile():
                        handle = archive.extractfile(member)
                        yield PurePosixPath(member.name).parts, handle.read() if handle else b""
        except (tarfile.TarError, EOFError, OSError) as err:
            raise InputFormatError(f"not a readable archive ({err})", path) from None


def _split_of(name: str) -> str:
    lower = name.lower()
    if lower in _SPLIT_NAMES:
        return _SPLIT_NAMES[lower]
    tail = re.split(r"[-_.]", lower)[-1]
    return _SPLIT_NAMES.get(tail, "") if tail != lower else ""


def _file_split(path: Path) -> str:
    """The split a file's name gives (``stsa.binary.dev``: validation), else ""."""
    return next((_split_of(p) for p in path.name.split(".") if _split_of(p)), "")


def _class_of(parts: tuple[str, ...]) -> str:
    if len(parts) < 2 or any(p.startswith(".") for p in parts):
        return ""
    name = parts[-2]
    return "" if name in _IGNORED_CLASSES or name.lower() in _SPLIT_NAMES else name


# -- line formats -----------------------------------------------------------------------
def read_fasttext(path: Path, encoding: str = "utf-8", prefix: str = "__label__") -> LabelledTexts:
    """``__label__X text`` lines; several labels make a multi-label set. As in fastText, a
    word with the prefix is a label wherever it stands in the line."""
    texts, labels, replaced = [], [], 0
    for number, raw in _lines(path):
        line, bad = _decode(raw, encoding)
        words = line.split()
        # a label written twice is one label (else one such line made the set multi-label)
        labs = list(dict.fromkeys(w[len(prefix):] for w in words if w.startswith(prefix)))
        tokens = [w for w in words if not w.startswith(prefix)]
        if not labs or not all(labs):
            raise InputFormatError(f"line has no {prefix}LABEL: {line[:60]!r}; every line "
                                   "needs one", path, number)
        if not tokens:
            raise InputFormatError("line has a label but no text", path, number)
        texts.append(" ".join(tokens))
        labels.append(tuple(labs))
        replaced += bad
    multi = any(len(labs) > 1 for labs in labels)
    return LabelledTexts(texts, labels, [_file_split(path)] * len(texts), multi, replaced=replaced)


def read_label_first(path: Path, encoding: str = "utf-8") -> LabelledTexts:
    """``label sentence`` lines (the label is the first whitespace-separated field)."""
    texts, labels, replaced, empty = [], [], 0, []
    numeric: bool | None = None
    for number, raw in _lines(path):
        line, bad = _decode(raw, encoding)
        fields = line.strip().split(None, 1)
        is_number = _INTEGER.fullmatch(fields[0]) is not None
        numeric = is_number if numeric is None else numeric
        if numeric and not is_number:
            raise InputFormatError(f"line has no label (expected an integer label first, got "
                                   f"{fields[0][:30]!r})", path, number)
        if len(fields) < 2:
            empty.append(number)
            continue
        labels.append((fields[0],))
        texts.append(fields[1])
        replaced += bad
    _warn_skipped(path, "lines", empty)
    _check_labels(path, labels, "the first words of the lines",
                  "this is not a label-first file; pass --format")
    return LabelledTexts(texts, labels, [_file_split(path)] * len(texts), replaced=replaced)


def read_table(
    path: Path,
    text_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> LabelledTexts:
    """CSV/TSV rows; columns by header name or 0-based index (guessed when not given).

    Tab-separated files are read literally (no quoting: every line is one row); other
    delimiters follow RFC 4180 quoting. Rows with a label but no text are skipped (one
    warning); a row without a label is an error.
    """
    text, replaced = _decode(_read_bytes(path), encoding)
    delimiter = delimiter or _guess_delimiter(path, text)
    rows = [(n, r) for n, r in _table_rows(path, text, delimiter) if any(c.strip() for c in r)]
    if not rows:
        return LabelledTexts([], [], [])
    _check_width(path, [r for _, r in rows], delimiter)
    text_idx, label_idx, header = _columns(path, [r for _, r in rows], text_column, label_column)
    texts, labels, empty = [], [], []
    width = len(header) if header else Counter(len(r) for _, r in rows).most_common(1)[0][0]
    for number, row in rows[1 if header else 0:]:
        _check_extra_cells(path, number, row, width, delimiter)
        label = row[label_idx].strip() if len(row) > label_idx else ""
        if not label:
            raise InputFormatError(f"row has no label ({_column_name(label_idx, header)}); "
                                   "every row needs one", path, number)
        if len(row) <= text_idx or not row[text_idx].strip():
            empty.append(number)
            continue
        texts.append(row[text_idx])
        labels.append((label,))
    _warn_skipped(path, "rows", empty)
    _check_labels(path, labels, f"the labels in {_column_name(label_idx, header)}",
                  "pass --label-column with the column that holds the labels, or --format")
    return LabelledTexts(texts, labels, [_file_split(path)] * len(texts), replaced=int(replaced))


def _check_extra_cells(path: Path, number: int, row: list[str], width: int,
                       delimiter: str) -> None:
    """A row with more non-empty cells than the table's columns: usually a text holding the
    delimiter without quotes, which would shift its label (``bad, dull film,neg``)."""
    if any(cell.strip() for cell in row[width:]):
        raise InputFormatError(
            f"row has {len(row)} cells where the table has {width} (split on {delimiter!r}); "
            "put a text that contains the delimiter in double quotes, or pass --delimiter",
            path, number)


def _guess_delimiter(path: Path, text: str) -> str:
    """Tab when the first line has one or the name says ``.tsv``; else ``;`` or ``|`` when
    each of the first lines holds it equally often and their commas vary (commas inside
    the texts of a semicolon table); else comma."""
    first = text.split("\n", 1)[0]
    if "\t" in first or path.name.lower().endswith((".tsv", ".tsv.gz")):
        return "\t"
    lines = [_QUOTED.sub("", line) for line in text.split("\n", 200)[:200] if line.strip()]

    def steady(char: str) -> bool:  # outside quoted cells
        counts = {line.count(char) for line in lines}
        return len(counts) == 1 and 0 not in counts

    return "," if steady(",") else next((c for c in ";|" if steady(c)), ",")


def _table_rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(1-based line where the row starts, cells) of every row.

    Tab-separated: literal fields, one line one row (TSV has no quoting). Otherwise csv
    quoting; a quoted cell left open to the end of the file is an :class:`InputFormatError`.
    """
    lines = text.split("\n")
    if delimiter == "\t":
        return [(n, line.rstrip("\r").split("\t")) for n, line in enumerate(lines, 1)]
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter, strict=True)
    rows, start = [], 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as err:
        raise _quoting_error(path, lines, start, reader.line_num, err, delimiter) from None
    return rows


def _quoting_error(path: Path, lines: list[str], start: int, at: int, err: csv.Error,
                   delimiter: str) -> InputFormatError:
    """The one-line error for a csv failure (runaway quote, bad quoting)."""
    snippet = lines[start - 1][:60] if start <= len(lines) else ""
    if "unexpected end of data" in str(err) or "field larger" in str(err):
        how = ("to the end of the file" if "end of data" in str(err) else
               f"past {csv.field_size_limit()} characters")
        return InputFormatError(
            f"a quoted cell in the row starting here is never closed: its opening \" runs "
            f"on {how} ({snippet!r}); close the quote, or write a quote inside a quoted "
            "cell as \"\"", path, start)
    return InputFormatError(
        f"bad CSV quoting ({err}): a cell that starts with \" must end with \" right before "
        f"the next {delimiter!r}, with inner quotes doubled (\"\")", path, at)


def _check_width(path: Path, rows: list[list[str]], delimiter: str) -> None:
    """A table needs two columns; one column everywhere means the wrong delimiter."""
    if max(len(r) for r in rows) >= 2:
        return
    seen = [c for c in ";|\t,:" if c != delimiter and c in rows[0][0]]
    hint = f" (the first line has {seen[0]!r}: try --delimiter {seen[0]!r})" if seen else ""
    raise InputFormatError(f"every row has one column when split on {delimiter!r}{hint}; "
                           "pass --delimiter with the character between the columns", path)


def _index(column: str | int | None) -> int | None:
    """A 0-based column index given as an int or digits, else None."""
    if isinstance(column, int):
        return column
    return int(column) if column is not None and str(column).isdigit() else None


def _column_name(index: int, header: list[str] | None) -> str:
    """A column as the options take it: its header name (when there is one) and index."""
    name = header[index].strip() if header and index < len(header) else ""
    return f"column {name!r} (index {index})" if name else f"column index {index}"


def _columns(path: Path, rows: list[list[str]], text_column: str | int | None,
             label_column: str | int | None) -> tuple[int, int, list[str] | None]:
    """(text index, label index, header row or None) for a table."""
    width = max(len(r) for r in rows)
    text_idx, label_idx = _index(text_column), _index(label_column)
    for option, index in (("--text-column", text_idx), ("--label-column", label_idx)):
        if index is not None and index >= width:
            raise UsageError(f"{path}: the table has {width} columns (0-based indexes 0 to "
                             f"{width - 1}); {option} {index} does not exist")
    names = [c.strip().lower() for c in rows[0]]
    if text_idx is not None and label_idx is not None:
        header = rows[0] if _first_row_is_header(path, rows, text_idx, label_idx) else None
    else:
        named = any(c is not None and _index(c) is None for c in (text_column, label_column))
        known = any(n in _TEXT_NAMES + _LABEL_NAMES for n in names)
        header = rows[0] if named or known else None
        if header is None and text_column is None and label_column is None and width == 2:
            return _guess_two_columns(path, rows)
        # of two columns, one found (named, or a known name) makes the other the second
        pair = width == 2
        text_idx = _find_column(path, names, text_column, _TEXT_NAMES, "text", pair)
        label_idx = _find_column(path, names, label_column, _LABEL_NAMES, "label", pair)
        if text_idx is None or label_idx is None:
            if text_idx is None and label_idx is None:
                _find_column(path, names, text_column, _TEXT_NAMES, "text")  # the error
            text_idx, label_idx = (1 - label_idx, label_idx) if text_idx is None else \
                (text_idx, 1 - text_idx)
            if header is None and _first_row_is_header(path, rows, text_idx, label_idx):
                header = rows[0]
    if text_idx == label_idx:
        column = _column_name(text_idx, header)
        raise UsageError(f"{path}: the text and the labels are both {column}; pass "
                         "--text-column and --label-column with two different columns")
    return text_idx, label_idx, header


def _guess_two_columns(path: Path, rows: list[list[str]]) -> tuple[int, int, list[str] | None]:
    """(text index, label index, header or None) of a two-column table without known column
    names: the longer cells are the texts; the first row is a header on strong evidence."""
    mean = [sum(len(r[i]) for r in rows[:200] if len(r) == 2) for i in (0, 1)]
    text_idx, label_idx = (1, 0) if mean[1] > mean[0] else (0, 1)
    header = rows[0] if _first_row_is_header(path, rows, text_idx, label_idx) else None
    return text_idx, label_idx, header


def _find_column(path: Path, names: list[str], column: str | int | None,
                 guesses: tuple[str, ...], what: str, optional: bool = False) -> int | None:
    """The index of ``column`` (a header name or index), or the first of ``guesses``
    (None when no guess fits and ``optional``)."""
    if _index(column) is not None:
        return _index(column)
    if column is None:
        hit = next((names.index(n) for n in guesses if n in names), None)
        if hit is None and not optional:
            raise UsageError(f"{path}: cannot tell which column holds the {what}; pass "
                             f"--{what}-column NAME or a 0-based index")
        return hit
    if str(column).lower() not in names:
        raise UsageError(f"{path}: no column named {column!r}; columns: {listing(names)}")
    return names.index(str(column).lower())


def _first_row_is_header(path: Path, rows: list[list[str]], text_idx: int,
                         label_idx: int) -> bool:
    """Whether the first row of a table whose columns are given by index is a header.

    Only on strong evidence: its label cell is none of the labels of the rows below, and
    it holds a known column name, or is not a number where every label below is one, or its
    text cell is a short name (at most 3 words) where the texts below are longer. A first
    row kept as data although its label occurs nowhere else is warned about.
    """
    first, below = rows[0], rows[1:1001]
    if len(first) <= max(text_idx, label_idx) or not below:
        return False
    label = first[label_idx].strip()
    labels = {r[label_idx].strip() for r in below if len(r) > label_idx} - {""}
    if label in labels:
        return False
    if any(c.strip().lower() in _TEXT_NAMES + _LABEL_NAMES for c in first):
        return True
    if labels and all(is_number(lab) for lab in labels):
        return not is_number(label)
    words = sorted(len(r[text_idx].split()) for r in below if len(r) > text_idx)
    if len(first[text_idx].split()) <= 3 and words and words[len(words) // 2] > 3:
        return True
    log.warning("%s: line 1 is read as data, though its label %r occurs in no other row; if "
                "it is a header, pass --text-column and --label-column by name", path, label)
    return False


def _warn_skipped(path: Path, what: str, numbers: list[int]) -> None:
    """One warning for the ``what`` (lines, rows) skipped for having a label but no text."""
    if numbers:
        log.warning("%s: skipped %d %s with a label but no text (first: line %d)",
                    path, len(numbers), what, numbers[0])


def _check_labels(path: Path, labels: list[tuple[str, ...]], where: str, fix: str) -> None:
    """Refuse labels that look like text: 50+ texts, nearly each (90%) with a label of its
    own (a small set with many classes, e.g. 100 intents in 150 texts, still passes)."""
    distinct = sorted({lab for labs in labels for lab in labs})
    if len(labels) >= 50 and len(distinct) > 0.9 * len(labels):
        raise InputFormatError(
            f"{where} look like text: {len(distinct)} distinct labels for "
            f"{len(labels)} texts ({listing(distinct, repr)}); {fix}", path)


# -- Reuters-21578 ----------------------------------------------------------------------
_REUTERS = re.compile(r"<REUTERS([^>]*)>(.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_TOPICS = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.S)
_D = re.compile(r"<D>(.*?)</D>", re.S)
_TEXT = re.compile(r"<TEXT[^>]*>(.*?)</TEXT>", re.S)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_TAG = re.compile(r"<[^>]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LEWIS = {"TRAIN": "train", "TEST": "test"}


def read_reuters(path: Path) -> LabelledTexts:
    """Reuters-21578 ModApte: LEWISSPLIT TRAIN/TEST with TOPICS="YES", multi-label topics.

    ``info`` records the ModApte counts before and after dropping documents without topics.
    The SGML is latin-1 (``reut2-017`` holds non-UTF-8 bytes), so nothing is replaced.
    """
    files = sorted(path.glob("reut2-*.sgm*")) if path.is_dir() else [path]
    texts, labels, splits = [], [], []
    info = Counter()
    for file in files:
        for attrs, inner in _REUTERS.findall(_read_bytes(file).decode("latin-1")):
            attr = dict(_ATTR.findall(attrs))
            split = _LEWIS.get(attr.get("LEWISSPLIT", ""))
            if split is None or attr.get("TOPICS") != "YES":
                continue
            info[f"modapte_{split}"] += 1
            topics = tuple(_D.findall(m.group(1))) if (m := _TOPICS.search(inner)) else ()
            if not topics:
                info[f"no_topics_{split}"] += 1
                continue
            texts.append(_reuters_text(inner))
            labels.append(topics)
            splits.append(split)
    return LabelledTexts(texts, labels, splits, multi_label=True, info=dict(info))


def _reuters_text(inner: str) -> str:
    match = _TEXT.search(inner)
    body = match.group(1) if match else ""
    title = _TITLE.search(body)
    main = _BODY.search(body)
    text = (title.group(1) + "\n" if title else "") + (main.group(1) if main else "")
    if not main:
        text = _TAG.sub(" ", body)
    return _CONTROL.sub(" ", html.unescape(text)).strip()
