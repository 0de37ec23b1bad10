"""Co-occurrence counts against a naive Python reference counter on real text."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp

from embedkit.cooccur import CountConfig, count_chunk, count_cooccurrences, merge
from embedkit.errors import EmbedkitError, UsageError
from embedkit.vocab import Vocabulary


@pytest.fixture(scope="module")
def lee(gensim_data):
    with open(gensim_data / "lee_background.cor", encoding="utf-8") as f:
        docs = [line.lower().split() for line in f][:80]
    vocab = Vocabulary.from_documents(docs, min_count=2)
    ids = [vocab.encode(d, oov="mark") for d in docs]  # rare words leave gaps (-1)
    return vocab, ids


def naive_counts(docs, size, config: CountConfig) -> np.ndarray:
    """The reference: a plain loop over every focus word and every context position."""
    out = defaultdict(float)
    k = config.window
    for n, doc in enumerate(docs):
        doc = list(doc)
        for i, w in enumerate(doc):
            if w < 0:
                continue
            if config.context == "document":
                out[w, n] += 1
                continue
            if config.context == "left":
                positions = [i - 1]
            elif config.context == "right":
                positions = [i + 1]
            else:
                positions = [j for j in range(i - k, i + k + 1) if j != i]
            for j in positions:
                if 0 <= j < len(doc) and doc[j] >= 0:
                    d = abs(i - j)
                    wt = {"uniform": 1.0, "harmonic": 1.0 / d,
                          "dynamic": (k - d + 1) / k}[config.weighting]
                    if config.context in ("left", "right"):
                        wt = 1.0
                    out[w, doc[j]] += wt
    cols = len(docs) if config.context == "document" else size
    dense = np.zeros((size, cols))
    for (w, c), v in out.items():
        dense[w, c] = v
    return dense


CASES = [
    CountConfig(window=1), CountConfig(window=2), CountConfig(window=5),
    CountConfig(window=3, weighting="harmonic"), CountConfig(window=4, weighting="dynamic"),
    CountConfig(context="left"), CountConfig(context="right"), CountConfig(context="document"),
]


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.context}-{c.window}-{c.weighting}")
def test_counts_equal_naive_reference(lee, config):
    vocab, ids = lee
    got = count_cooccurrences(iter(ids), len(vocab), config)
    assert isinstance(got, sp.csr_matrix) and got.has_canonical_format
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.toarray(), naive_counts(ids, len(vocab), config), rtol=1e-6,
                               atol=1e-6)


def test_left_is_transpose_of_right_and_window_symmetric(lee):
    vocab, ids = lee
    left = count_cooccurrences(iter(ids), len(vocab), CountConfig(context="left"))
    right = count_cooccurrences(iter(ids), len(vocab), CountConfig(context="right"))
    assert (left - right.T).nnz == 0
    sym = count_cooccurrences(iter(ids), len(vocab), CountConfig(window=1))
    assert abs(sym - (left + right)).max() == 0


def test_tiny_budget_many_chunks_same_counts(lee):
    """A 1 MiB budget forces several chunks and merges; results must not change."""
    vocab, ids = lee
    big = count_cooccurrences(iter(ids * 8), len(vocab), CountConfig(window=5))
    stats: dict = {}
    small = count_cooccurrences(iter(ids * 8), len(vocab),
                                CountConfig(window=5, memory=1 << 20, workers=2), stats=stats)
    assert stats["flushes"] >= 1 and stats["chunk_tokens"] < stats["tokens"]
    assert abs(big - small).max() < 1e-9
    one = count_cooccurrences(iter(ids * 8), len(vocab), CountConfig(window=5, workers=1))
    assert abs(big - one).max() < 1e-9


def test_shards_count_chunk_and_merge(lee):
    """The distributed path: count shards independently, then reduce with merge."""
    vocab, ids = lee
    config = CountConfig(window=2, weighting="harmonic")
    full = count_cooccurrences(iter(ids), len(vocab), config)
    parts = []
    for shard in (ids[:30], ids[30:55], ids[55:]):
        bounds = np.concatenate([[0], np.cumsum([len(d) for d in shard])])
        parts.append(count_chunk(np.concatenate(shard), bounds, len(vocab), config))
    np.testing.assert_allclose(merge(parts).toarray(), full.toarray(), rtol=1e-6)


def test_windows_never_cross_documents():
    ids = [np.array([0, 1], np.int32), np.array([2, 3], np.int32)]
    counts = count_cooccurrences(iter(ids), 4, CountConfig(window=5)).toarray()
    assert counts[1, 2] == 0 and counts[0, 1] == 1 and counts[2, 3] == 1


def test_subsampling_is_seeded(lee):
    vocab, ids = lee
    keep = vocab.keep_probabilities(1e-3)
    run = [count_cooccurrences(iter(ids), len(vocab), CountConfig(subsample=1e-3, seed=s),
                               keep_prob=keep) for s in (1, 1, 2)]
    assert abs(run[0] - run[1]).max() == 0
    assert abs(run[0] - run[2]).max() > 0
    plain = count_cooccurrences(iter(ids), len(vocab), CountConfig())
    the = vocab.word_to_id["the"]
    assert run[0][the].sum() < 0.5 * plain[the].sum()  # "the" is mostly discarded
    with pytest.raises(UsageError, match="keep_prob"):
        count_cooccurrences(iter(ids), len(vocab), CountConfig(subsample=1e-3))


def test_bad_configs_and_empty_input():
    for bad in ({"context": "sentence"}, {"weighting": "gaussian"}, {"window": 0},
                {"subsample": -1.0}, {"subsample": 1.5}, {"memory": 100}, {"workers": 0}):
        with pytest.raises(UsageError):
            CountConfig(**bad)
    with pytest.raises(UsageError, match="choose one of window, left, right, document"):
        CountConfig(context="sentence")
    with pytest.raises(EmbedkitError, match="no tokens"):
        count_cooccurrences(iter([]), 5, CountConfig())
    with pytest.raises(EmbedkitError, match="vocabulary is empty"):
        count_cooccurrences(iter([]), 0, CountConfig())


def test_a_window_wider_than_one_long_document_is_counted_in_offset_groups(lee, monkeypatch):
    """Chunks never split a document, so a window as wide as a long document once held all
    its n^2/2 pairs at once (lee_background.cor as one document with --window 100000 grew
    to 21 GB). Offsets are now counted a group at a time; the counts equal a dense
    reference, and more than one group was made."""
    import embedkit.cooccur as cooccur

    vocab, ids = lee
    doc = np.concatenate(ids)[:3000]
    groups = []
    real = cooccur._directed_pairs

    def spy(*args):
        for group in real(*args):
            groups.append(group[0].size)
            yield group

    monkeypatch.setattr(cooccur, "_directed_pairs", spy)
    config = CountConfig(window=5000, weighting="harmonic", memory=1 << 20, workers=1)
    counts = count_cooccurrences(iter([doc]), len(vocab), config).toarray()
    assert len(groups) >= 3 and max(groups) <= 2 * config.group_pairs()
    expected = np.zeros((len(vocab), len(vocab)))
    for d in range(1, doc.size):
        left, right = doc[:-d], doc[d:]
        keep = (left >= 0) & (right >= 0)
        np.add.at(expected, (left[keep], right[keep]), 1.0 / d)
    expected += expected.T
    np.testing.assert_allclose(counts, expected, rtol=1e-5, atol=1e-6)


def test_a_window_wider_than_every_document_stops_at_the_longest(lee):
    """Offsets beyond the longest document of a chunk hold no pairs: a window of 10^9 on
    short documents gives the counts of a brute-force reference over every pair of each
    document (it looped over 10^9 empty offsets per chunk, for hours)."""
    vocab, ids = lee
    wide = count_cooccurrences(iter(ids), len(vocab), CountConfig(window=10**9))
    expected = np.zeros((len(vocab), len(vocab)))
    for doc in ids:
        for d in range(1, len(doc)):  # every pair of the document, each way
            left, right = doc[:-d], doc[d:]
            keep = (left >= 0) & (right >= 0)
            np.add.at(expected, (left[keep], right[keep]), 1.0)
    expected += expected.T
    np.testing.assert_array_equal(wide.toarray(), expected)
