"""Tokenisation and sentence splitting against hand-checked examples and real text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedkit.errors import UsageError
from embedkit.tokens import (
    NUM_TOKEN,
    TokenizerConfig,
    _patterns,
    normalize,
    split_sentences,
    tokenize,
)

TEXT = "Don’t pay $1,000 for a well-known Café in 2024 -- it's 3.5x the price... OK?"


@pytest.mark.parametrize("options, expected", [
    ({}, ["don't", "pay", "1,000", "for", "a", "well", "known", "café", "in", "2024",
          "it's", "3.5", "x", "the", "price", "ok"]),
    ({"lowercase": False}, ["Don't", "pay", "1,000", "for", "a", "well", "known", "Café", "in",
                            "2024", "it's", "3.5", "x", "the", "price", "OK"]),
    ({"numbers": "drop"}, ["don't", "pay", "for", "a", "well", "known", "café", "in", "it's",
                           "x", "the", "price", "ok"]),
    ({"numbers": "replace"}, ["don't", "pay", "<num>", "for", "a", "well", "known", "café",
                              "in", "<num>", "it's", "<num>", "x", "the", "price", "ok"]),
    ({"punctuation": "keep"}, ["don't", "pay", "$", "1,000", "for", "a", "well", "-", "known",
                               "café", "in", "2024", "--", "it's", "3.5", "x", "the", "price",
                               "...", "ok", "?"]),
    ({"hyphens": "keep"}, ["don't", "pay", "1,000", "for", "a", "well-known", "café", "in",
                           "2024", "it's", "3.5", "x", "the", "price", "ok"]),
    ({"min_length": 4}, ["don't", "1,000", "well", "known", "café", "2024", "it's", "price"]),
    ({"strip_accents": True}, ["don't", "pay", "1,000", "for", "a", "well", "known", "cafe",
                               "in", "2024", "it's", "3.5", "x", "the", "price", "ok"]),
    ({"numbers": "replace", "min_length": 6}, ["<num>", "<num>", "<num>"]),
])
def test_each_option_on_a_hand_checked_sentence(options, expected):
    assert tokenize(TEXT, TokenizerConfig(**options)) == expected


def test_apostrophes_inside_words_are_kept_and_normalised():
    cfg = TokenizerConfig()
    assert tokenize("don't don’t rock'n'roll o'clock", cfg) == \
        ["don't", "don't", "rock'n'roll", "o'clock"]
    # quotes and possessive plurals: the apostrophe is not inside a word
    assert tokenize("'tis the dogs' 'best' 80's", cfg) == ["tis", "the", "dogs", "best", "80's"]


def test_underscores_split_and_words_with_digits_stay_whole():
    assert tokenize("_emphasis_ snake_case 2nd mp3 B52 1,000th") == \
        ["emphasis", "snake", "case", "2nd", "mp3", "b52", "1,000", "th"]


def test_scripts_other_than_latin():
    assert tokenize("Ελληνικά κείμενα, русский текст!") == ["ελληνικά", "κείμενα", "русский",
                                                             "текст"]
    # Devanagari vowel signs and viramas are combining marks: they stay inside the word
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    # a decomposed accent (e + U+0301) stays in its word, composed (NFC) as the same word
    # written precomposed; strip_accents removes it
    assert tokenize("cafe\u0301 ok") == ["caf\u00e9", "ok"] == tokenize("caf\u00e9 ok")
    assert tokenize("cafe\u0301 ok", TokenizerConfig(strip_accents=True)) == ["cafe", "ok"]
    # no word segmentation for scripts without spaces (documented): a run is one token
    assert tokenize("日本語のテキスト、二つ") == ["日本語のテキスト", "二つ"]


def test_decomposed_text_gives_the_words_of_composed_text(shared_data):
    """NFD text (as macOS and some PDF extractors write it) gives the same tokens as
    its NFC original: one vocabulary entry per word, found by the word a user types."""
    import unicodedata

    text = (shared_data / "salammbo" / "text" / "salammbo_ch01.txt").read_text("utf-8")
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert tokenize(decomposed) == tokenize(text)
    assert tokenize(decomposed, TokenizerConfig(hyphens="keep", punctuation="keep")) == \
        tokenize(text, TokenizerConfig(hyphens="keep", punctuation="keep"))


def test_a_lone_combining_mark_is_no_word():
    # emoji presentation selector U+FE0F and a mark after a space or hyphen are marks
    # without a base letter: no token of their own
    assert tokenize("love \u2764\ufe0f it \U0001F44D\ufe0f") == ["love", "it"]
    assert tokenize("x \u0301abc a-\u0301b", TokenizerConfig(hyphens="keep")) == \
        ["x", "abc", "a", "b"]
    assert tokenize("हिन्दी") == ["हिन्दी"]  # marks after a letter stay in the word


def test_french_text_from_salammbo(shared_data):
    text = (shared_data / "salammbo" / "text" / "salammbo_ch01.txt").read_text("utf-8")
    tokens = tokenize(text)
    assert len(tokens) > 5000
    assert {"mégara", "hamilcar", "jardins", "était"} <= set(tokens)
    # no token is broken at an accented letter: every word of the text with an accent
    # appears whole (reference: whitespace split, stripped of ASCII punctuation)
    accented = {w.strip(".,;:!?«»()\"-").lower() for w in text.split()}
    accented = {w for w in accented if re.fullmatch(r"[a-zà-ÿœ]+", w) and not w.isascii()}
    assert accented and accented <= set(tokens)
    # a word cut at an accent would leave single accented letters behind ("à" is a word)
    assert {t for t in tokens if len(t) == 1 and not t.isascii()} <= {"à", "ô"}


def test_apostrophes_split_french_elisions(shared_data):
    """split: the words of keep, cut at each inner apostrophe (reference: str.split("'"))."""
    assert tokenize("L’été d'or, qu'il 80's", TokenizerConfig(apostrophes="split")) == \
        ["l", "été", "d", "or", "qu", "il", "80", "s"]
    text = (shared_data / "salammbo" / "text" / "salammbo_ch01.txt").read_text("utf-8")
    kept = tokenize(text)
    assert {"l'armée", "qu'il"} <= set(kept)
    split = tokenize(text, TokenizerConfig(apostrophes="split"))
    assert split == [part for t in kept for part in t.split("'") if part]
    for hyphens in ("keep", "split"):  # hyphens still follow their own option
        cfg = TokenizerConfig(apostrophes="split", hyphens=hyphens)
        assert ("bien-aimé" in tokenize("l'homme bien-aimé", cfg)) == (hyphens == "keep")


def test_numbers_drop_and_replace_agree_with_keep_on_real_text(gensim_data):
    text = (gensim_data / "lee_background.cor").read_text("utf-8")[:200_000]
    kept = tokenize(text, TokenizerConfig(numbers="keep"))
    is_number = re.compile(r"\d+(?:[.,:]\d+)*").fullmatch  # what a number token looks like
    assert any(is_number(t) for t in kept)
    assert tokenize(text, TokenizerConfig(numbers="drop")) == [t for t in kept if not is_number(t)]
    assert tokenize(text, TokenizerConfig(numbers="replace")) == \
        [NUM_TOKEN if is_number(t) else t for t in kept]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 _-'’.,\u0301é3xΩ\n!")), max_size=60),
       st.sampled_from(["keep", "drop", "replace"]), st.sampled_from(["drop", "keep"]),
       st.sampled_from(["split", "keep"]), st.sampled_from(["keep", "split"]))
def test_fast_patterns_equal_the_full_pattern(text, numbers, punctuation, hyphens, apostrophes):
    """The ASCII and no-mark fast paths give exactly what the full Unicode pattern gives."""
    cfg = TokenizerConfig(numbers=numbers, punctuation=punctuation, hyphens=hyphens,
                          apostrophes=apostrophes)
    patterns = _patterns(cfg)
    prepared = normalize(text, cfg)
    token_re, number_re = patterns.marks
    if number_re is not None:
        prepared = number_re.sub(" " if numbers == "drop" else f" {NUM_TOKEN} ", prepared)
    assert tokenize(text, cfg) == token_re.findall(prepared)
    assert all(not any(c.isspace() for c in t) and t for t in tokenize(text, cfg))


@pytest.mark.parametrize("options, message", [
    ({"numbers": "round"}, "unknown numbers option 'round'; valid: keep, drop, replace"),
    ({"punctuation": "strip"}, "unknown punctuation option 'strip'; valid: drop, keep"),
    ({"hyphens": "join"}, "unknown hyphens option 'join'; valid: split, keep"),
    ({"apostrophes": "drop"}, "unknown apostrophes option 'drop'; valid: keep, split"),
    ({"min_length": 0}, "min_length must be an integer >= 1"),
])
def test_unknown_option_values_list_the_valid_ones(options, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        TokenizerConfig(**options)


def test_config_round_trips_through_a_dict():
    cfg = TokenizerConfig(lowercase=False, numbers="replace", punctuation="keep", min_length=2,
                          strip_accents=True, hyphens="keep")
    assert TokenizerConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(UsageError, match="unknown tokenizer option.*lower_case"):
        TokenizerConfig.from_dict({"lower_case": True})


def test_sentences_hand_checked():
    text = ('Mr. Smith went to Washington. He saw the U.S. Army! Did he? "Yes." '
            "J. R. R. Tolkien wrote e.g. books. 3 ships left.\n\nnew paragraph here")
    assert split_sentences(text) == [
        "Mr. Smith went to Washington.", "He saw the U.S. Army!", "Did he?", '"Yes."',
        "J. R. R. Tolkien wrote e.g. books.", "3 ships left.", "new paragraph here"]
    assert split_sentences("  ") == []
    assert split_sentences("no end mark") == ["no end mark"]
    # a lower-case word after a period does not start a sentence
    text = "It cost 3 p.m. prices. and more."
    assert split_sentences(text) == [text]


def test_sentences_of_real_english_text(shared_data):
    text = (shared_data / "salammbo" / "text" / "salammbo_en_ch01.txt").read_text("utf-8")
    sentences = split_sentences(text)
    # reference: sentence-final marks followed by space + capital, counted by a plain regex
    # (it has no abbreviation list, so it can only find more boundaries, never fewer)
    naive = len(re.findall(r"[.!?][\"'”’)]*\s+[\"'“‘(]*[A-Z0-9]", text))
    assert 0.8 * naive <= len(sentences) <= naive + text.count("\n\n") + 1
    assert all(s == s.strip() and s for s in sentences)
    assert "".join(sentences).replace(" ", "").replace("\n", "") == \
        text.replace(" ", "").replace("\n", "")
