"""The lecture's examples on the course's own data: Salammbô letter counts and LSA."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.lecture import (
    CHAPTERS,
    course_counts,
    lsa,
    read_chapter,
    salammbo_letter_svd,
)


@pytest.fixture(scope="module")
def salammbo(shared_data):
    return shared_data / "salammbo"


def read_tsv(path):
    return [tuple(int(x) for x in line.split()) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_counts_equal_course_files(salammbo, language):
    a_rows = read_tsv(salammbo / "letter_counts" / f"salammbo_a_{language}.tsv")
    e_rows = read_tsv(salammbo / "letter_counts" / f"salammbo_e_{language}.tsv")
    for chapter in range(1, CHAPTERS + 1):
        total, a, e = course_counts(read_chapter(salammbo, language, chapter))
        assert (total, a) == a_rows[chapter - 1]
        assert (total, e) == e_rows[chapter - 1]


def test_svd_separates_french_from_english(salammbo):
    result = salammbo_letter_svd(salammbo)
    assert result.counts.shape == (30, 26)
    found = result.separating_component()
    assert found is not None
    component, threshold = found
    assert component in (0, 1)  # the lecture: one of the first two components
    fr = result.languages == "fr"
    side = result.components[:, component] > threshold
    assert np.all(side == fr) or np.all(side == ~fr)
    # component 1 follows chapter length (the counts' scale), as in the lecture
    lengths = result.counts.sum(axis=1)
    assert abs(np.corrcoef(np.abs(result.components[:, 0]), lengths)[0, 1]) > 0.99


def test_lsa_matches_numpy_on_real_documents(gensim_data):
    with open(gensim_data / "lee_background.cor", encoding="utf-8") as f:
        docs = [line.lower().split() for line in f][:12]
    result = lsa(docs, dim=4)
    dense = result.term_document.toarray().astype(np.float64)
    assert dense.shape == (len(result.vocabulary), 12)
    # the term-document matrix holds each word's count in each document
    the = result.vocabulary.word_to_id["the"]
    assert dense[the].tolist() == [d.count("the") for d in docs]
    u, s, vt = np.linalg.svd(dense, full_matrices=False)
    np.testing.assert_allclose(result.singular_values, s[:4], rtol=1e-8)
    np.testing.assert_allclose(np.abs(result.document_vectors), np.abs(vt[:4].T * s[:4]),
                               atol=1e-8)
    np.testing.assert_allclose(np.abs(result.word_vectors), np.abs(u[:, :4] * s[:4]), atol=1e-8)
