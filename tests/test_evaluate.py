"""Evaluation numbers equal gensim's evaluate_word_pairs / evaluate_word_analogies."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import InputFormatError, NotFoundError
from embedkit.evaluate import evaluate_analogies, evaluate_pairs, read_analogies, read_pairs
from tests.search_fixtures import DICKENS, as_vectors, keyed_vectors

BENCH = "word_benchmarks"


@pytest.fixture(scope="module")
def dickens(shared_data):
    kv = keyed_vectors(str(shared_data / DICKENS))
    return kv, as_vectors(kv)


@pytest.fixture(scope="module")
def lee(gensim_data):
    kv = keyed_vectors(str(gensim_data / "lee_fasttext.vec"))
    return kv, as_vectors(kv)


def _assert_same_pairs(ours, gensim_result):
    pearson, spearman, oov_ratio = gensim_result
    assert ours["spearman"] == pytest.approx(spearman[0], abs=1e-9)
    assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert 100 * (1 - ours["coverage"]) == pytest.approx(oov_ratio, abs=1e-9)


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
@pytest.mark.parametrize("which", ["lee", "dickens"])
def test_gensim_pair_files_equal_gensim(request, gensim_data, name, which):
    kv, vectors = request.getfixturevalue(which)
    path = gensim_data / name
    _assert_same_pairs(evaluate_pairs(vectors, path), kv.evaluate_word_pairs(path))


@pytest.mark.parametrize("relpath, delimiter", [
    ("faruqui_wordsim/EN-MTurk-771.txt", "\t"),   # CRLF line endings
    ("faruqui_wordsim/EN-MEN-TR-3k.txt", "\t"),
    ("faruqui_wordsim/EN-RW-STANFORD.txt", "\t"),
    ("hyperwords_testsets/ws/bruni_men.txt", " "),  # space-separated
])
def test_shared_pair_files_equal_gensim(dickens, shared_data, relpath, delimiter):
    kv, vectors = dickens
    path = shared_data / BENCH / relpath
    for restrict in (300_000, 2000):
        _assert_same_pairs(evaluate_pairs(vectors, path, restrict=restrict),
                           kv.evaluate_word_pairs(path, delimiter=delimiter,
                                                  restrict_vocab=restrict))


def test_dummy4unknown_equals_gensim(dickens, gensim_data):
    kv, vectors = dickens
    path = gensim_data / "wordsim353.tsv"
    ours = evaluate_pairs(vectors, path, dummy4unknown=True)
    pearson, spearman, _ = kv.evaluate_word_pairs(path, dummy4unknown=True)
    assert ours["spearman"] == pytest.approx(spearman[0], abs=1e-9)


def test_vecto_csv_reads_the_same_pairs_as_the_tsv(shared_data):
    csv_pairs, _ = read_pairs(shared_data / BENCH / "vecto_word_benchmarks/word-similarity/"
                                             "monolingual/en/rg-65.csv")
    tsv_pairs, invalid = read_pairs(shared_data / BENCH / "faruqui_wordsim/EN-RG-65.txt")
    assert len(csv_pairs) == len(tsv_pairs) == 65 and invalid == 0
    assert [p[2] for p in csv_pairs] == [p[2] for p in tsv_pairs]
    differ = [(c, t) for c, t in zip(csv_pairs, tsv_pairs, strict=True) if c != t]
    assert differ == [(("cord", "smile", 0.02), ("chord", "smile", 0.02))]  # the files differ


def test_pair_reader_skips_comments_and_counts_bad_lines(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"# comment\r\nold\tnew\t1.58\r\nsmart intelligent 9.2\r\nbad line\r\n\r\n")
    pairs, invalid = read_pairs(path)
    assert pairs == [("old", "new", 1.58), ("smart", "intelligent", 9.2)]
    assert invalid == 1  # "bad line"; the blank line is skipped, as gensim does


def _assert_same_analogies(ours, gensim_result):
    score, sections = gensim_result
    assert ours["total"]["accuracy"] == pytest.approx(score, abs=1e-12)
    assert len(ours["sections"]) == len(sections) - 1
    for mine, theirs in zip(ours["sections"], sections, strict=False):
        assert mine["section"] == theirs["section"]
        assert (mine["correct"], mine["incorrect"]) == (len(theirs["correct"]),
                                                        len(theirs["incorrect"]))


def _every_nth_question(source, target, n):
    """A copy of an analogy file with all section headers and every n-th question
    (gensim solves one question at a time, too slowly for the test budget)."""
    lines = source.read_text().splitlines()
    kept = [line for i, line in enumerate(lines) if line.startswith(":") or i % n == 0]
    target.write_text("\n".join(kept) + "\n")
    return target


@pytest.mark.parametrize("restrict", [30_000, 3_000])
def test_google_analogies_equal_gensim(dickens, gensim_data, tmp_path, restrict):
    kv, vectors = dickens
    path = gensim_data / "questions-words.txt"
    if restrict > 3_000:
        path = _every_nth_question(path, tmp_path / "questions.txt", 10)
    ours = evaluate_analogies(vectors, path, restrict=restrict)
    _assert_same_analogies(ours, kv.evaluate_word_analogies(path, restrict_vocab=restrict))
    assert ours["total"]["correct"] > 50  # a real, non-trivial score


def test_google_analogies_on_gensim_set_equal_gensim(lee, gensim_data):
    kv, vectors = lee
    path = gensim_data / "questions-words.txt"
    _assert_same_analogies(evaluate_analogies(vectors, path),
                           kv.evaluate_word_analogies(path, restrict_vocab=30_000))
    ours = evaluate_analogies(vectors, path, dummy4unknown=True)
    _assert_same_analogies(ours, kv.evaluate_word_analogies(path, dummy4unknown=True))


def test_msr_without_sections_equals_gensim_on_a_headed_copy(dickens, shared_data, tmp_path):
    kv, vectors = dickens
    msr = shared_data / BENCH / "hyperwords_testsets/analogy/msr.txt"
    headed = tmp_path / "msr_headed.txt"
    headed.write_bytes(b": msr\n" + msr.read_bytes())  # gensim needs a section header
    ours = evaluate_analogies(vectors, msr, restrict=1_000)  # gensim: 10 s at 30,000
    assert [s["section"] for s in ours["sections"]] == ["msr"]
    assert ours["total"]["questions"] == 8000
    assert ours["total"]["correct"] > 20
    _assert_same_analogies(ours, kv.evaluate_word_analogies(headed, restrict_vocab=1_000))


def test_vecto_analogy_csv_groups_by_type(shared_data):
    sections = read_analogies(shared_data / BENCH / "vecto_word_benchmarks/word-analogy/"
                                                    "monolingual/en/msr.csv")
    plain = read_analogies(shared_data / BENCH / "hyperwords_testsets/analogy/msr.txt")
    assert sum(len(s.questions) for s in sections) == 8000
    assert sorted(q for s in sections for q in s.questions) == sorted(plain[0].questions)
    assert "JJ_JJR" in {s.name for s in sections}


def test_3cosmul_accuracy_equals_gensim_most_similar_cosmul(lee, gensim_data):
    kv, vectors = lee
    path = gensim_data / "questions-words.txt"
    ours = evaluate_analogies(vectors, path, restrict=None, method="3cosmul")
    # gensim's evaluate_word_analogies procedure (upper-cased words, first case variant,
    # top 5 skipping case variants of the inputs) with most_similar_cosmul as the solver
    first = {w.upper(): w for w in reversed(kv.index_to_key)}
    correct = 0
    for section in read_analogies(path):
        for a, b, c, d in (tuple(w.upper() for w in q) for q in section.questions):
            if {a, b, c, d} <= first.keys():
                top = kv.most_similar_cosmul(positive=[first[b], first[c]],
                                             negative=[first[a]], topn=5)
                guesses = [w.upper() for w, _ in top]
                correct += next((g for g in guesses if g not in {a, b, c}), guesses[-1]) == d
    assert ours["total"]["correct"] == correct
    assert 0 < ours["total"]["accuracy"] < 1


def test_coverage_is_reported(dickens, gensim_data):
    _, vectors = dickens
    result = evaluate_pairs(vectors, gensim_data / "wordsim353.tsv")
    assert result["pairs"] == 353 and result["found"] + result["oov"] == 353
    assert result["coverage"] == pytest.approx(result["found"] / 353)
    analogies = evaluate_analogies(vectors, gensim_data / "questions-words.txt")
    total = analogies["total"]
    assert total["questions"] == 19544
    assert total["coverage"] == pytest.approx((19544 - total["oov"]) / 19544)
    assert np.isclose(sum(s["questions"] for s in analogies["sections"]), 19544)


def test_bad_files_give_clear_errors(dickens, tmp_path):
    _, vectors = dickens
    with pytest.raises(NotFoundError, match="no such benchmark file"):
        evaluate_pairs(vectors, tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\nzzqx yyqx 3.0\n")
    with pytest.raises(InputFormatError, match="fewer than 2 scorable pairs.*benchmark in the"):
        evaluate_pairs(vectors, empty)
    questions = tmp_path / "questions.txt"  # an analogy file given as pairs: say so
    questions.write_text(": capital\nathens greece berlin germany\n")
    with pytest.raises(InputFormatError, match="0 of 0 known.*goes to --analogies"):
        evaluate_pairs(vectors, questions)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9 tea 3.0\n")
    with pytest.raises(InputFormatError, match="not UTF-8"):
        evaluate_pairs(vectors, latin)


@pytest.mark.parametrize("compress, ending", [("gzip", ".gz"), ("bz2", ".bz2"), ("lzma", ".xz")])
def test_compressed_benchmark_files_equal_gensim(lee, gensim_data, shared_data, tmp_path,
                                                 compress, ending):
    """gensim's evaluators read compressed files; so do ours (a .csv under the ending too)."""
    import importlib

    module = importlib.import_module(compress)
    kv, vectors = lee
    copies = {}
    for name, source in (("ws.tsv", gensim_data / "wordsim353.tsv"),
                         ("q.txt", gensim_data / "questions-words.txt"),
                         ("rg.csv", shared_data / BENCH / "vecto_word_benchmarks/"
                          "word-similarity/monolingual/en/rg-65.csv")):
        copies[name] = tmp_path / (name + ending)
        copies[name].write_bytes(module.compress(source.read_bytes()))
    _assert_same_pairs(evaluate_pairs(vectors, copies["ws.tsv"]),
                       kv.evaluate_word_pairs(copies["ws.tsv"]))
    assert read_pairs(copies["rg.csv"]) == read_pairs(
        shared_data / BENCH / "vecto_word_benchmarks/word-similarity/monolingual/en/rg-65.csv")
    score, _ = kv.evaluate_word_analogies(copies["q.txt"])
    assert evaluate_analogies(vectors, copies["q.txt"])["total"]["accuracy"] == score


def test_truncated_compressed_benchmark_file_is_a_clear_error(lee, gensim_data, tmp_path):
    import gzip

    cut = tmp_path / "ws.tsv.gz"
    cut.write_bytes(gzip.compress((gensim_data / "wordsim353.tsv").read_bytes())[:500])
    with pytest.raises(InputFormatError, match=r"ws\.tsv\.gz: corrupt or truncated gzip"):
        evaluate_pairs(lee[1], cut)
