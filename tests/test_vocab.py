"""Vocabulary: order, limits, encoding and subsampling, against plain-Python references."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from embedkit.errors import EmbedkitError, UsageError
from embedkit.vocab import Vocabulary


@pytest.fixture(scope="module")
def lee_docs(gensim_data):
    with open(gensim_data / "lee_background.cor", encoding="utf-8") as f:
        return [line.lower().split() for line in f]


def test_order_and_counts_match_counter(lee_docs):
    vocab = Vocabulary.from_documents(lee_docs, min_count=3)
    ref = Counter(t for doc in lee_docs for t in doc)
    expected = sorted((w for w, c in ref.items() if c >= 3), key=lambda w: (-ref[w], w))
    assert vocab.words == expected
    assert vocab.counts.dtype == np.int64
    assert vocab.counts.tolist() == [ref[w] for w in expected]
    assert vocab.total == sum(ref.values())
    assert vocab.word_to_id["the"] == 0


def test_max_vocab_keeps_most_frequent(lee_docs):
    full = Vocabulary.from_documents(lee_docs)
    top = Vocabulary.from_documents(lee_docs, max_vocab=100)
    assert top.words == full.words[:100]


def test_encode_drop_and_mark(lee_docs):
    vocab = Vocabulary.from_documents(lee_docs, min_count=5)
    doc = lee_docs[3]
    marked = vocab.encode(doc, oov="mark")
    assert marked.dtype == np.int32
    assert marked.tolist() == [vocab.word_to_id.get(t, -1) for t in doc]
    assert vocab.encode(doc).tolist() == [vocab.word_to_id[t] for t in doc if t in vocab]
    assert vocab.decode(vocab.encode(doc)) == [t for t in doc if t in vocab]
    with pytest.raises(UsageError):
        vocab.encode(doc, oov="zero")


def test_empty_and_too_high_min_count():
    with pytest.raises(EmbedkitError, match="no tokens"):
        Vocabulary.from_documents([[], []])
    with pytest.raises(EmbedkitError, match="min_count=50 leaves no vocabulary.*occurs 2 times"):
        Vocabulary.from_documents([["a", "b", "a"]], min_count=50)
    with pytest.raises(UsageError):
        Vocabulary.from_documents([["a"]], min_count=0)


def test_keep_probabilities_follow_mikolov(lee_docs):
    vocab = Vocabulary.from_documents(lee_docs)
    t = 1e-3
    keep = vocab.keep_probabilities(t)
    f = vocab.counts[0] / vocab.total
    assert keep[0] == pytest.approx(np.sqrt(t / f))  # "the": frequent, mostly discarded
    assert keep[-1] == 1.0  # a rare word is always kept
    assert np.all(vocab.keep_probabilities(0) == 1)


def test_subsample_seeded_and_unbiased(lee_docs):
    vocab = Vocabulary.from_documents(lee_docs)
    ids = np.concatenate([vocab.encode(d) for d in lee_docs])
    a = vocab.subsample(ids, 1e-3, np.random.default_rng(7))
    b = vocab.subsample(ids, 1e-3, np.random.default_rng(7))
    c = vocab.subsample(ids, 1e-3, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    the = ids == 0
    kept_rate = float((a[the] == 0).mean())
    assert kept_rate == pytest.approx(vocab.keep_probabilities(1e-3)[0], abs=0.02)
    dropped = vocab.subsample(ids, 1e-3, np.random.default_rng(7), oov="drop")
    assert dropped.size == int((a >= 0).sum())
