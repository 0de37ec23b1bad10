"""Vectors: lookup, derived sets, embedding matrices and exact search on real vectors."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

import embedkit
from embedkit import Vectors
from embedkit.errors import DimensionMismatchError, StoreError, UnknownWordError, UsageError
from embedkit.subwords import Subwords


@pytest.fixture(scope="module")
def lee(gensim_data):
    """gensim's own load of a real fastText .vec file, and the same rows as Vectors."""
    kv = KeyedVectors.load_word2vec_format(gensim_data / "lee_fasttext.vec")
    counts = np.arange(len(kv), 0, -1)
    return kv, Vectors(kv.index_to_key, kv.vectors, counts=counts, metadata={"source": "lee"})


def test_lookup_protocol(lee):
    kv, v = lee
    assert len(v) == len(kv) and v.dim == kv.vector_size
    assert "the" in v and "no-such-word-xyz" not in v
    np.testing.assert_array_equal(v["night"], kv["night"])
    assert v.index("night") == kv.key_to_index["night"]
    assert v.get("no-such-word-xyz") is None


def test_unknown_word_suggests_close_spellings(lee):
    _, v = lee
    with pytest.raises(UnknownWordError) as err:
        v["goverment"]
    assert "government" in err.value.suggestions
    assert "'goverment'" in str(err.value)


