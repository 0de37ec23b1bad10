"""Importers against gensim's own loaders, on real vector files nobody here wrote.

Every vector, the word order and the word count are compared with
``KeyedVectors.load_word2vec_format`` / ``load_facebook_vectors``; fastText ``.bin`` imports
must also give unknown words gensim's subword vectors.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_vectors

import embedkit
from embedkit.formats import detect_format, import_to_workspace, import_vectors, read_vectors
from tests.cli_helpers import run_cli

# (file in gensim's test_data, detected format)
GENSIM_TEXT_AND_BINARY = [
    ("test_glove.txt", "glove"),
    ("lee_fasttext.vec", "fasttext-vec"),
    ("pang_lee_polarity_fasttext.vec", "fasttext-vec"),  # 5 words with invalid UTF-8
    ("crime-and-punishment.vec", "fasttext-vec"),  # Cyrillic words
    ("toy-model.vec", "fasttext-vec"),
    ("high_precision.kv.txt", "word2vec"),
    ("word2vec_pre_kv_c", "word2vec"),
    ("EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", "word2vec"),
    ("IT.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", "word2vec"),
    ("euclidean_vectors.bin", "word2vec-binary"),
    ("poincare_vectors.bin", "word2vec-binary"),
    ("high_precision.kv.bin", "word2vec-binary"),
]
GENSIM_FASTTEXT_BIN = [
    ("lee_fasttext.bin", "utf-8"),  # fastText < 0.2 layout, no magic number
    ("lee_fasttext_new.bin", "utf-8"),
    ("crime-and-punishment.bin", "utf-8"),
    ("toy-model.bin", "utf-8"),
    ("toy-model-pretrained.bin", "utf-8"),
    ("non_ascii_fasttext.bin", "utf-8"),
    ("cp852_fasttext.bin", "cp852"),
]
SHARED = [
    ("glove_6B_samples_allennlp/glove.6B.100d.sample.txt.gz", "glove"),
    ("glove_6B_samples_allennlp/glove.6B.300d.sample.txt.gz", "glove"),
    ("generated_dickens_real_tools/dickens_w2v_sg50.bin", "word2vec-binary"),
    ("generated_dickens_real_tools/dickens_w2v_sg50.txt.gz", "word2vec"),
    ("generated_dickens_real_tools/dickens_fasttext_sg50.vec.gz", "fasttext-vec"),
]
OOV_WORDS = ["xyzzyq", "Ωmega", "smartphones", "ab", "rain-soaked", "internetworking"]


def gensim_kv(path, fmt):
    if fmt == "fasttext-bin":
        return load_facebook_vectors(str(path))
    return KeyedVectors.load_word2vec_format(
        str(path), binary=fmt == "word2vec-binary", no_header=fmt == "glove",
        unicode_errors="replace",
    )


def assert_same_as_gensim(vectors, kv):
    assert len(vectors) == len(kv.index_to_key)
    assert vectors.words == list(kv.index_to_key)
    assert vectors.dim == kv.vector_size
    np.testing.assert_array_equal(vectors.matrix, kv.vectors)


@pytest.mark.parametrize(("name", "fmt"), GENSIM_TEXT_AND_BINARY)
def test_gensim_files_match_gensim(gensim_data, name, fmt):
    path = gensim_data / name
    assert detect_format(path) == fmt
    vectors = read_vectors(path)
    assert vectors.metadata["source_format"] == fmt
    assert_same_as_gensim(vectors, gensim_kv(path, fmt))


@pytest.mark.parametrize(("name", "fmt"), SHARED)
def test_shared_pretrained_files_match_gensim(shared_data, name, fmt):
    path = shared_data / "pretrained_vectors" / name
    assert detect_format(path) == fmt
    assert_same_as_gensim(read_vectors(path), gensim_kv(path, fmt))


@pytest.mark.parametrize(("name", "encoding"), GENSIM_FASTTEXT_BIN)
def test_fasttext_bin_keeps_vectors_counts_and_subwords(gensim_data, name, encoding):
    path = gensim_data / name
    assert detect_format(path) == "fasttext-bin"
    kv = load_facebook_vectors(str(path), encoding=encoding)
    vectors = read_vectors(path, encoding=encoding)
    assert_same_as_gensim(vectors, kv)
    expected_counts = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    np.testing.assert_array_equal(vectors.counts, expected_counts)
    for word in OOV_WORDS + kv.index_to_key[:3]:
        np.testing.assert_array_equal(vectors.vector(word), kv.get_vector(word))


def test_shared_fasttext_bin_through_the_store(shared_data, tmp_path):
    """The 0.9.2 .bin, imported into a store and reopened: rows, counts and OOV vectors."""
    path = shared_data / "pretrained_vectors/generated_dickens_real_tools/dickens_fasttext_sg50.bin"
    kv = load_facebook_vectors(str(path))
    import_vectors(path, tmp_path / "ft.h5").close()
    with embedkit.load(tmp_path / "ft.h5") as vectors:
        assert_same_as_gensim(vectors, kv)
        np.testing.assert_array_equal(vectors.counts,
                                      [kv.get_vecattr(w, "count") for w in kv.index_to_key])
        for word in OOV_WORDS + ["pickwickianism", "londonderry"]:
            assert word not in vectors
            np.testing.assert_array_equal(vectors.vector(word), kv.get_vector(word))
        # the .vec written by the same fastText run holds the same words in the same order
        # and (to its 5 printed digits) the same vectors; gensim rebuilds '</s>', which has
        # no n-grams in fastText, differently, so that one row is left out
        vec = read_vectors(path.with_name("dickens_fasttext_sg50.vec.gz"))
        assert vec.words == vectors.words
        rows = [i for i, w in enumerate(vec.words) if w != "</s>"]
        np.testing.assert_allclose(vec.matrix[rows], vectors.matrix[rows], rtol=1e-4, atol=1e-6)


def test_import_streams_into_a_lazy_store_with_provenance(gensim_data, tmp_path):
    path = gensim_data / "lee_fasttext.vec"
    vectors = import_vectors(path, tmp_path / "lee.h5")
    assert not vectors.is_loaded  # opened lazily
    kv = gensim_kv(path, "fasttext-vec")
    np.testing.assert_array_equal(vectors["the"], kv["the"])
    assert_same_as_gensim(vectors, kv)
    meta = vectors.metadata
    assert meta["source"] == str(path.resolve())
    assert meta["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta["source_format"] == "fasttext-vec"
    assert meta["builder"] == "import"
    assert meta["params"] == {"format": "auto", "limit": None, "encoding": "utf-8"}
    assert meta["stats"]["rows"] == 1762 and meta["stats"]["duplicates_dropped"] == 0
    assert meta["import_seconds"] >= 0
    assert vectors.counts is None  # text files carry no counts
    vectors.close()


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_files_read_transparently(gensim_data, tmp_path, compress):
    original = gensim_data / "euclidean_vectors.bin"
    packed = tmp_path / "vectors.packed"  # no telling extension: detected from the bytes
    packed.write_bytes(compress(original.read_bytes()))
    vectors = read_vectors(packed)
    assert vectors.metadata["source_format"] == "word2vec-binary"
    assert vectors.metadata["source_sha256"] == hashlib.sha256(packed.read_bytes()).hexdigest()
    assert_same_as_gensim(vectors, gensim_kv(original, "word2vec-binary"))


@pytest.mark.parametrize(("name", "fmt"), [("test_glove.txt", "glove"),
                                           ("word2vec_pre_kv_c", "word2vec"),
                                           ("euclidean_vectors.bin", "word2vec-binary"),
                                           ("lee_fasttext.bin", "fasttext-bin")])
def test_limit_reads_the_first_rows(gensim_data, name, fmt):
    path = gensim_data / name
    full = read_vectors(path)
    head = read_vectors(path, limit=17)
    assert head.words == full.words[:17]
    np.testing.assert_array_equal(head.matrix, full.matrix[:17])
    assert head.metadata["params"]["limit"] == 17


def test_format_override_reads_a_vec_as_word2vec(gensim_data):
    vectors = read_vectors(gensim_data / "lee_fasttext.vec", format="word2vec")
    assert vectors.metadata["source_format"] == "word2vec"
    assert len(vectors) == 1762


def test_cli_import_then_info_and_list(gensim_data, home):
    result = run_cli("import", gensim_data / "crime-and-punishment.bin", "--name", "crime")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # messages go to stderr
    assert "imported 291 words x 5 dims (fasttext-bin)" in result.stderr
    info = json.loads(run_cli("info", "crime", "--json").stdout)
    assert info["size"] == 291 and info["dim"] == 5
    assert info["source_format"] == "fasttext-bin" and info["has_subwords"] and info["has_counts"]
    listed = json.loads(run_cli("list", "--json").stdout)
    assert [row["name"] for row in listed] == ["crime"]
    kv = load_facebook_vectors(str(gensim_data / "crime-and-punishment.bin"))
    with embedkit.load(home / "crime" / "vectors.h5") as vectors:
        np.testing.assert_array_equal(vectors.vector("landlord"), kv.get_vector("landlord"))


def test_import_to_workspace_refuses_an_existing_name_unless_forced(gensim_data, home):
    import_to_workspace(gensim_data / "test_glove.txt", "g").close()
    result = run_cli("import", gensim_data / "toy-model.vec", "--name", "g")
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert len(embedkit.load(home / "g" / "vectors.h5")) == 76
    forced = run_cli("import", gensim_data / "toy-model.vec", "--name", "g", "--force")
    assert forced.exit_code == 0, forced.stderr
    with embedkit.load(home / "g" / "vectors.h5") as vectors:
        assert len(vectors) == 22 and vectors.metadata["source_format"] == "fasttext-vec"


@pytest.mark.parametrize("name", ["word2vec_pre_kv_c", "test_glove.txt"])
def test_crlf_line_ends_and_a_byte_order_mark_are_read(gensim_data, tmp_path, name):
    original = read_vectors(gensim_data / name)
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + (gensim_data / name).read_bytes().replace(b"\n", b"\r\n"))
    vectors = read_vectors(path)
    assert vectors.metadata["source_format"] == original.metadata["source_format"]
    assert vectors.words == original.words
    np.testing.assert_array_equal(vectors.matrix, original.matrix)


def test_compressed_fasttext_bin_under_any_name(gensim_data, tmp_path):
    original = gensim_data / "lee_fasttext_new.bin"
    packed = tmp_path / "model"  # gzip data, no telling extension
    packed.write_bytes(gzip.compress(original.read_bytes()))
    vectors = read_vectors(packed)
    assert vectors.metadata["source_compression"] == "gzip"
    kv = load_facebook_vectors(str(original))
    assert_same_as_gensim(vectors, kv)
    np.testing.assert_array_equal(vectors.vector("xyzzyq"), kv.get_vector("xyzzyq"))


@pytest.mark.parametrize("name", ["test_glove.txt", "euclidean_vectors.bin",
                                  "lee_fasttext_new.bin"])
def test_a_pipe_is_read_from_its_first_byte(gensim_data, tmp_path, name):
    """`embedkit import <(zcat x.gz)` or /dev/stdin: the file was opened twice (once for
    the compression magic), so the parse started 6 bytes in and a .bin was re-read by gensim."""
    import contextlib
    import os
    import threading

    original = gensim_data / name
    data = original.read_bytes()
    read_end, write_end = os.pipe()

    def feed():
        with os.fdopen(write_end, "wb") as pipe, contextlib.suppress(BrokenPipeError):
            pipe.write(data)  # a reader that stops early must not leave this thread blocked

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        vectors = import_vectors(f"/dev/fd/{read_end}", tmp_path / "piped.h5")
    finally:
        os.close(read_end)
        feeder.join()
    expected = read_vectors(original)
    assert vectors.words == expected.words
    np.testing.assert_array_equal(vectors.matrix, expected.matrix)
    assert vectors.metadata["source_sha256"] == hashlib.sha256(data).hexdigest()
    assert vectors.metadata["source"] == "pipe"  # not /proc/PID/fd/pipe:[INODE]


def test_a_dash_imports_standard_input(gensim_data, tmp_path):
    import subprocess
    import sys

    original = gensim_data / "euclidean_vectors.bin"
    done = subprocess.run([sys.executable, "-m", "embedkit", "import", "-", "--name", "piped",
                           "--home", str(tmp_path)], input=original.read_bytes(),
                          capture_output=True, check=True)
    assert b"imported 2747 words" in done.stderr
    vectors = embedkit.load(tmp_path / "piped" / "vectors.h5")
    np.testing.assert_array_equal(vectors.matrix, read_vectors(original).matrix)
    assert vectors.metadata["source"] == "stdin"


def test_a_control_byte_in_a_word_does_not_make_a_text_file_binary(tmp_path):
    """A word2vec text file was detected as binary and imported as garbage floats."""
    rows = b"2 3\na\x01b 0.5 -1 2.25\nc 3 4 5\n"
    path = tmp_path / "ctrl.txt"
    path.write_bytes(rows)
    kv = KeyedVectors.load_word2vec_format(path)
    assert detect_format(path) == "word2vec"
    vectors = read_vectors(path)
    assert vectors.words == kv.index_to_key == ["a\x01b", "c"]
    np.testing.assert_array_equal(vectors.matrix, kv.vectors)
