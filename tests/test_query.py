"""Neighbours, analogies and similarity against gensim on the same real vectors."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit import query
from embedkit.errors import DimensionMismatchError, UnknownWordError, UsageError
from embedkit.index import Index
from embedkit.vectors import unit_rows
from tests.search_fixtures import DICKENS, as_vectors, keyed_vectors

FASTTEXT_BIN = DICKENS.parent / "dickens_fasttext_sg50.bin"


@pytest.fixture(scope="module", params=["lee", "dickens"])
def pair(request, gensim_data):
    """(gensim KeyedVectors, embedkit Vectors) over the same real file."""
    if request.param == "lee":
        kv = keyed_vectors(str(gensim_data / "lee_fasttext.vec"))
    else:
        kv = keyed_vectors(str(request.getfixturevalue("shared_data") / DICKENS))
    return kv, as_vectors(kv)


def _words(pairs):
    return [w for w, _ in pairs]


def test_neighbors_equal_gensim_most_similar(pair):
    kv, vectors = pair
    words = kv.index_to_key[:400:4]
    found = query.neighbors(vectors, words, 10)
    for word in words:
        expected = kv.most_similar(word, topn=10)
        assert _words(found[word]) == _words(expected), word
        np.testing.assert_allclose([s for _, s in found[word]], [s for _, s in expected],
                                   rtol=1e-5, atol=1e-6)


def test_restricted_neighbors_equal_gensim_restrict_vocab(pair):
    kv, vectors = pair
    words = kv.index_to_key[10:60]
    found = query.neighbors(vectors, words, 5, restrict=500)
    for word in words:
        assert _words(found[word]) == _words(kv.most_similar(word, topn=5, restrict_vocab=500))


def test_neighbors_through_an_index_leave_out_the_query_word(pair):
    kv, vectors = pair
    words = kv.index_to_key[:200]
    exact = query.neighbors(vectors, words, 10)
    approx = query.neighbors(vectors, words, 10, index=Index.build(vectors, "ivf"))
    hits = [len(set(_words(exact[w])) & set(_words(approx[w]))) for w in words]
    assert np.mean(hits) / 10 >= 0.95
    assert all(w not in _words(approx[w]) for w in words)


def _questions(kv, gensim_data, step):
    """Analogy questions of questions-words.txt whose four words the set covers."""
    lines = (gensim_data / "questions-words.txt").read_text().splitlines()
    known = set(kv.key_to_index)
    quads = [line.lower().split() for line in lines if not line.startswith(":")]
    return [q for q in quads if len(q) == 4 and set(q) <= known][::step]


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogies_equal_gensim_top1_for_every_covered_question(pair, gensim_data, method):
    kv, vectors = pair
    # all covered questions on lee; every 40th of Dickens's 4,585 (gensim is slow per question)
    questions = _questions(kv, gensim_data, step=1 if len(kv) < 5000 else 40)
    assert len(questions) > 50
    rows = np.array([[kv.key_to_index[w] for w in q[:3]] for q in questions])
    unit = unit_rows(vectors.matrix)
    found = query.analogy_search(vectors, unit[rows[:, 0]], unit[rows[:, 1]], unit[rows[:, 2]],
                                 rows, 1, method)
    solve = kv.most_similar if method == "3cosadd" else kv.most_similar_cosmul
    for (a, b, c, _), got in zip(questions, found.ids[:, 0], strict=True):
        assert vectors.words[got] == solve(positive=[b, c], negative=[a], topn=1)[0][0]


def test_single_analogy_api_matches_gensim_and_excludes_inputs(pair, gensim_data):
    kv, vectors = pair
    a, b, c, _ = _questions(kv, gensim_data, step=1)[0]
    for method, solve in (("3cosadd", kv.most_similar), ("3cosmul", kv.most_similar_cosmul)):
        got = vectors.analogy(a, b, c, k=5, method=method)
        expected = solve(positive=[b, c], negative=[a], topn=5)
        assert _words(got) == _words(expected)
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-4)
        assert not {a, b, c} & set(_words(got))


def test_similarity_and_distance_equal_gensim(pair):
    kv, vectors = pair
    w1, w2 = kv.index_to_key[3], kv.index_to_key[40]
    result = query.similarity(vectors, w1, w2)
    assert result["similarity"] == pytest.approx(float(kv.similarity(w1, w2)), abs=1e-6)
    assert result["distance"] == pytest.approx(1 - float(kv.similarity(w1, w2)), abs=1e-6)


def test_unknown_words_use_subword_vectors_like_gensim_fasttext(shared_data):
    from gensim.models.fasttext import load_facebook_vectors

    from embedkit.formats import read_vectors

    path = shared_data / FASTTEXT_BIN
    vectors, reference = read_vectors(path), load_facebook_vectors(str(path))
    found = query.neighbors(vectors, ["londonish", "snodgrassy"], 5)
    for word in ("londonish", "snodgrassy"):
        assert word not in vectors
        assert _words(found[word]) == _words(reference.most_similar(word, topn=5))


def test_unknown_word_without_subwords_suggests_spellings(pair):
    kv, vectors = pair
    word = next(w for w in kv.index_to_key[100:] if len(w) >= 7 and w.isalpha())
    typo = word[:-1] + ("x" if word[-1] != "x" else "y")
    with pytest.raises(UnknownWordError, match=f"unknown word '{typo}'.*close spellings: .*{word}"):
        query.neighbors(vectors, [typo], 5)
    found = query.neighbors(vectors, [word, typo], 5, skip_unknown=True)
    assert list(found) == [word]
    with pytest.raises(UnknownWordError):
        query.analogy(vectors, word, typo, word, 3)
    with pytest.raises(UnknownWordError):
        query.similarity(vectors, typo, word)


@pytest.mark.parametrize("call", [
    lambda v: query.neighbors(v, [], 5),
    lambda v: query.neighbors(v, [v.words[0]], 0),
    lambda v: query.neighbors(v, [v.words[0]], -3),
    lambda v: query.neighbors(v, [v.words[0]], len(v)),
    lambda v: query.neighbors(v, [v.words[0]], 3, restrict=0),
    lambda v: query.analogy(v, *v.words[:3], k=3, method="3cosfoo"),
])
def test_bad_arguments_are_usage_errors(pair, call):
    with pytest.raises(UsageError) as info:
        call(pair[1])
    assert "\n" not in str(info.value)


def test_query_vector_of_wrong_dimension(pair):
    _, vectors = pair
    with pytest.raises(DimensionMismatchError, match=f"dimension {vectors.dim + 1}"):
        Index.build(vectors, "flat").search(np.ones(vectors.dim + 1), 3)
    with pytest.raises(DimensionMismatchError):
        vectors.most_similar(np.ones(vectors.dim - 1), 3)


def test_quantised_index_answers_are_rescored_with_exact_cosines(pair):
    kv, vectors = pair
    words = kv.index_to_key[:100]
    index = Index.build(vectors, "ivfpq", nbits=4)  # 4-bit codes: coarse, and quick to train
    assert index.is_approximate_scores and not Index.build(vectors, "flat").is_approximate_scores
    found = query.neighbors(vectors, words, 5, index=index)
    exact = query.neighbors(vectors, words, 5)
    raw = index.search(unit_rows(vectors.matrix[:100]), 6).ids
    for word in words:
        for other, score in found[word]:
            assert score == pytest.approx(float(kv.similarity(word, other)), abs=1e-5)
        scores = [s for _, s in found[word]]
        assert scores == sorted(scores, reverse=True)
    hits = np.mean([len({w for w, _ in found[q]} & {w for w, _ in exact[q]}) for q in words])
    raw_hits = np.mean([len({vectors.words[j] for j in raw[i] if j != i} &
                            {w for w, _ in exact[q]}) for i, q in enumerate(words)])
    assert hits >= raw_hits


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "sq8"])
def test_zero_vector_query_through_an_index_is_no_short_answer_warning(kind, caplog):
    """An all-zero word has no neighbours by nature: it used to be counted as an answer the
    index cut short ('visit more lists (--nprobe)'), even on HNSW and SQ8 indexes."""
    from embedkit.vectors import Vectors

    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(60, 8)).astype(np.float32)
    matrix[5] = 0
    vectors = Vectors([f"w{i}" for i in range(60)], matrix)
    index = Index.build(vectors, kind, **({"nlist": 1} if kind == "ivf" else {}))
    with caplog.at_level("WARNING", logger="embedkit"):
        found = query.neighbors(vectors, ["w0", "w5"], k=58, index=index)
    assert found["w5"] == [] and len(found["w0"]) == 58  # every other non-zero word
    assert "fewer than" not in caplog.text


@pytest.mark.parametrize("factory, approximate", [("SQ8,Refine(SQ4)", True),
                                                  ("IVF8,Flat,Refine(SQ8)", True),
                                                  ("IVF8,PQ5x4fs,RFlat", False),
                                                  ("IVF8,Flat,Refine(Flat)", False)])
def test_refine_stage_that_is_itself_quantised_is_rescored(pair, factory, approximate):
    """Every refine index counted as exact, so 'SQ8,Refine(SQ4)' printed SQ4 scores (off by
    0.01 on lee, in the wrong order) as cosines."""
    kv, vectors = pair
    index = Index.build(vectors, factory)
    assert index.is_approximate_scores is approximate
    words = kv.index_to_key[:50]
    for word, hits in query.neighbors(vectors, words, 5, index=index).items():
        for other, score in hits:
            assert score == pytest.approx(float(kv.similarity(word, other)), abs=1e-5)
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)