def test_most_similar_equals_gensim(lee):
    kv, v = lee
    for word in ["night", "president", "Australia", "police", "fire"]:
        ours = v.most_similar(word, k=10)
        theirs = kv.most_similar(word, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_most_similar_by_vector_and_exclude(lee):
    kv, v = lee
    query = kv["night"] + kv["day"]
    ours = v.most_similar(query, k=5, exclude=["night"])
    theirs = [(w, s) for w, s in kv.similar_by_vector(query, topn=6) if w != "night"][:5]
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    with pytest.raises(DimensionMismatchError, match="dimension 3"):
        v.most_similar(np.ones(3))
    with pytest.raises(UsageError):
        v.most_similar("night", k=0)


def test_most_similar_restricted_to_frequent_rows(lee):
    kv, v = lee
    ours = v.most_similar("night", k=5, restrict=500)
    theirs = kv.most_similar("night", topn=5, restrict_vocab=500)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert all(v.index(w) < 500 for w, _ in ours)


def test_normalized_is_a_copy_with_unit_rows(lee):
    _, v = lee
    n = v.normalized()
    np.testing.assert_allclose(np.linalg.norm(n.matrix, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(np.linalg.norm(v.matrix, axis=1), 1.0)  # original untouched
    assert n.metadata["normalized"] is True


def test_zero_rows_stay_zero_and_never_match():
    v = Vectors(["a", "b", "zero"], np.array([[1, 0], [0.9, 0.1], [0, 0]], dtype=np.float32))
    assert np.all(v.normalized()["zero"] == 0)
    assert [w for w, _ in v.most_similar("a", k=2)] == ["b"]  # the zero row is no answer
    with pytest.raises(UsageError, match="'zero' has an all-zero vector"):
        v.most_similar("zero")
    with pytest.raises(UsageError, match="NaN or infinity"):
        v.most_similar(np.array([np.nan, 1.0]))


def test_api_misuse_gets_clear_errors(lee):
    _, v = lee
    for bad_k in (2.5, "3", True):
        with pytest.raises(TypeError, match="k must be a positive integer"):
            v.most_similar("the", bad_k)
    with pytest.raises(UsageError, match="restrict must be a positive integer, got -5"):
        v.most_similar("the", 3, restrict=-5)  # it used to slice from the end
    for query in (None, 123, ["the", "of"]):
        with pytest.raises(TypeError, match="one word .str. or one vector"):
            v.most_similar(query)
    with pytest.raises(DimensionMismatchError, match="one vector, got an array of shape"):
        v.most_similar(v.matrix[:2])
    with pytest.raises(TypeError, match="a word must be a str, got int"):
        v[0]
    with pytest.raises(TypeError, match="subset takes a list of words"):
        v.subset("the")
    with pytest.raises(TypeError, match="exclude takes a list of words"):
        v.most_similar("the", exclude="of")
    with pytest.raises(IndexError, match="row -1 does not exist"):
        v.rows([-1])
    assert v.most_similar(v["the"], 3) == v.most_similar(v["the"][None, :], 3)  # (1, dim)


def test_a_closed_store_is_a_clear_error_and_derived_sets_are_new_sets(tmp_path, lee):
    _, v = lee
    path = tmp_path / "lee.h5"
    embedkit.save(v, path)
    opened = embedkit.load(path)
    derived = opened.top(50)
    assert "fingerprint" in opened.metadata and "fingerprint" not in derived.metadata
    assert "path" not in derived.metadata
    assert "path" not in embedkit.load(path).leading_dims(5).metadata
    opened.close()  # nothing loaded whole: rows come from the file
    with pytest.raises(StoreError, match="was closed; load it again"):
        opened["the"]
    with pytest.raises(StoreError, match="was closed"):
        _ = opened.matrix
    kept = embedkit.load(path)
    matrix = kept.matrix  # loaded before closing: stays usable
    kept.close()
    np.testing.assert_array_equal(kept["the"], matrix[kept.index("the")])


def test_top_and_subset(lee):
    _, v = lee
    shuffled = Vectors(v.words, v.matrix, counts=np.r_[1, v.counts[1:]])  # "the" made rare
    top = shuffled.top(3)
    assert top.words == [v.words[1], v.words[2], v.words[3]]
    np.testing.assert_array_equal(top.matrix, v.matrix[1:4])
    sub = v.subset(["night", "the"])
    assert sub.words == ["night", "the"]
    np.testing.assert_array_equal(sub["the"], v["the"])
    assert list(sub.counts) == [v.counts[v.index("night")], v.counts[v.index("the")]]
    with pytest.raises(UnknownWordError):
        v.subset(["night", "zzzqqq"])


def test_embedding_matrix_rows_and_coverage(lee):
    _, v = lee
    word_index = {"night": 1, "the": 2, "qqqzzz": 3, "president": 5}
    matrix, coverage = v.embedding_matrix(word_index)
    assert matrix.shape == (6, v.dim)
    np.testing.assert_array_equal(matrix[1], v["night"])
    np.testing.assert_array_equal(matrix[5], v["president"])
    assert not matrix[0].any() and not matrix[3].any() and not matrix[4].any()
    assert (coverage.found, coverage.total, coverage.missing) == (3, 4, ["qqqzzz"])
    assert coverage.fraction == 0.75

    random_a, _ = v.embedding_matrix(word_index, oov="random", seed=7)
    random_b, _ = v.embedding_matrix(word_index, oov="random", seed=7)
    np.testing.assert_array_equal(random_a, random_b)
    assert random_a[3].any() and not random_a[0].any()
    np.testing.assert_array_equal(random_a[1], v["night"])
    with pytest.raises(UsageError, match="oov"):
        v.embedding_matrix(word_index, oov="mean")


def test_subwords_match_gensim_fasttext(gensim_data):
    from gensim.models.fasttext import load_facebook_vectors

    kv = load_facebook_vectors(str(gensim_data / "lee_fasttext.bin"))
    table = Subwords(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket)
    v = Vectors(kv.index_to_key, kv.vectors, subwords=table)
    for word in ["nightfall", "presidentially", "xyzzy", "q"]:
        assert word not in v
        np.testing.assert_allclose(v[word], kv[word], rtol=1e-6, atol=1e-7)
    matrix, coverage = v.embedding_matrix(["night", "nightfall"])
    assert coverage.subword == 1 and coverage.fraction == 1.0
    np.testing.assert_allclose(matrix[1], kv["nightfall"], rtol=1e-6, atol=1e-7)


def test_leading_dims_cut_vectors_and_subword_tables(gensim_data, tmp_path):
    from gensim.models.fasttext import load_facebook_vectors

    from embedkit.formats import import_vectors

    kv = load_facebook_vectors(str(gensim_data / "lee_fasttext.bin"))
    stored = import_vectors(gensim_data / "lee_fasttext.bin", tmp_path / "lee.h5")
    cut = stored.leading_dims(7)  # a lazily opened store: subword rows read from HDF5
    assert cut.shape == (len(kv.index_to_key), 7) and cut.words == list(kv.index_to_key)
    np.testing.assert_array_equal(cut.matrix, kv.vectors[:, :7])
    np.testing.assert_allclose(cut["nightfall"], kv["nightfall"][:7], rtol=1e-6, atol=1e-7)
    matrix, coverage = cut.embedding_matrix(["night", "nightfall"])
    assert matrix.shape == (2, 7) and coverage.subword == 1
    assert stored.dim == 10 and stored.leading_dims(10).dim == 10
    for k in (0, 11):
        with pytest.raises(UsageError, match="1 to 10"):
            stored.leading_dims(k)


def test_constructor_rejects_mismatched_shapes():
    with pytest.raises(DimensionMismatchError):
        Vectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(DimensionMismatchError):
        Vectors(["a"], np.zeros((1, 2)), counts=[1, 2])


def test_most_similar_of_an_unknown_word_uses_its_subword_vector(gensim_data, lee):
    """A query or excluded word outside the vocabulary raised KeyError."""
    from gensim.models.fasttext import load_facebook_vectors

    kv = load_facebook_vectors(str(gensim_data / "lee_fasttext.bin"))
    table = Subwords(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket)
    v = Vectors(kv.index_to_key, kv.vectors, subwords=table)
    got = v.most_similar("nightfall", k=5)
    expected = kv.most_similar("nightfall", topn=5)
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5)
    _, plain = lee
    word = plain.words[10]
    assert plain.most_similar(word, k=3, exclude=["notaword"]) == plain.most_similar(word, 3)


def test_a_path_or_array_where_a_set_is_expected_says_how_to_open_it(tmp_path, lee,
                                                                      gensim_data):
    from embedkit.classify.classifier import ClassifierConfig, train_classifier
    from embedkit.evaluate import evaluate_analogies, evaluate_pairs
    from embedkit.index import Index

    _, v = lee
    calls = {
        "save": lambda x: embedkit.save(x, tmp_path / "x.h5"),
        "evaluate_pairs": lambda x: evaluate_pairs(x, gensim_data / "wordsim353.tsv"),
        "evaluate_analogies": lambda x: evaluate_analogies(x, gensim_data / "questions-words.txt"),
        "Index.build": lambda x: Index.build(x),
        "train_classifier": lambda x: train_classifier(
            [("good", "pos")], ClassifierConfig(model="bow-logreg"), x),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match=r"takes (a Vectors|LabelledTexts).*(embedkit\.load|"
                                            r"read_dataset)"):
            call("lee.h5")
            pytest.fail(f"{name} accepted a path")
    with pytest.raises(TypeError, match="save takes a Vectors, got ndarray"):
        embedkit.save(v.matrix, tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_embedding_matrix_refuses_a_str_and_negative_rows(lee):
    _, v = lee
    with pytest.raises(TypeError, match="got the str 'the'"):
        v.embedding_matrix("the")  # it used to take the letters t, h, e as words
    with pytest.raises(UsageError, match="integers >= 0, got -1"):
        v.embedding_matrix({"the": -1})
