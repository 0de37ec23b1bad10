"""Bad vector files: a clear error naming file and line (library and CLI), or a warning.

Bad files are made in tmp_path from real ones (gensim's test data) by breaking one thing;
a few real broken or foreign files from gensim are used as they are.
"""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedkit.errors import InputFormatError, NotFoundError
from embedkit.formats import detect_format, import_vectors, read_vectors
from tests.cli_helpers import run_cli

NOT_VECTORS = "not a word2vec, GloVe or fastText file"


def lines_of(path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write(path, lines: list[bytes]):
    path.write_bytes(b"".join(lines))
    return path


def assert_fails(path, *fragments, home=None, **kwargs):
    """Library raises InputFormatError; CLI exits 1 with one `Error:` line; both say where."""
    with pytest.raises(InputFormatError) as caught:
        read_vectors(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    args = ["import", path, "--name", "bad"]
    if "format" in kwargs:
        args += ["--format", kwargs["format"]]
    result = run_cli(*args)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == f"Error: {message}"  # last, after any progress or info lines
    assert [line for line in lines if line.startswith("Error")] == [lines[-1]]
    assert "Traceback" not in result.stderr
    if home is not None:
        assert not (home / "bad").exists()  # a failed import leaves nothing behind
    return message


@pytest.fixture()
def glove(gensim_data):
    return gensim_data / "test_glove.txt"


@pytest.fixture()
def w2v(gensim_data):
    return gensim_data / "word2vec_pre_kv_c"  # word2vec text: header 1750 10


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, home, content):
    assert_fails(write(tmp_path / "empty.txt", [content]), "file is empty", home=home)


def test_empty_compressed_file(tmp_path, home):
    path = tmp_path / "empty.txt.gz"
    path.write_bytes(gzip.compress(b""))
    assert_fails(path, "file is empty", home=home)


def test_header_count_larger_than_the_rows_real_file(gensim_data, home):
    # gensim ships pretrained.vec with header "3 5" and a single row
    assert_fails(gensim_data / "pretrained.vec", "pretrained.vec:3:",
                 "header says 3 words but the file ends after 1 rows", home=home)


def test_header_count_smaller_than_the_rows(tmp_path, w2v, home):
    lines = lines_of(w2v)
    lines[0] = b"1000 10\n"
    message = assert_fails(write(tmp_path / "w.txt", lines), "w.txt:1002:",
                           "more rows than the header's count (1000)", home=home)
    assert "--limit 1000" in message


def test_header_dimension_disagrees_with_rows(tmp_path, w2v, home):
    lines = lines_of(w2v)
    lines[0] = b"1750 12\n"
    assert_fails(write(tmp_path / "w.txt", lines), "w.txt:2:", "10 values for 'the', expected 12",
                 "header on line 1 says 12", home=home)


def test_row_with_too_few_values(tmp_path, glove, home):
    lines = lines_of(glove)
    word, *values = lines[40].split(b" ")
    lines[40] = b" ".join([word, *values[:-1]]).rstrip() + b"\n"
    assert_fails(write(tmp_path / "g.txt", lines), "g.txt:41:",
                 f"49 values for {word.decode()!r}, expected 50 (line 1 has 50)", home=home)


def test_row_with_too_many_values(tmp_path, w2v, home):
    lines = lines_of(w2v)
    lines[1500] = lines[1500].rstrip() + b" 0.5\n"
    assert_fails(write(tmp_path / "w.txt", lines), "w.txt:1501:", "11 values", "expected 10",
                 home=home)


def test_rows_that_compensate_each_other_are_still_caught(tmp_path, glove):
    lines = lines_of(glove)
    lines[10] = lines[10].rstrip() + b" 0.25\n"   # one value too many ...
    word, *values = lines[11].split(b" ")
    lines[11] = b" ".join([word, *values[:-1]]).rstrip() + b"\n"  # ... one too few
    with pytest.raises(InputFormatError, match=r"g\.txt:11: 51 values"):
        read_vectors(write(tmp_path / "g.txt", lines))


def test_non_numeric_value(tmp_path, glove, home):
    lines = lines_of(glove)
    parts = lines[5].split(b" ")
    parts[7] = b"0.12.5"
    lines[5] = b" ".join(parts)
    assert_fails(write(tmp_path / "g.txt", lines), "g.txt:6:", "value 7 of",
                 "is not a number: '0.12.5'", home=home)


@pytest.mark.parametrize("bad", [b"0x10", b"x", b"1,5"])
def test_non_numeric_value_in_the_first_row_of_a_headed_file(tmp_path, w2v, home, bad):
    """Not taken for word2vec binary (whose errors would speak of truncation)."""
    lines = lines_of(w2v)
    parts = lines[1].split(b" ")
    parts[2] = bad
    lines[1] = b" ".join(parts)
    path = write(tmp_path / "w.txt", lines)
    assert detect_format(path) == "word2vec"
    assert_fails(path, "w.txt:2:", "value 2 of 'the'", f"is not a number: {bad.decode()!r}",
                 home=home)


@pytest.mark.parametrize("bad", [b"nan", b"NaN", b"inf", b"-Infinity", b"1e39"])
def test_nan_or_infinite_value_in_text(tmp_path, glove, home, bad):
    lines = lines_of(glove)
    parts = lines[20].split(b" ")
    parts[3] = bad
    lines[20] = b" ".join(parts)
    assert_fails(write(tmp_path / "g.txt", lines), "g.txt:21:", "value 3 of",
                 "NaN, infinite, or beyond the float32 range", home=home)


def binary_row_offsets(data: bytes, dim: int, rows: int) -> list[tuple[int, int]]:
    """(word start, vector start) of the first rows of a word2vec binary file."""
    out, pos = [], data.index(b"\n") + 1
    for _ in range(rows):
        space = data.index(b" ", pos)
        out.append((pos, space + 1))
        pos = space + 1 + 4 * dim
    return out


def test_nan_in_binary_file(tmp_path, gensim_data, home):
    data = bytearray((gensim_data / "euclidean_vectors.bin").read_bytes())
    (word, vector), = binary_row_offsets(data, 10, 2)[1:]
    assert data[word:vector] == b"to "
    data[vector + 8:vector + 12] = np.float32("nan").tobytes()
    path = tmp_path / "nan.bin"
    path.write_bytes(bytes(data))
    assert_fails(path, "row 2: value 3 of 'to'", "NaN", home=home)


def test_truncated_binary_file(tmp_path, gensim_data, home):
    data = (gensim_data / "euclidean_vectors.bin").read_bytes()
    path = tmp_path / "cut.bin"
    path.write_bytes(data[: len(data) // 2])
    assert_fails(path, "header says 2747 words but the file ends after", home=home)


def test_duplicate_words_keep_the_first_and_warn(tmp_path, glove, home):
    lines = lines_of(glove)
    duplicate = lines[3].split(b" ", 1)[0] + b" " + b" ".join([b"9.5"] * 50) + b"\n"
    path = write(tmp_path / "dup.txt", [*lines[:30], duplicate, *lines[30:], lines[0]])
    vectors = read_vectors(path)
    original = read_vectors(glove)
    assert vectors.words == original.words  # order kept, repeats dropped
    np.testing.assert_array_equal(vectors.matrix, original.matrix)  # the first row won
    assert vectors.metadata["stats"]["duplicates_dropped"] == 2
    gensim = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    assert [w for w in gensim.index_to_key if w is not None] == vectors.words  # gensim pads
    np.testing.assert_array_equal(vectors.matrix, [gensim[w] for w in vectors.words])
    result = run_cli("import", path, "--name", "dup")
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "2 duplicate words dropped" in result.stderr
    assert "dup.txt" in result.stderr and "line 31" in result.stderr


def test_invalid_utf8_in_a_real_vec_file(gensim_data, home):
    path = gensim_data / "pang_lee_polarity_fasttext.vec"
    vectors = read_vectors(path)
    stats = vectors.metadata["stats"]
    assert stats["invalid_utf8_words"] == 5 and stats["replaced_bytes"] == 5
    gensim = KeyedVectors.load_word2vec_format(str(path), unicode_errors="replace")
    assert vectors.words == gensim.index_to_key
    assert sum("\ufffd" in w for w in vectors.words) == 5
    result = run_cli("import", path, "--name", "pang")
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "5 words had invalid utf-8 bytes" in result.stderr


def test_invalid_utf8_in_a_binary_file(tmp_path, gensim_data):
    data = bytearray((gensim_data / "euclidean_vectors.bin").read_bytes())
    (word, vector), = binary_row_offsets(data, 10, 3)[2:]
    assert data[word:vector] == b"of "
    data[word:vector] = b"o\xff\xfe "
    path = tmp_path / "latin.bin"
    path.write_bytes(bytes(data))
    vectors = read_vectors(path)
    assert vectors.metadata["stats"]["invalid_utf8_words"] == 1
    assert vectors.metadata["stats"]["replaced_bytes"] == 2
    gensim = KeyedVectors.load_word2vec_format(str(path), binary=True, unicode_errors="replace")
    assert vectors.words == gensim.index_to_key and "o\ufffd\ufffd" in vectors
    np.testing.assert_array_equal(vectors.matrix, gensim.vectors)


@pytest.mark.parametrize("name", ["fb-ngrams.txt", "questions-words.txt", "testcorpus.txt",
                                  "varembed_morfessor.bin", "test_corpus_ok.mm"])
def test_files_in_none_of_the_formats(gensim_data, home, name):
    path = gensim_data / name
    with pytest.raises(InputFormatError, match=NOT_VECTORS):
        detect_format(path)
    assert_fails(path, NOT_VECTORS, home=home)


def test_image_file_is_in_none_of_the_formats(tmp_path, home):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert_fails(path, NOT_VECTORS, home=home)


def test_supervised_fasttext_model_is_refused(gensim_data, home):
    assert_fails(gensim_data / "pang_lee_polarity_fasttext.bin",
                 "supervised fastText model", home=home)


@pytest.mark.parametrize("name, fmt", [("euclidean_vectors.bin", "word2vec"),
                                       ("euclidean_vectors.bin", "glove"),
                                       ("lee_fasttext.bin", "glove")])
def test_binary_file_forced_as_text_says_it_looks_binary(gensim_data, home, name, fmt):
    assert_fails(gensim_data / name, f"{name}:", "the rows look binary",
                 "leave out --format", home=home, format=fmt)


def test_wrong_format_override(glove, home):
    assert_fails(glove, "test_glove.txt:1:", "expected a word2vec header",
                 "--format glove", home=home, format="word2vec")


def test_missing_file(tmp_path, home):
    path = tmp_path / "nope.txt"
    with pytest.raises(NotFoundError, match="no such file"):
        import_vectors(path, tmp_path / "out.h5")
    result = run_cli("import", path, "--name", "x")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"Error: {path}: no such file"]


def test_bad_usage_exits_2(glove, home):
    for args in (["--format", "csv"], ["--limit", "0"], ["--encoding", "klingon"]):
        result = run_cli("import", glove, "--name", "g", *args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("Error:") and len(result.stderr.splitlines()) == 1
    assert not (home / "g").exists()


def test_words_with_spaces_are_kept_whole_with_a_warning(tmp_path, glove, home):
    # glove.840B.300d has rows like ". . . 0.1 ...": the extra non-numbers belong to the word
    lines = lines_of(glove)
    word, rest = lines[30].split(b" ", 1)
    lines[30] = word + b" . . " + rest
    path = write(tmp_path / "spaced.txt", lines)
    vectors = read_vectors(path)
    original = read_vectors(glove)
    spaced = f"{word.decode()} . ."
    assert vectors.words == [*original.words[:30], spaced, *original.words[31:]]
    np.testing.assert_array_equal(vectors[spaced], original.matrix[30])
    assert vectors.metadata["stats"]["words_with_spaces"] == 1
    result = run_cli("import", path, "--name", "spaced")
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "1 words contain spaces" in result.stderr


def test_truncated_fasttext_bin(tmp_path, gensim_data, home):
    path = tmp_path / "cut.bin"
    path.write_bytes((gensim_data / "lee_fasttext_new.bin").read_bytes()[:100_000])
    assert_fails(path, "not a readable fastText .bin model", "truncated or corrupt", home=home)


@pytest.mark.parametrize("name", ["lee_fasttext_new.bin", "lee_fasttext.bin"])
@pytest.mark.parametrize("cut", [1, 41, 200])
def test_fasttext_bin_cut_inside_its_output_matrix_warns(tmp_path, gensim_data, home, name,
                                                         cut):
    """gensim stops before the output matrix; the cut must not pass silently."""
    whole = read_vectors(gensim_data / name)
    path = tmp_path / "cut.bin"
    path.write_bytes((gensim_data / name).read_bytes()[:-cut])
    vectors = read_vectors(path)  # the word and subword vectors are all there
    np.testing.assert_array_equal(vectors.matrix, whole.matrix)
    result = run_cli("import", path, "--name", "cut")
    assert result.exit_code == 0
    warning, = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert "cut.bin" in warning and "output matrix" in warning and "truncated" in warning
    assert "Warning:" not in run_cli("import", gensim_data / name, "--name", "whole").stderr


def test_an_embedkit_store_is_not_a_vector_file(tmp_path, gensim_data, home):
    store = tmp_path / "lee.h5"
    import_vectors(gensim_data / "toy-model.vec", store).close()
    assert_fails(store, NOT_VECTORS, "an HDF5 file", home=home)


def test_encoding_option_reads_latin1_words(tmp_path, glove):
    lines = lines_of(glove)
    lines[8] = b"caf\xe9" + lines[8][lines[8].index(b" "):]
    path = write(tmp_path / "latin1.txt", lines)
    replaced = read_vectors(path)
    assert replaced.words[8] == "caf\ufffd" and replaced.metadata["stats"]["replaced_bytes"] == 1
    latin1 = read_vectors(path, encoding="latin-1")
    assert latin1.words[8] == "café" and latin1.metadata["stats"]["invalid_utf8_words"] == 0
    np.testing.assert_array_equal(latin1.matrix, read_vectors(glove).matrix)


def test_text_file_forced_as_binary(w2v, home):
    assert_fails(w2v, "word2vec_pre_kv_c:2:", "the rows are text, not binary", home=home,
                 format="word2vec-binary")


def test_binary_rows_beyond_the_header_count_are_an_error(tmp_path, home):
    rows = b"".join(w + b" " + np.arange(4, dtype="<f4").tobytes() + b"\n"
                    for w in (b"a", b"b", b"c"))
    path = write(tmp_path / "more.bin", [b"2 4\n", rows])
    assert_fails(path, "row 3", "more rows than the header's count (2)", "--limit 2", home=home)
    assert read_vectors(path, limit=2).words == ["a", "b"]


@pytest.mark.parametrize("rows, words", [
    (b"3 2\nnew york 3 4\na 1 2\nc 5 6\n", ["new york", "a", "c"]),  # a spaced first word
    (b"2 2\na  1 2\nb 3 4\n", ["a", "b"]),  # a double space
])
def test_text_rows_are_not_taken_for_binary(tmp_path, rows, words):
    path = write(tmp_path / "t.txt", [rows])
    assert detect_format(path) == "word2vec"
    assert read_vectors(path).words == words


def test_tab_separated_rows_say_so_without_numpy_noise(tmp_path, home, recwarn):
    path = write(tmp_path / "tabs.txt", [b"2 2\n", b"a\t1\t2\n", b"b\t3\t4\n"])
    assert_fails(path, "tabs.txt:2:", "separated by tabs", home=home)
    assert not [w for w in recwarn if "loadtxt" in str(w.message)]


def test_fasttext_format_mistakes_are_named(gensim_data, tmp_path, home):
    head = (gensim_data / "lee_fasttext_new.bin").read_bytes()[:30]
    assert_fails(write(tmp_path / "ft.bin", [head]), "ends after 30 bytes (truncated file)",
                 home=home)
    assert_fails(gensim_data / "word2vec_pre_kv_c", "not a fastText .bin model",
                 "leave out --format", format="fasttext-bin", home=home)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cut", [503, 505, 506, 2000, 20_000])
def test_fasttext_bin_cut_inside_its_vocabulary_fails_fast(tmp_path, gensim_data, home, cut):
    """gensim reads a word byte by byte until a NUL: at the end of a cut file it never stops."""
    path = tmp_path / "cut.bin"
    path.write_bytes((gensim_data / "lee_fasttext_new.bin").read_bytes()[:cut])
    assert_fails(path, "not a readable fastText .bin model", "header declares 1763 words",
                 f"more than its {cut} bytes can hold", "truncated or corrupt", home=home)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, vocab_at, dim_at", [("lee_fasttext_new.bin", 64, 8),
                                                    ("lee_fasttext.bin", 56, 0)])
@pytest.mark.parametrize("field, value", [("vocab", 2_000_000_000), ("vocab", -5),
                                          ("dim", 90_000)])
def test_fasttext_header_claiming_more_than_the_file_holds(tmp_path, gensim_data, home, name,
                                                           vocab_at, dim_at, field, value):
    import struct

    data = bytearray((gensim_data / name).read_bytes())
    at = vocab_at if field == "vocab" else dim_at
    data[at:at + 4] = struct.pack("<i", value)
    path = tmp_path / "claims.bin"
    path.write_bytes(bytes(data))
    assert_fails(path, "not a readable fastText .bin model", "header declares",
                 f"more than its {len(data)} bytes can hold", home=home)


@pytest.mark.parametrize("name, rows", [
    ("nul.txt", [b"a 0.1 0.2\n", b"b\x00c 0.3 0.4\n"]),
    ("nul.bin", [b"2 2\n", b"a " + np.float32([1, 2]).tobytes() + b"\n",
                 b"b\x00c " + np.float32([3, 4]).tobytes() + b"\n"]),
])
def test_a_nul_byte_in_a_word_is_named_not_a_traceback(tmp_path, home, name, rows):
    """gensim keeps such words; the store's strings cannot hold a NUL (h5py raised)."""
    message = assert_fails(write(tmp_path / name, rows), "'b\\x00c'", "NUL byte", home=home)
    assert ("nul.txt:2:" if name.endswith("txt") else "row 2") in message


def test_a_header_claiming_more_rows_than_memory_holds(tmp_path):
    """The in-memory reader made room for the header's count before reading a row."""
    path = write(tmp_path / "lie.txt", [b"99999999999 3\n", b"a 0.1 0.2 0.3\n"])
    with pytest.raises(InputFormatError, match="the header says 99999999999 words but the "
                                               "file ends after 1 rows"):
        read_vectors(path)


def test_corrupt_fasttext_values_are_one_line_without_numpy_warnings(tmp_path, gensim_data,
                                                                     home):
    raw = (gensim_data / "crime-and-punishment.bin").read_bytes()
    path = write(tmp_path / "corrupt.bin", [raw.replace(b"\n", b"\r\n", 1)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_fails(path, "is nan", home=home)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
