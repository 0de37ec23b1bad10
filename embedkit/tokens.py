"""Text → tokens: pure, Unicode-aware tokenisers and a rule-based sentence splitter.

This is the ``corpus ─► tokens`` arrow. Input is a decoded document (``str``), output a
``list[str]``; nothing here reads files or holds state. Each tokeniser is one compiled
regular expression run over the whole document with ``findall`` (C speed), plus a few
whole-string passes (``lower``, ``replace``, ``sub``) chosen by :class:`TokenizerConfig`.

Policy (the same for every option combination):

* **Words** are runs of letters, digits and combining marks of any script (``\\w`` plus
  Unicode marks, so Devanagari or decomposed accents stay inside their word) that start
  with a letter or digit (a lone variation selector after an emoji is no word). Text is
  NFC-normalised first, so a decomposed ``cafe\\u0301`` and ``café`` are one word. The
  underscore is a separator (``snake_case`` → ``snake``, ``case``; Gutenberg ``_emphasis_``
  → ``emphasis``).
* **Apostrophes** inside a word keep the word whole: ``don't``, ``o'clock``,
  ``rock'n'roll``. The typographic apostrophe ``’`` is normalised to ``'`` first, so
  ``don’t`` == ``don't``. Leading and trailing apostrophes (quotes, ``dogs'``) are not
  part of the word. ``apostrophes="split"`` splits at them instead, as French or Italian
  elisions want (``l'été`` → ``l``, ``été``; ``don't`` → ``don``, ``t``).
* **Hyphens**: ``hyphens="split"`` (default) splits ``well-known`` into ``well``,
  ``known`` (the usual choice for count-based embeddings: the parts are frequent words);
  ``hyphens="keep"`` keeps ``well-known`` as one token.
* **Numbers** are digit runs with inner ``.``/``,``/``:`` separators (``3.14``, ``1,000``,
  ``12:30``), and plain digit runs that are not part of a word (``2nd``, ``mp3``, ``80's``
  are words). A separated number ends where letters start: ``3.5x`` → ``3.5``, ``x``.
  ``numbers="keep"`` keeps them, ``"drop"`` removes them, ``"replace"`` turns each into
  the token :data:`NUM_TOKEN` (``<num>``).
* **Punctuation**: ``punctuation="drop"`` (default) or ``"keep"``: every other
  non-space character becomes its own token, except ``...`` and ``--`` runs, which are
  one token each.
* ``lowercase`` lower-cases the whole text first; ``strip_accents`` removes Latin, Greek
  and Cyrillic diacritics (NFKD, drop U+0300–U+036F and the other combining-diacritic
  blocks, NFC) so ``café`` → ``cafe``; the marks that Indic scripts need are kept.
* ``min_length`` drops shorter tokens (``<num>`` is always kept).
* Scripts written without spaces (Chinese, Japanese, Thai) are not segmented into words:
  a run of such letters is one token. Segment them beforehand if that matters.

Example::

    >>> tokenize("Don’t pay $1,000 for a well-known café!")
    ["don't", 'pay', '1,000', 'for', 'a', 'well', 'known', 'café']
    >>> tokenize("Don’t pay $1,000!", TokenizerConfig(numbers="replace", punctuation="keep"))
    ["don't", 'pay', '$', '<num>', '!']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

from embedkit.errors import UsageError

NUM_TOKEN = "<num>"
"""The token that replaces numbers when ``numbers="replace"``."""

NUMBERS_CHOICES = ("keep", "drop", "replace")
PUNCTUATION_CHOICES = ("drop", "keep")
HYPHENS_CHOICES = ("split", "keep")
APOSTROPHES_CHOICES = ("keep", "split")


def _mark_class() -> str:
    """A regex character-class body holding every combining mark (Mn, Mc, Me)."""
    ranges: list[list[int]] = []
    for code in range(0x30000):
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    out = []
    for lo, hi in ranges:
        out.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "".join(out)


_MARKS = _mark_class()
_HAS_MARK = re.compile(f"[{_MARKS}]")
_NUM_SEPARATED = r"\d+(?:[.,:]\d+)+"
_APOS = "'"
_HYPHEN = "\\-\u2010\u2011"  # escaped: it goes inside a character class
_DIACRITICS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_PUNCT = r"\.{2,}|…|-{2,}|[^\w\s]"


@dataclass(frozen=True)
class TokenizerConfig:
    """How text becomes tokens; see the module docstring for the exact policy.

    Attributes
    ----------
    lowercase : lower-case the text first (default True).
    numbers : ``"keep"`` | ``"drop"`` | ``"replace"`` (each number → ``<num>``).
    punctuation : ``"drop"`` | ``"keep"`` (each mark its own token).
    min_length : drop tokens shorter than this many characters (``<num>`` is kept).
    strip_accents : remove diacritics (``café`` → ``cafe``).
    hyphens : ``"split"`` (``well-known`` → ``well``, ``known``) | ``"keep"``.
    apostrophes : ``"keep"`` (``don't`` is one word) | ``"split"`` (``l'été`` → ``l``,
        ``été``).
    """

    lowercase: bool = True
    numbers: str = "keep"
    punctuation: str = "drop"
    min_length: int = 1
    strip_accents: bool = False
    hyphens: str = "split"
    apostrophes: str = "keep"

    def __post_init__(self) -> None:
        for name in ("lowercase", "strip_accents"):
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"{name} must be true or false, got {getattr(self, name)!r}")
        _check_choice("numbers", self.numbers, NUMBERS_CHOICES)
        _check_choice("punctuation", self.punctuation, PUNCTUATION_CHOICES)
        _check_choice("hyphens", self.hyphens, HYPHENS_CHOICES)
        _check_choice("apostrophes", self.apostrophes, APOSTROPHES_CHOICES)
        if isinstance(self.min_length, bool) or not isinstance(self.min_length, int) \
                or self.min_length < 1:
            raise UsageError(f"min_length must be an integer >= 1, got {self.min_length!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stored next to built vectors)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`UsageError`."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown tokenizer option(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(sorted(known))}")
        return cls(**data)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"unknown {name} option {value!r}; valid: {', '.join(choices)}")


class _Patterns:
    """The compiled patterns of one configuration, in three equivalent speeds.

    Combining marks make the word class several times slower to match, so texts are
    matched with the cheapest pattern that is exact for them: ASCII texts with an
    ASCII-only pattern, texts without combining marks with plain ``\\w``, others with the
    full class. On the texts each is used for, the three give identical tokens.
    """

    def __init__(self, config: TokenizerConfig) -> None:
        self.ascii = self._compile(config, r"\w", re.ASCII)
        self.plain = self._compile(config, r"\w", 0)
        self.marks = self._compile(config, rf"[\w{_MARKS}]", 0)

    @staticmethod
    def _compile(config: TokenizerConfig, w: str, flags: int
                 ) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
        joiners = (_APOS if config.apostrophes == "keep" else "") + \
            (_HYPHEN if config.hyphens == "keep" else "")
        # a word (and each part after a joiner) starts with a letter or digit: a mark alone
        # (the U+FE0F after an emoji) is no word
        word = rf"\w{w}*(?:[{joiners}]\w{w}*)*" if joiners else rf"\w{w}*"
        not_before = rf"(?!{w}|[{joiners}]{w})" if joiners else rf"(?!{w})"
        not_after = rf"(?<!{w})(?<!{w}[{joiners}])" if joiners else rf"(?<!{w})"
        number = rf"{_NUM_SEPARATED}|\d+{not_before}"
        # a plain digit run is matched by ``word`` exactly as by ``number``: leave it out
        alternatives = [_NUM_SEPARATED, word]
        if config.numbers == "replace":
            alternatives.insert(0, re.escape(NUM_TOKEN))
        if config.punctuation == "keep":
            alternatives.append(_PUNCT)
        token = re.compile("|".join(alternatives), flags)
        standalone = None
        if config.numbers != "keep":
            standalone = re.compile(rf"{not_after}(?:{number})", flags)
        return token, standalone

    def for_text(self, text: str) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
        if text.isascii():
            return self.ascii
        return self.marks if _HAS_MARK.search(text) else self.plain


@lru_cache(maxsize=32)
def _patterns(config: TokenizerConfig) -> _Patterns:
    return _Patterns(config)


def tokenize(text: str, config: TokenizerConfig = TokenizerConfig()) -> list[str]:
    """Split ``text`` into tokens according to ``config``.

    Parameters
    ----------
    text : a whole document (any length; the work is a few C-level passes over it).
    config : the policy; the default lower-cases and keeps words and numbers.

    Returns
    -------
    list[str] : the tokens in text order; none contains whitespace.
    """
    text = normalize(text, config)
    token_re, number_re = _patterns(config).for_text(text)
    if number_re is not None:
        text = number_re.sub(" " if config.numbers == "drop" else f" {NUM_TOKEN} ", text)
    tokens = token_re.findall(text)
    if config.min_length > 1:
        n = config.min_length
        tokens = [t for t in tokens if len(t) >= n or t == NUM_TOKEN]
    return tokens


def normalize(text: str, config: TokenizerConfig = TokenizerConfig()) -> str:
    """The whole-text passes that :func:`tokenize` applies before matching."""
    if config.strip_accents:
        decomposed = unicodedata.normalize("NFKD", text)
        text = unicodedata.normalize("NFC", _DIACRITICS.sub("", decomposed))
    elif not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)  # "cafe\u0301" and "café": one word
    if config.lowercase:
        text = text.lower()
    if "_" in text:
        text = text.replace("_", " ")
    if "\u2019" in text:
        text = text.replace("\u2019", "'")
    return text


# --- sentences ------------------------------------------------------------------------------

ABBREVIATIONS = frozenset([
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "rev", "lt", "sgt", "capt",
    "cpt", "hon", "gov", "sen", "rep", "pres", "messrs", "mme", "mlle", "vs", "etc", "eg",
    "e.g", "ie", "i.e", "cf", "al", "approx", "dept", "fig", "nos", "vol", "vols", "pp", "p",
    "ch", "inc", "ltd", "co", "corp", "bros", "jan", "feb", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "a.m", "p.m", "ph.d",
])
"""Words that a period after them does not end a sentence (lower case, without the final dot)."""

_CANDIDATE = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n[ \t]*\n\s*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_OPENERS = "\"'“‘«([¿¡"
_LAST_WORD = re.compile(r"([\w.]+)\.$")


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences with simple, predictable rules.

    A sentence ends at a blank line, or at ``.``, ``!``, ``?`` or ``…`` (optionally
    followed by closing quotes or brackets) followed by whitespace and then an upper-case
    letter or a digit (opening quotes allowed before it). A single ``.`` after a known
    abbreviation (:data:`ABBREVIATIONS`: ``Mr.``, ``e.g.``, ``Jan.`` …) or after a single
    capital letter (an initial, ``J. Smith``) does not end one. Sentences are stripped of
    surrounding whitespace; empty ones are left out.
    """
    sentences: list[str] = []
    start = 0
    for m in _CANDIDATE.finditer(text):
        if not _BLANK_LINE.search(m.group(0)) and not _is_boundary(text, m):
            continue
        piece = text[start:m.end()].strip()
        if piece:
            sentences.append(piece)
        start = m.end()
    piece = text[start:].strip()
    if piece:
        sentences.append(piece)
    return sentences


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    nxt = m.end()
    while nxt < len(text) and text[nxt] in _OPENERS:
        nxt += 1
    if nxt >= len(text) or not (text[nxt].isupper() or text[nxt].isdigit()):
        return False
    mark = m.group(0).rstrip()
    if mark.rstrip("\"'”’»)]") != ".":
        return True  # "!", "?", "..." and closing quotes after them
    word = _LAST_WORD.search(text, max(0, m.start() - 40), m.start() + 1)
    if word is None:
        return True
    w = word.group(1)
    return not (w.lower() in ABBREVIATIONS or (len(w) == 1 and w.isupper()))


__all__ = [
    "ABBREVIATIONS", "HYPHENS_CHOICES", "NUMBERS_CHOICES", "NUM_TOKEN", "PUNCTUATION_CHOICES",
    "TokenizerConfig", "normalize", "split_sentences", "tokenize",
]
