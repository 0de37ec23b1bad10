"""The HDF5 store: round trips, lazy opening, provenance, atomic writes and bad files."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import given, settings
from hypothesis import strategies as st

import embedkit
from embedkit import Vectors, load, save
from embedkit.errors import StoreError
from embedkit.store import FORMAT_VERSION, StoreWriter, extra_arrays
from embedkit.subwords import Subwords


@pytest.fixture(scope="module")
def real(gensim_data):
    kv = KeyedVectors.load_word2vec_format(gensim_data / "pang_lee_polarity_fasttext.vec",
                                           unicode_errors="replace")
    return Vectors(kv.index_to_key, kv.vectors, counts=np.arange(len(kv))[::-1] + 1,
                   metadata={"source": "pang_lee", "params": {"window": 5, "note": "é"}})


def test_round_trip_real_vectors(real, tmp_path):
    path = save(real, tmp_path / "v.h5")
    with load(path) as back:
        assert back.words == real.words
        np.testing.assert_array_equal(back.matrix, real.matrix)
        np.testing.assert_array_equal(back.counts, real.counts)
        assert back.metadata["params"] == {"window": 5, "note": "é"}
        assert back.metadata["source"] == "pang_lee"
        assert back.metadata["format"] == "embedkit"
        assert back.metadata["format_version"] == FORMAT_VERSION
        assert back.metadata["embedkit_version"] == embedkit.__version__
        assert back.metadata["size"] == len(real) and back.metadata["dim"] == real.dim
        assert "created" in back.metadata and len(back.metadata["fingerprint"]) == 32


def test_load_is_lazy_and_rows_are_exact(real, tmp_path):
    path = save(real, tmp_path / "v.h5")
    with load(path) as back:
        assert not back.is_loaded
        word = real.words[1234]
        np.testing.assert_array_equal(back[word], real[word])
        ids = np.array([50, 3, 50, 7])  # unsorted, repeated
        np.testing.assert_array_equal(back.rows(ids), real.matrix[ids])
        assert not back.is_loaded  # a row lookup did not read the matrix
        assert back.most_similar(word, 3) == real.most_similar(word, 3)


def test_layout_matches_the_documented_format(real, tmp_path):
    path = save(real, tmp_path / "v.h5")
    with h5py.File(path) as h5:
        assert h5["vectors"].dtype == np.float32 and h5["vectors"].shape == real.shape
        assert h5["vectors"].chunks is not None and h5["vectors"].compression is None
        assert h5["words"].asstr()[0] == real.words[0]
        assert h5["counts"].dtype == np.int64
        assert json.loads(h5.attrs["params"]) == {"window": 5, "note": "é"}


def test_fingerprint_changes_with_content(real, tmp_path):
    a = load(save(real, tmp_path / "a.h5")).metadata["fingerprint"]
    b = load(save(real, tmp_path / "b.h5")).metadata["fingerprint"]
    changed = Vectors(real.words, real.matrix + np.float32(1e-3), real.counts)
    c = load(save(changed, tmp_path / "c.h5")).metadata["fingerprint"]
    assert a == b != c


def test_subwords_and_extra_arrays_survive(tmp_path, gensim_data):
    from gensim.models.fasttext import load_facebook_vectors

    kv = load_facebook_vectors(str(gensim_data / "lee_fasttext.bin"))
    v = Vectors(kv.index_to_key, kv.vectors,
                subwords=Subwords(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket),
                metadata={"_arrays": {"singular_values": np.array([3.0, 2.0, 1.0])}})
    with load(save(v, tmp_path / "ft.h5")) as back:
        np.testing.assert_allclose(back["unseenword"], kv["unseenword"], rtol=1e-6)
        np.testing.assert_array_equal(extra_arrays(back)["singular_values"], [3.0, 2.0, 1.0])


def test_failed_write_leaves_old_store(real, tmp_path):
    path = save(real, tmp_path / "v.h5")
    before = path.read_bytes()
    with pytest.raises(RuntimeError), StoreWriter(path, real.dim) as writer:
        writer.append(real.words[:10], real.matrix[:10])
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v.h5"]  # no temp file left behind


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("hello\n"), "not an embedkit store"),
        (lambda p: h5py.File(p, "w").close(), "not an embedkit store"),
        (lambda p: p.write_bytes(b""), "not an embedkit store"),
    ],
)
def test_not_a_store(tmp_path, make, message):
    path = tmp_path / "x.h5"
    make(path)
    with pytest.raises(StoreError, match=message):
        load(path)


def test_truncated_store(real, tmp_path):
    path = save(real, tmp_path / "v.h5")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="truncated or corrupt"):
        load(path).matrix  # noqa: B018 - the read is the point


def test_newer_format_version(real, tmp_path):
    path = save(real, tmp_path / "v.h5")
    with h5py.File(path, "a") as h5:
        h5.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(StoreError, match="newer than this embedkit reads"):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(StoreError, match="no such file"):
        load(tmp_path / "nope.h5")


@settings(max_examples=25, deadline=None)
@given(
    words=st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                           min_size=1, max_size=12), min_size=1, max_size=20, unique=True),
    dim=st.integers(1, 9),
)
def test_round_trip_any_unicode_words_and_dims(tmp_path_factory, words, dim):
    rng = np.random.default_rng(len(words) * 31 + dim)
    v = Vectors(words, rng.normal(size=(len(words), dim)).astype(np.float32))
    path = save(v, tmp_path_factory.mktemp("h") / "v.h5")
    with load(path) as back:
        assert back.words == words
        np.testing.assert_array_equal(back.matrix, v.matrix)


def _replace(name, data, **kwargs):
    def edit(h5):
        del h5[name]
        h5.create_dataset(name, data=data, **kwargs)
    return edit


@pytest.mark.parametrize("edit, message", [
    (_replace("words", ["a", "b"], dtype=h5py.string_dtype()), "2 words but 1694 vector rows"),
    (_replace("words", np.arange(1694)), "/words is not a 1-D array of strings"),
    (_replace("vectors", np.zeros(1694, np.float32)), "/vectors is not a 2-D float array"),
    (_replace("counts", np.arange(5)), "/counts is not 1694 integers"),
    (lambda h5: h5.attrs.__setitem__("format_version", "one"), "format_version 'one' is not"),
    (lambda h5: h5.attrs.__setitem__("params", "{oops"), "'params' is not valid JSON"),
])
def test_a_store_with_inconsistent_arrays_is_a_one_line_error(real, tmp_path, edit, message):
    """Tracebacks (IndexError, TypeError, JSONDecodeError, ValueError) from load and info."""
    from embedkit.workspace import describe
    from tests.cli_helpers import run_cli

    path = save(real, tmp_path / "v.h5")
    with h5py.File(path, "a") as h5:
        edit(h5)
    for call in (load, describe):
        with pytest.raises(StoreError, match="corrupt") as caught:
            call(path)
        assert message in str(caught.value) and str(path) in str(caught.value)
    for command in (["info", path], ["export", path, tmp_path / "out.txt", "--format", "glove"]):
        result = run_cli(*command)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[-1].startswith(f"Error: {path}: store is corrupt")
