"""Exporters: round trips through every format, read back by embedkit and by gensim."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit.errors import EmbedkitError
from embedkit.formats import export_vectors, import_vectors, read_vectors
from embedkit.vectors import Vectors
from tests.cli_helpers import run_cli


@pytest.fixture()
def crime(gensim_data) -> Vectors:
    """Real fastText vectors with Cyrillic words (291 x 5)."""
    return read_vectors(gensim_data / "crime-and-punishment.vec")


@pytest.fixture()
def euclid(gensim_data) -> Vectors:
    """Real word2vec binary vectors (2747 x 10)."""
    return read_vectors(gensim_data / "euclidean_vectors.bin")


def test_binary_round_trip_is_bit_exact(euclid, tmp_path):
    path = export_vectors(euclid, tmp_path / "out.bin", "word2vec-binary")
    back = read_vectors(path)
    assert back.metadata["source_format"] == "word2vec-binary"
    assert back.words == euclid.words
    assert back.matrix.tobytes() == euclid.matrix.tobytes()
    gensim = KeyedVectors.load_word2vec_format(str(path), binary=True)
    np.testing.assert_array_equal(gensim.vectors, euclid.matrix)


@pytest.mark.parametrize(("fmt", "detected"), [("word2vec", "word2vec"), ("glove", "glove")])
@pytest.mark.parametrize("precision", [4, 6])
def test_text_round_trip_within_the_printed_precision(crime, tmp_path, fmt, detected, precision):
    path = export_vectors(crime, tmp_path / "out.txt", fmt, precision=precision)
    back = read_vectors(path)
    assert back.metadata["source_format"] == detected
    assert back.words == crime.words
    # %.Pg keeps P significant digits: relative error at most half a unit in the last one
    np.testing.assert_allclose(back.matrix, crime.matrix, rtol=0.5 * 10.0 ** (1 - precision),
                               atol=1e-30)
    if precision == 4:  # and the digits really are cut: not a lossless copy
        assert not np.array_equal(back.matrix, crime.matrix)
    gensim = KeyedVectors.load_word2vec_format(str(path), no_header=fmt == "glove")
    np.testing.assert_array_equal(gensim.vectors, back.matrix)


def test_nine_digits_reproduce_float32_exactly(euclid, tmp_path):
    path = export_vectors(euclid, tmp_path / "out.txt", "word2vec", precision=9)
    np.testing.assert_array_equal(read_vectors(path).matrix, euclid.matrix)


def test_text_layout(crime, tmp_path):
    w2v = export_vectors(crime, tmp_path / "out.vec", "word2vec").read_text("utf-8").splitlines()
    assert w2v[0] == "291 5"
    word, *values = w2v[1].split(" ")
    assert word == crime.words[0] and len(values) == 5
    assert [float(v) for v in values] == pytest.approx(crime.matrix[0], rel=1e-5)
    glove = export_vectors(crime, tmp_path / "out.txt", "glove").read_text("utf-8").splitlines()
    assert glove == w2v[1:]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_export(euclid, tmp_path, suffix):
    path = export_vectors(euclid, tmp_path / f"out.bin{suffix}", "word2vec-binary")
    assert path.read_bytes()[:2] != b"27"  # really compressed, not the plain header
    assert read_vectors(path).matrix.tobytes() == euclid.matrix.tobytes()


def test_gzip_header_names_the_file_and_exports_repeat_exactly(euclid, tmp_path):
    first = export_vectors(euclid, tmp_path / "a" / "out.bin.gz", "word2vec-binary")
    second = export_vectors(euclid, tmp_path / "b" / "out.bin.gz", "word2vec-binary")
    raw = first.read_bytes()
    assert raw[3] & 0x08 and raw[10:raw.index(b"\0", 10)] == b"out.bin"  # FNAME field
    assert raw == second.read_bytes()


def test_export_refuses_its_own_store_and_unwritable_compression(gensim_data, home, tmp_path):
    assert run_cli("import", gensim_data / "test_glove.txt", "--name", "g").exit_code == 0
    store = home / "g" / "vectors.h5"
    before = store.read_bytes()
    result = run_cli("export", "g", store, "--format", "word2vec")
    assert result.exit_code == 2 and "is the store of the set being exported" in result.stderr
    assert store.read_bytes() == before
    result = run_cli("export", "g", tmp_path / "x.txt.zst", "--format", "word2vec")
    assert result.exit_code == 2 and "cannot write .zst compression" in result.stderr
    assert not (tmp_path / "x.txt.zst").exists()


def test_export_from_a_store_streams_the_rows(gensim_data, tmp_path):
    source = gensim_data / "lee_fasttext.bin"
    stored = import_vectors(source, tmp_path / "lee.h5")
    assert not stored.is_loaded
    path = export_vectors(stored, tmp_path / "lee.bin", "word2vec-binary")
    assert not stored.is_loaded  # written block by block, never loaded whole
    back = read_vectors(path)
    original = read_vectors(source)
    assert back.words == original.words
    assert back.matrix.tobytes() == original.matrix.tobytes()
    stored.close()


def test_words_with_a_space_cannot_be_exported_and_nothing_is_written(tmp_path):
    vectors = Vectors(["new york", "paris"], np.eye(2, dtype=np.float32))
    target = tmp_path / "out.txt"
    target.write_text("old content")
    with pytest.raises(EmbedkitError, match="'new york' .row 1. contains a space"):
        export_vectors(vectors, target, "word2vec")
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_words_with_a_space_skipped_or_underscored(tmp_path, home):
    from embedkit import save, workspace

    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    save(Vectors(["new york", "paris", "rome"], matrix), workspace.target_path("sp", home))
    refused = run_cli("export", "sp", tmp_path / "r.txt", "--format", "glove")
    assert refused.exit_code == 1 and "--spaces skip" in refused.stderr
    assert run_cli("export", "sp", tmp_path / "s.bin", "--format", "word2vec-binary",
                   "--spaces", "skip").exit_code == 0
    skipped = read_vectors(tmp_path / "s.bin")
    assert skipped.words == ["paris", "rome"] and skipped.matrix.tolist() == matrix[1:].tolist()
    assert run_cli("export", "sp", tmp_path / "u.txt", "--format", "word2vec",
                   "--spaces", "underscore").exit_code == 0
    assert read_vectors(tmp_path / "u.txt").words == ["new_york", "paris", "rome"]
    bad = run_cli("export", "sp", tmp_path / "x.txt", "--format", "glove", "--spaces", "x")
    assert bad.exit_code == 2 and "--spaces must be one of" in bad.stderr


def test_cli_export_round_trip(gensim_data, home, tmp_path):
    assert run_cli("import", gensim_data / "test_glove.txt", "--name", "g").exit_code == 0
    out = tmp_path / "g.bin"
    result = run_cli("export", "g", out, "--format", "word2vec-binary")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "wrote 76 words x 50 dims" in result.stderr
    with embedkit.load(home / "g" / "vectors.h5") as stored:
        assert read_vectors(out).matrix.tobytes() == stored.matrix.tobytes()
    text = tmp_path / "g.txt"
    assert run_cli("export", "g", text, "--format", "glove", "--precision", "9").exit_code == 0
    gensim = KeyedVectors.load_word2vec_format(str(gensim_data / "test_glove.txt"),
                                               no_header=True)
    np.testing.assert_array_equal(read_vectors(text).matrix, gensim.vectors)


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "csv"], "unknown export format 'csv'"),
    (["--format", "glove", "--precision", "0"], "--precision must be 1 to 17"),
])
def test_cli_export_bad_usage(gensim_data, home, tmp_path, args, message):
    run_cli("import", gensim_data / "test_glove.txt", "--name", "g")
    result = run_cli("export", "g", tmp_path / "x.txt", *args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}")
    assert not (tmp_path / "x.txt").exists()


def test_cli_export_unknown_set(home, tmp_path):
    result = run_cli("export", "nope", tmp_path / "x.txt", "--format", "glove")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no embedding set named 'nope'")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(st.text(st.characters(whitelist_categories=("L", "N", "P", "S")),
                           min_size=1, max_size=12), min_size=1, max_size=30, unique=True),
    dim=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_any_words_and_values_survive_every_format(tmp_path, words, dim, seed):
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-6, 6, size=(len(words), 1))
    matrix = (rng.normal(size=(len(words), dim)) * scale).astype(np.float32)
    vectors = Vectors(words, matrix)
    for fmt in ("word2vec-binary", "word2vec", "glove"):
        back = read_vectors(export_vectors(vectors, tmp_path / f"v.{fmt}", fmt, precision=9))
        assert back.metadata["source_format"] == fmt  # detected
        assert back.words == words
        np.testing.assert_array_equal(back.matrix, matrix)


@pytest.mark.parametrize("raw, a_number", [(b"BBBB", False), (b"0x1A", False),
                                           (b"1.0x", False), (b"1234", True)])
def test_binary_values_whose_bytes_are_printable_are_still_binary(tmp_path, raw, a_number):
    """One float32 can be four printable bytes (hypothesis found word '0' with such a
    value read back as a text row with a bad value)."""
    value = np.frombuffer(raw, "<f4")
    assert np.isfinite(value).all()  # a printable high byte (< 0x7f) is never inf/NaN
    # rows '0 1234' and 'w 1234' alone are a valid text file: test that value beside 0.5,
    # whose bytes hold NULs
    for second in ([] if a_number else [value]) + [np.float32([0.5])]:
        vectors = Vectors(["0", "w"], np.vstack([value, second]).astype(np.float32))
        back = read_vectors(export_vectors(vectors, tmp_path / "v.bin", "word2vec-binary"))
        assert back.metadata["source_format"] == "word2vec-binary"
        np.testing.assert_array_equal(back.matrix, vectors.matrix)


@pytest.mark.parametrize("fmt", ["word2vec-binary", "glove"])
def test_dash_exports_to_standard_output(gensim_data, tmp_path, fmt):
    """`export NAME -` streams the file to stdout (it used to create a file named "-")."""
    import subprocess
    import sys

    store = tmp_path / "e.h5"
    import_vectors(gensim_data / "euclidean_vectors.bin", store)
    export_vectors(embedkit.load(store), tmp_path / "e.out", fmt)
    piped = subprocess.run([sys.executable, "-m", "embedkit", "export", str(store), "-",
                            "--format", fmt], capture_output=True, cwd=tmp_path, check=True)
    assert piped.stdout == (tmp_path / "e.out").read_bytes()
    assert "to standard output" in piped.stderr.decode() and not (tmp_path / "-").exists()
