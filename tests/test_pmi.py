"""PMI weighting against a dense numpy computation and a hand-checked example."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embedkit.cooccur import CountConfig, count_cooccurrences
from embedkit.errors import UsageError
from embedkit.pmi import PMIConfig, weight
from embedkit.vocab import Vocabulary

# A tiny corpus one can check by hand (window 1, symmetric).
TINY = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "the", "log"]]


def tiny_counts() -> sp.csr_matrix:
    vocab = Vocabulary.from_documents(TINY)
    return count_cooccurrences((vocab.encode(d) for d in TINY), len(vocab),
                               CountConfig(window=1, workers=1))


def dense_reference(counts: np.ndarray, weighting: str, cds: float, k: float) -> np.ndarray:
    """The DESIGN.md formulas, written directly on a dense matrix."""
    if weighting == "count":
        return counts
    row = counts.sum(axis=1, keepdims=True)
    col = counts.sum(axis=0, keepdims=True) ** cds
    p_c = col / col.sum()
    with np.errstate(divide="ignore"):
        pmi = np.log2(counts / (row * p_c)) - np.log2(k)
    pmi[counts == 0] = 0.0  # unseen pairs are not stored
    if weighting in ("ppmi", "sppmi"):
        pmi = np.maximum(pmi, 0.0)
    return pmi


def test_hand_checked_value():
    counts = tiny_counts()
    vocab = Vocabulary.from_documents(TINY)
    the, sat, on = (vocab.word_to_id[w] for w in ("the", "sat", "on"))
    # pairs: the-cat cat-sat sat-on on-the the-mat | the-dog dog-sat sat-on on-the the-log,
    # both directions: N = 20, C(sat,on) = 2, C(sat) = 4, C(on) = 4
    assert counts.sum() == 20 and counts[sat, on] == 2
    w = weight(counts, PMIConfig("pmi", cds=1.0))
    assert w[sat, on] == pytest.approx(np.log2(20 * 2 / (4 * 4)))
    # "the" has 3 neighbours per sentence: C(the) = 6, C(the, on) = 2: log2(20*2/(6*4))
    assert counts[the].sum() == 6
    assert w[the, on] == pytest.approx(np.log2(40 / 24))


@pytest.mark.parametrize("weighting", ["count", "pmi", "ppmi", "sppmi"])
@pytest.mark.parametrize("cds", [1.0, 0.75])
@pytest.mark.parametrize("shift", [None, 1.0, 2.0])
def test_every_option_equals_dense_numpy(weighting, cds, shift):
    counts = tiny_counts()
    config = PMIConfig(weighting, cds=cds, shift=shift)
    got = weight(counts, config)
    assert isinstance(got, sp.csr_matrix)
    expected = dense_reference(counts.toarray().astype(np.float64), weighting, cds, config.k)
    np.testing.assert_allclose(got.toarray(), expected, atol=1e-12)
    assert np.all(np.isfinite(got.data))
    if weighting in ("ppmi", "sppmi"):
        assert got.nnz == int((expected > 0).sum())  # zeros eliminated


def test_real_text_equals_dense(gensim_data):
    with open(gensim_data / "lee_background.cor", encoding="utf-8") as f:
        docs = [line.lower().split() for line in f][:60]
    vocab = Vocabulary.from_documents(docs, min_count=3)
    counts = count_cooccurrences((vocab.encode(d, oov="mark") for d in docs), len(vocab),
                                 CountConfig(window=2))
    for config in (PMIConfig(), PMIConfig("sppmi", cds=1.0)):
        dense = counts.toarray().astype(np.float64)
        expected = dense_reference(dense, config.weighting, config.cds, config.k)
        np.testing.assert_allclose(weight(counts, config).toarray(), expected, atol=1e-10)


def test_defaults_and_bad_values():
    assert PMIConfig().weighting == "ppmi" and PMIConfig().cds == 0.75 and PMIConfig().k == 1
    assert PMIConfig("sppmi").k == 5
    with pytest.raises(UsageError, match="unknown weighting 'tfidf'"):
        PMIConfig("tfidf")
    with pytest.raises(UsageError):
        PMIConfig(cds=0)
    with pytest.raises(UsageError):
        PMIConfig(shift=0.5)


def test_input_not_modified():
    counts = tiny_counts()
    before = counts.toarray().copy()
    weight(counts)
    np.testing.assert_array_equal(counts.toarray(), before)


@pytest.mark.parametrize("cds, value", [(0.75, 1.0), (1.0, 2.0)])
def test_independent_pairs_weigh_exactly_zero(cds, value):
    """C(w,c) N = C(w) C(c) everywhere: PMI is 0 up to rounding, so PPMI keeps nothing."""
    counts = sp.csr_matrix(np.full((3, 3), value))
    assert weight(counts, PMIConfig("ppmi", cds=cds)).nnz == 0
    assert not weight(counts, PMIConfig("pmi", cds=cds)).data.any()
