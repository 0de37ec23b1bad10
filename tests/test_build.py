"""build_ppmi_svd and the gensim trainers on gensim's bundled real text."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit import store
from embedkit.build import (
    build_ppmi_svd,
    parse_memory,
    resolve_preset,
    train_fasttext,
    train_word2vec,
)
from embedkit.errors import EmbedkitError, UsageError
from embedkit.vocab import Vocabulary


@pytest.fixture(scope="module")
def lee_docs(gensim_data):
    with open(gensim_data / "lee_background.cor", encoding="utf-8") as f:
        return [line.lower().split() for line in f]


@pytest.fixture(scope="module")
def built(lee_docs):
    return build_ppmi_svd(lee_docs, min_count=3, dim=24, seed=1)


def test_vectors_vocabulary_and_metadata(built, lee_docs):
    vocab = Vocabulary.from_documents(lee_docs, min_count=3)
    assert built.words == vocab.words and np.array_equal(built.counts, vocab.counts)
    assert built.shape == (len(vocab), 24) and built.matrix.dtype == np.float32
    meta = built.metadata
    assert meta["params"]["svd"] == {"dim": 24, "eig": 0.0, "algorithm": "randomized",
                                     "seed": 1, "oversample": 20, "power_iters": 4}
    assert meta["params"]["pmi"] == {"weighting": "ppmi", "cds": 0.75, "shift": 1.0}
    assert meta["params"]["count"]["window"] == 5 and meta["params"]["preset"] == "embedkit"
    assert meta["stats"]["tokens"] == sum(map(len, lee_docs))
    assert meta["stats"]["documents"] == len(lee_docs)
    assert meta["stats"]["vocabulary"] == len(vocab)
    assert set(meta["timings"]) == {"read_tokenize_s", "vocabulary_s", "count_s", "weight_s",
                                    "svd_s"}
    sv = meta["_arrays"]["singular_values"]
    assert sv.shape == (24,) and np.all(np.diff(sv) <= 0)
    # p = 0: the columns are those of U, orthonormal
    np.testing.assert_allclose(np.linalg.norm(built.matrix, axis=0), 1.0, rtol=1e-4)
    levy = build_ppmi_svd(lee_docs, min_count=3, dim=8, preset="levy2015")
    assert levy.metadata["params"]["count"]["window"] == 2
    # p = 0.5: each column's norm is sqrt(S)
    np.testing.assert_allclose(np.linalg.norm(levy.matrix, axis=0),
                               np.sqrt(levy.metadata["_arrays"]["singular_values"]), rtol=1e-4)


def test_same_seed_byte_identical(built, lee_docs):
    again = build_ppmi_svd(lee_docs, min_count=3, dim=24, seed=1)
    assert again.matrix.tobytes() == built.matrix.tobytes()
    other = build_ppmi_svd(lee_docs, min_count=3, dim=24, seed=2, algorithm="randomized")
    assert other.matrix.tobytes() != built.matrix.tobytes()


def test_store_round_trip_keeps_singular_values(built, tmp_path):
    path = store.save(built, tmp_path / "v.h5")
    with store.load(path) as loaded:
        assert loaded.words == built.words
        np.testing.assert_array_equal(loaded.matrix, built.matrix)
        assert loaded.metadata["params"]["pmi"]["cds"] == 0.75
        extra = store.extra_arrays(loaded)
        np.testing.assert_array_equal(extra["singular_values"],
                                      built.metadata["_arrays"]["singular_values"])


def test_lecture_preset_and_overrides(lee_docs):
    assert resolve_preset("lecture") == {"weighting": "ppmi", "cds": 1.0, "eig": 1.0, "window": 2}
    assert resolve_preset("lecture", eig=0.0)["eig"] == 0.0
    lecture = build_ppmi_svd(lee_docs, min_count=3, dim=20, preset="lecture")
    assert lecture.metadata["params"]["pmi"]["cds"] == 1.0
    sv = lecture.metadata["_arrays"]["singular_values"]
    # p = 1: column norms are the singular values themselves (U Sigma)
    np.testing.assert_allclose(np.linalg.norm(lecture.matrix, axis=0), sv, rtol=1e-4)
    with pytest.raises(UsageError, match="unknown preset 'hyperwords'"):
        resolve_preset("hyperwords")


def test_bad_inputs(lee_docs):
    with pytest.raises(EmbedkitError, match="no tokens"):
        build_ppmi_svd([[], []], dim=2)
    with pytest.raises(EmbedkitError, match="cannot build 50-dimensional vectors from 7 "
                                            "distinct words"):
        build_ppmi_svd([["a", "b", "c", "d", "e", "f", "g"]], min_count=1, dim=50)
    with pytest.raises(EmbedkitError, match="min_count=100000 leaves no vocabulary"):
        build_ppmi_svd(lee_docs, min_count=100000, dim=10)
    with pytest.raises(UsageError, match="unknown context"):
        build_ppmi_svd(lee_docs, context="paragraph")
    with pytest.raises(UsageError, match="cannot read memory size"):
        parse_memory("lots")
    assert parse_memory("4G") == 4 << 30 and parse_memory("512M") == 512 << 20
    assert parse_memory("1.5GiB") == int(1.5 * 2**30)


def test_document_context_is_lsa(lee_docs):
    lsa = build_ppmi_svd(lee_docs[:100], context="document", weighting="count", min_count=3,
                         dim=10, algorithm="arpack")
    assert lsa.metadata["stats"]["matrix_shape"][1] == 100  # one column per document


def test_ignored_options_are_refused_before_reading(lee_docs):
    with pytest.raises(UsageError, match="--window applies only to --context window"):
        build_ppmi_svd(iter(()), context="document", window=3)
    with pytest.raises(UsageError, match="--shift applies only to the PMI weightings"):
        build_ppmi_svd(iter(()), weighting="count", shift=2)
    lsa = build_ppmi_svd(lee_docs[:50], context="document", weighting="count", preset="lecture",
                         min_count=3, dim=5, algorithm="arpack")  # a preset's window is no choice
    assert lsa.metadata["stats"]["matrix_shape"][1] == 50


def test_word2vec_and_fasttext(lee_docs):
    w2v = train_word2vec(lee_docs, dim=16, epochs=1, min_count=3, workers=1, seed=3)
    vocab = Vocabulary.from_documents(lee_docs, min_count=3)
    assert set(w2v.words) == set(vocab.words) and w2v.dim == 16
    assert w2v.counts[w2v.words.index("the")] == vocab.counts[0]
    assert w2v.metadata["params"]["sg"] is True
    ft = train_fasttext(lee_docs, dim=16, epochs=1, min_count=3, workers=1, bucket=5000)
    assert ft.subwords is not None and ft.subwords.ngram_vectors.shape == (5000, 16)
    assert "australiaz" not in ft and ft.vector("australiaz").shape == (16,)
    with pytest.raises(EmbedkitError, match="no tokens"):
        train_word2vec([[]], dim=4)


@pytest.mark.parametrize("model", ["word2vec", "fasttext"])
def test_gensim_training_equals_gensims_own_call(lee_docs, tmp_path, model):
    """One worker, same seed and settings: the vectors gensim's one-call API gives for the
    same token file (its learning rate decays by lines read: total_examples is passed)."""
    from gensim.models import FastText, Word2Vec

    docs = lee_docs[:150]
    path = tmp_path / "tokens.txt"
    path.write_text("".join(" ".join(d) + "\n" for d in docs if d), encoding="utf-8")
    options = dict(vector_size=12, window=3, min_count=3, sg=1, epochs=2, negative=5,
                   sample=1e-3, seed=7, workers=1)
    if model == "fasttext":
        ref = FastText(corpus_file=str(path), min_n=3, max_n=5, bucket=3000, **options).wv
        ours = train_fasttext(docs, dim=12, window=3, min_count=3, epochs=2, seed=7, workers=1,
                              min_n=3, max_n=5, bucket=3000)
    else:
        ref = Word2Vec(corpus_file=str(path), **options).wv
        ours = train_word2vec(docs, dim=12, window=3, min_count=3, epochs=2, seed=7, workers=1)
    assert ours.words == list(ref.index_to_key)
    np.testing.assert_array_equal(ours.matrix, ref.vectors)


def test_bad_seed_is_a_usage_error_before_reading(lee_docs):
    for seed in (-1, 2**32):
        with pytest.raises(UsageError, match="seed must be an integer from 0 to 2\\*\\*32 - 1"):
            train_word2vec(iter(()), seed=seed)
    with pytest.raises(UsageError, match="seed must be a non-negative integer, got -1"):
        build_ppmi_svd(iter(()), seed=-1)


def test_gensim_training_names_an_unknown_option(gensim_data):
    from embedkit.build import train_word2vec

    with pytest.raises(TypeError, match=r"train_word2vec\(\) got unknown option\(s\) dimension; "
                                        r"valid: tokenizer, sg, window, dim"):
        train_word2vec([gensim_data / "lee_background.cor"], dimension=10)  # before reading
