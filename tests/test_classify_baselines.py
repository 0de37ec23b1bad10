"""Baseline features against independent references (a hand-worked TF-IDF, a dense numpy
computation, scikit-learn's TfidfVectorizer) and the numpy metrics against
scikit-learn's."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from embedkit.classify.baselines import BaselineConfig, LinearBaseline, _Ngrams
from embedkit.classify.datasets import read_dataset
from embedkit.classify.metrics import confusion_matrix, multi_label_metrics, single_label_metrics


@pytest.fixture(scope="module")
def tokens_and_labels(gensim_data):
    data = read_dataset(gensim_data / "pang_lee_polarity.cor")
    tokens = [t.split() for t in data.texts]
    return tokens, np.array([labs[0] == "pos" for labs in data.labels], dtype=np.int64)


def test_lecture_tfidf_hand_worked():
    docs = [["good", "good", "film"], ["bad", "film"]]
    model = LinearBaseline.fit(BaselineConfig("tfidf-logreg"), docs, np.array([1, 0]), "binary")
    x = model.features(docs).toarray()
    col = {t: i for i, t in enumerate(model.terms)}
    assert x[0, col["good"]] == pytest.approx(2 / 3 * np.log(2))
    assert x[1, col["bad"]] == pytest.approx(1 / 2 * np.log(2))
    assert x[0, col["film"]] == 0.0 and x[1, col["good"]] == 0.0  # idf log(2/2), absent


def test_lecture_tfidf_matches_dense_numpy(tokens_and_labels):
    tokens, y = tokens_and_labels
    model = LinearBaseline.fit(BaselineConfig("tfidf-logreg", ngrams=2, max_features=500),
                               tokens, y, "binary")
    col = {t: i for i, t in enumerate(model.terms)}
    grams = [toks + [" ".join(p) for p in zip(toks, toks[1:], strict=False)] for toks in tokens]
    counts = np.zeros((len(tokens), len(col)))
    for row, doc in enumerate(grams):
        for term, n in Counter(doc).items():
            if term in col:
                counts[row, col[term]] = n
    everything = Counter(t for doc in grams for t in doc)
    assert len(col) == 500 and min(everything[t] for t in col) >= sorted(
        everything.values())[-500]  # the 500 most frequent terms
    idf = np.log(len(tokens) / (counts > 0).sum(0))
    expected = counts / np.array([len(t) for t in tokens])[:, None] * idf
    assert np.allclose(model.features(tokens).toarray(), expected)
    bow = LinearBaseline.fit(BaselineConfig("bow-logreg", ngrams=2, max_features=500),
                             tokens, y, "binary")
    assert np.array_equal(bow.features(tokens).toarray(), (counts > 0).astype(float))


def test_ngrams_are_scikit_learns_word_ngrams(tokens_and_labels):
    """The n-gram analyzer (shifted copies zipped, no loop per token) gives the terms and
    order of scikit-learn's word n-grams, for short texts too (fewer tokens than n)."""
    tokens, _ = tokens_and_labels
    docs = [[], ["one"], ["a", "b"], *tokens]
    for n in (1, 2, 3, 4):
        reference = CountVectorizer(ngram_range=(1, n), tokenizer=str.split, lowercase=False,
                                    token_pattern=None).build_analyzer()
        assert [_Ngrams(n)(doc) for doc in docs] == [reference(" ".join(d)) for d in docs]


def test_sklearn_variant_is_tfidfvectorizer(tokens_and_labels):
    tokens, y = tokens_and_labels
    model = LinearBaseline.fit(BaselineConfig("tfidf-sklearn-logreg", max_features=300),
                               tokens[:150], y[:150], "binary")
    reference = TfidfVectorizer(analyzer=lambda doc: doc, max_features=300).fit(tokens[:150])
    assert model.terms == list(reference.get_feature_names_out())
    again = LinearBaseline.from_state(model.config, model.terms, model.state())
    assert np.allclose(again.features(tokens[150:]).toarray(),
                       reference.transform(tokens[150:]).toarray())


def test_single_label_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    y_pred[y_pred == 3] = 2  # class 3 never predicted
    out = single_label_metrics(y_true, y_pred, ["a", "b", "c", "d"])
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert out["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert np.array_equal(out["confusion_matrix"], skm.confusion_matrix(y_true, y_pred))
    assert np.array_equal(confusion_matrix([0, 1], [1, 1], 3), [[0, 1, 0], [0, 1, 0], [0, 0, 0]])


def test_multi_label_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y_true = rng.random((200, 6)) < 0.3
    y_pred = rng.random((200, 6)) < 0.3
    y_true[:, 5] = y_pred[:, 5] = False  # a label nobody has: left out of macro-F1
    out = multi_label_metrics(y_true, y_pred, list("abcdef"))
    assert out["micro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="micro"))
    assert out["macro_f1"] == pytest.approx(
        skm.f1_score(y_true[:, :5], y_pred[:, :5], average="macro"))
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
