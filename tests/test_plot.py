"""2-D word maps: the right words, a correct projection, an image written atomically."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from embedkit import query
from embedkit.errors import UnknownWordError, UsageError
from embedkit.plot import plot_words, project_pca, word_map
from embedkit.vectors import Vectors, unit_rows
from tests.search_fixtures import as_vectors, keyed_vectors

WORDS = ["government", "police", "Australia"]


@pytest.fixture(scope="module")
def lee(gensim_data):
    return as_vectors(keyed_vectors(str(gensim_data / "lee_fasttext.vec")))


def test_map_holds_the_words_and_their_neighbours(lee):
    data = word_map(lee, WORDS, neighbors=4)
    found = query.neighbors(lee, WORDS, 4)
    expected = list(dict.fromkeys(w for q in WORDS for w in [q] + [n for n, _ in found[q]]))
    assert data["words"] == expected
    assert data["coords"].shape == (len(expected), 2)
    assert [data["groups"][data["words"].index(q)] for q in WORDS] == [0, 1, 2]


def test_pca_equals_scikit_learn_up_to_sign(lee):
    points = unit_rows(lee.matrix[:60])
    ours = project_pca(points)
    reference = PCA(n_components=2).fit_transform(points.astype(np.float64))
    for j in range(2):
        sign = np.sign(ours[:, j] @ reference[:, j])
        np.testing.assert_allclose(ours[:, j], sign * reference[:, j], atol=1e-5)


@pytest.mark.parametrize("method, suffix", [("pca", "png"), ("pca", "svg"), ("tsne", "png")])
def test_plot_writes_an_image_atomically(lee, tmp_path, method, suffix):
    out = tmp_path / "maps" / f"map.{suffix}"
    path = plot_words(lee, WORDS, neighbors=5, method=method, out_path=out)
    data = path.read_bytes()
    assert path == out and len(data) > 5_000
    assert data.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in data[:1000]
    assert b"government" in data or suffix == "png"  # SVG text keeps the labels
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_existing_image_survives_a_failed_plot(lee, tmp_path):
    out = tmp_path / "map.png"
    out.write_bytes(b"old image")
    with pytest.raises(UnknownWordError):
        plot_words(lee, ["government", "zzqxv"], out_path=out)
    assert out.read_bytes() == b"old image"


@pytest.mark.parametrize("kwargs, error", [
    ({"method": "umap"}, UsageError),
    ({"neighbors": -1}, UsageError),
    ({"out_path": "map.xyz"}, UsageError),
])
def test_bad_arguments(lee, tmp_path, kwargs, error):
    kwargs.setdefault("out_path", tmp_path / "map.png")
    if not str(kwargs["out_path"]).startswith(str(tmp_path)):
        kwargs["out_path"] = tmp_path / kwargs["out_path"]
    with pytest.raises(error):
        plot_words(lee, WORDS, **kwargs)
    with pytest.raises(UsageError):
        plot_words(lee, [], out_path=tmp_path / "empty.png")


def test_words_with_dollar_signs_are_labels_not_formulas(tmp_path):
    # '$' starts matplotlib mathtext: '$x^$' raised a parse error and '$\alpha$' drew an alpha
    words = ["$x^$", "$\\alpha$", "plain"]
    rng = np.random.default_rng(0)
    vectors = Vectors(words, rng.normal(size=(3, 4)).astype(np.float32))
    path = plot_words(vectors, words, neighbors=0, out_path=tmp_path / "map.svg")
    data = path.read_bytes()
    assert b"$x^$" in data and b"$\\alpha$" in data
