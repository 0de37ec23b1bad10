"""Truncated SVD against numpy.linalg.svd on a real PPMI matrix; signs, seeds, zero rows."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embedkit.cooccur import CountConfig, count_cooccurrences
from embedkit.errors import EmbedkitError, UsageError
from embedkit.pmi import weight
from embedkit.svd import SVDConfig, embed, truncated_svd, zero_rows
from embedkit.vocab import Vocabulary


@pytest.fixture(scope="module")
def ppmi(gensim_data):
    with open(gensim_data / "lee_background.cor", encoding="utf-8") as f:
        docs = [line.lower().split() for line in f][:100]
    vocab = Vocabulary.from_documents(docs, min_count=5)
    counts = count_cooccurrences((vocab.encode(d, oov="mark") for d in docs), len(vocab),
                                 CountConfig(window=2))
    return weight(counts)


@pytest.fixture(scope="module")
def exact(ppmi):
    return np.linalg.svd(ppmi.toarray(), full_matrices=False)


def subspace_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosines of the principal angles between the column spaces of a and b."""
    return np.linalg.svd(a.T @ b, compute_uv=False)


@pytest.mark.parametrize("algorithm", ["arpack", "randomized"])
def test_matches_numpy(ppmi, exact, algorithm):
    u_ref, s_ref, vt_ref = exact
    dim = 20
    # randomized: more passes than the default, as the tail of a PPMI spectrum is flat
    u, s, vt = truncated_svd(ppmi, dim, algorithm, seed=0, oversample=40, power_iters=8)
    assert u.shape == (ppmi.shape[0], dim) and vt.shape == (dim, ppmi.shape[1])
    assert np.all(np.diff(s) <= 0)
    np.testing.assert_allclose(s, s_ref[:dim], rtol=1e-8 if algorithm == "arpack" else 1e-2)
    # the leading singular vectors agree up to sign; the leading subspace lies in numpy's
    for i in range(3):
        assert abs(u[:, i] @ u_ref[:, i]) == pytest.approx(1, abs=1e-4)
    if algorithm == "arpack":
        assert subspace_cosines(u, u_ref[:, :dim]).min() > 1 - 1e-6
    assert subspace_cosines(u[:, :10], u_ref[:, :dim]).min() > 0.99
    np.testing.assert_allclose(u.T @ u, np.eye(dim), atol=1e-8)
    # truncation error is the norm of the discarded singular values (Eckart-Young)
    residual = np.linalg.norm(ppmi.toarray() - (u * s) @ vt)
    assert residual == pytest.approx(np.sqrt((s_ref[dim:] ** 2).sum()), rel=1e-3)
    assert residual < np.linalg.norm(ppmi.toarray() - (u_ref[:, :dim - 1] * s_ref[:dim - 1])
                                     @ vt_ref[:dim - 1])


def test_randomized_agrees_with_arpack(ppmi):
    u_a, s_a, _ = truncated_svd(ppmi, 50, "arpack")
    u_r, s_r, _ = truncated_svd(ppmi, 50, "randomized", power_iters=8)
    np.testing.assert_allclose(s_r[:20], s_a[:20], rtol=1e-3)
    signed = np.sum(u_a[:, :5] * u_r[:, :5], axis=0)
    assert np.all(signed > 0.999)  # same signs thanks to the sign rule


def test_full_rank_reconstruction_of_small_dense():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((30, 12))
    u, s, vt = truncated_svd(a, 11, "arpack")
    ref = np.linalg.svd(a, compute_uv=False)
    np.testing.assert_allclose(s, ref[:11], rtol=1e-9)
    np.testing.assert_allclose((u * s) @ vt, a - ref[11] * np.outer(*_last_pair(a)), atol=1e-8)


def _last_pair(a):
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return u[:, -1], vt[-1]


@pytest.mark.parametrize("algorithm", ["arpack", "randomized"])
def test_deterministic_signs_and_seed(ppmi, algorithm):
    u1, s1, _ = truncated_svd(ppmi, 10, algorithm, seed=5)
    u2, s2, _ = truncated_svd(ppmi, 10, algorithm, seed=5)
    assert np.array_equal(u1, u2) and np.array_equal(s1, s2)
    pivots = np.argmax(np.abs(u1), axis=0)
    assert np.all(u1[pivots, np.arange(10)] > 0)


def test_threads_do_not_change_results(ppmi):
    one = truncated_svd(ppmi, 10, "randomized", seed=2, workers=1)
    three = truncated_svd(ppmi, 10, "randomized", seed=2, workers=3)
    for a, b in zip(one, three, strict=True):
        assert np.array_equal(a, b)


def test_dim_too_large_and_bad_values(ppmi):
    small = sp.random(8, 6, density=0.5, random_state=0, format="csr")
    with pytest.raises(EmbedkitError, match="at most 5"):
        truncated_svd(small, 6, "arpack")
    with pytest.raises(UsageError, match="unknown SVD algorithm 'lanczos'"):
        truncated_svd(ppmi, 5, "lanczos")
    with pytest.raises(UsageError):
        SVDConfig(dim=0)
    with pytest.raises(UsageError):
        embed(np.ones((2, 2)), np.ones(2), eig=-1)


def test_embed_eig_and_zero_rows():
    m = sp.csr_matrix(np.array([[3.0, 0, 1], [0, 0, 0], [1, 2, 0], [0, 1, 4]]))
    assert zero_rows(m).tolist() == [False, True, False, False]
    u, s, _ = truncated_svd(m, 2, "arpack")
    for p in (0.0, 0.5, 1.0):
        vec = embed(u, s, p, zero=zero_rows(m))
        assert vec.dtype == np.float32
        np.testing.assert_allclose(vec[[0, 2, 3]], (u * s**p)[[0, 2, 3]], rtol=1e-6)
        assert np.all(vec[1] == 0)
