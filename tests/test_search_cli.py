"""The search commands: same results as the library, clean errors, stale indexes refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedkit import query, store, workspace
from embedkit.evaluate import evaluate_analogies, evaluate_pairs
from embedkit.index import Index
from embedkit.vectors import Vectors
from tests.cli_helpers import run_cli
from tests.search_fixtures import as_vectors, keyed_vectors


@pytest.fixture()
def lee(home, gensim_data) -> Vectors:
    """gensim's lee_fasttext.vec saved as the set 'lee' in a fresh workspace."""
    vectors = as_vectors(keyed_vectors(str(gensim_data / "lee_fasttext.vec")))
    store.save(vectors, workspace.target_path("lee", home))
    return workspace.open_set("lee", home)


def _json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _one_error_line(result, code, *fragments):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_index_then_info_lists_it_and_neighbors_use_it(lee, home):
    manifest = _json(run_cli("index", "lee", "--type", "hnsw", "--M", "16", "--ef-search", "64",
                             "--json"))
    assert manifest["factory"] == "HNSW16" and manifest["query_params"] == {"ef_search": 64}
    assert (home / "lee" / "hnsw.faiss").exists()
    info = _json(run_cli("info", "lee", "--json"))
    assert [(i["name"], i["stale"]) for i in info["indexes"]] == [("hnsw", False)]
    words = lee.words[:20]
    got = _json(run_cli("neighbors", "lee", *words, "-k", "5", "--index", "hnsw", "--json"))
    index = Index.load(home / "lee", "hnsw", vectors=lee)
    expected = query.neighbors(lee, words, 5, index=index)
    assert {w: [h["word"] for h in hits] for w, hits in got.items()} == {
        w: [n for n, _ in hits] for w, hits in expected.items()}


def test_refine_index_k_factor_stored_and_overridden(lee, home):
    manifest = _json(run_cli("index", "lee", "--type", "factory", "--factory",
                             "IVF16,PQ10x4fs,RFlat", "--nprobe", "16", "--k-factor", "2",
                             "--index-name", "rflat", "--json"))
    assert manifest["query_params"] == {"nprobe": 16, "k_factor": 2}
    index = Index.load(home / "lee", "rflat", vectors=lee)
    words = lee.words[:30]
    for extra, k_factor in (([], 2), (["--k-factor", "16"], 16)):
        got = _json(run_cli("neighbors", "lee", *words, "-k", "5", "--index", "rflat",
                            *extra, "--json"))
        expected = query.neighbors(lee, words, 5, index=index, k_factor=k_factor)
        assert {w: [h["word"] for h in hits] for w, hits in got.items()} == {
            w: [n for n, _ in hits] for w, hits in expected.items()}
    exact = query.neighbors(lee, words, 5)
    wide = query.neighbors(lee, words, 5, index=index, k_factor=16)
    narrow = query.neighbors(lee, words, 5, index=index, k_factor=1)
    hits = {name: sum(len({n for n, _ in found[w]} & {n for n, _ in exact[w]}) for w in words)
            for name, found in (("wide", wide), ("narrow", narrow))}
    assert hits["narrow"] < hits["wide"]
    _one_error_line(run_cli("index", "lee", "--type", "hnsw", "--k-factor", "4"), 2,
                    "refine indexes")
    _one_error_line(run_cli("neighbors", "lee", "the", "--k-factor", "4"), 2, "add --index")
    _one_error_line(run_cli("neighbors", "lee", "the", "--index", "rflat", "--k-factor", "0"),
                    2, "k_factor must be positive")


def test_neighbors_exact_table_tsv_and_batch_from_stdin_and_file(lee, tmp_path):
    words = lee.words[5:9]
    expected = query.neighbors(lee, words, 3)
    table = run_cli("neighbors", "lee", *words, "-k", "3")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["query", "rank", "neighbor", "score"] and len(lines) == 13
    tsv = run_cli("neighbours", "lee", *words, "-k", "3", "--tsv").stdout.splitlines()
    rows = [line.split("\t") for line in tsv[1:]]
    assert [r[2] for r in rows] == [n for w in words for n, _ in expected[w]]
    assert float(rows[0][3]) == pytest.approx(expected[words[0]][0][1], abs=1e-4)
    stdin = _json(run_cli("neighbors", "lee", "-f", "-", "-k", "3", "--json",
                          input="\n".join(words) + "\n"))
    assert _json(run_cli("neighbors", "lee", "-", "-k", "3", "--json",
                         input=" ".join(words))) == stdin
    listfile = tmp_path / "words.txt"
    listfile.write_text(" ".join(words))
    assert _json(run_cli("neighbors", "lee", "--file", listfile, "-k", "3", "--json")) == stdin
    assert list(stdin) == words


def test_unknown_words_print_known_results_and_exit_1(lee):
    known = lee.words[30]
    typo = "governmnt"
    result = run_cli("neighbors", "lee", known, typo, "zzqxv", "-k", "2", "--tsv")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith(known + "\t")
    assert "Error: unknown word 'governmnt'; close spellings: government" in result.stderr
    assert "Error: unknown word 'zzqxv'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, code, fragment", [
    (["index", "lee", "--type", "bogus"], 2, "unknown index type 'bogus'"),
    (["index", "lee", "--type", "factory"], 2, "--factory"),
    (["index", "lee", "--type", "ivfpq", "--pq-m", "3"], 2, "must divide the dimension 10"),
    (["neighbors", "lee", "the", "-k", "0"], 2, "k must be a positive integer"),
    (["neighbors", "lee", "the", "-k", "100000"], 2, "smaller than the vocabulary"),
    (["neighbors", "lee"], 2, "no query words"),
    (["neighbors", "lee", "the", "--ef", "64"], 2, "add --index NAME"),
    (["index", "lee", "--type", "sq8", "--index-name", "../evil"], 2, "must be a plain name"),
    (["index", "lee", "--type", "sq8", "--index-name", ""], 2, "must be a plain name"),
    (["index", "lee", "--type", "hnsw", "--M", "0"], 2, "M must be positive, got 0"),
    (["index", "lee", "--type", "ivf", "--nprobe", "0"], 2, "nprobe must be positive"),
    (["index", "lee", "--type", "hnsw", "--nlist", "64"], 2, "--nlist does not apply to --type"),
    (["index", "lee", "--type", "factory", "--factory", "IVF16,Flat", "--nlist", "8"], 2,
     "write the value into the string"),
    (["index", "lee", "--type", "flat", "--ef-search", "10"], 2, "ef_search is for HNSW"),
    (["neighbors", "lee", "the", "--json", "--tsv"], 2, "choose one output format"),
    (["analogy", "lee", "he", "his", "she", "--json", "--tsv"], 2, "choose one output format"),
    (["plot", "lee", "the", "--neighbors", "99999"], 2, "--neighbors must be from 0 to 1761"),
    (["index", "lee", "--type", "factory", "--factory", "IVF16,PQ3x4fs,RFlat"], 2,
     "must divide 10: e.g. PQ2 (divisors: 1, 2, 5, 10)"),
    (["neighbors", "lee", "the", "--index", "hnsw"], 1, "no index 'hnsw'"),
    (["neighbors", "nosuchset", "the"], 1, "no embedding set named 'nosuchset'"),
    (["analogy", "lee", "he", "his", "sh"], 1, "unknown word 'sh'"),
    (["analogy", "lee", "he", "his", "she", "--method", "x"], 2, "unknown analogy method"),
    (["similarity", "lee", "the", "zzqxv"], 1, "unknown word 'zzqxv'"),
    (["evaluate", "lee", "--pairs", "missing.tsv"], 1, "no such benchmark file"),
    (["plot", "lee", "government", "-o", "map.xyz"], 2, "unsupported image type"),
])
def test_bad_input_is_one_error_line(lee, args, code, fragment):
    _one_error_line(run_cli(*args), code, fragment)


def test_search_options_must_fit_the_index(lee, home):
    assert run_cli("index", "lee", "--type", "hnsw").exit_code == 0
    assert run_cli("index", "lee", "--type", "ivf", "--nlist", "16").exit_code == 0
    for args, fragment in ((["--index", "hnsw", "--nprobe", "4"], "nprobe is for IVF"),
                           (["--index", "ivf", "--ef", "32"], "ef is for HNSW"),
                           (["--index", "hnsw", "--ef", "0"], "ef must be positive"),
                           (["--index", "ivf", "--nprobe", "0"], "nprobe must be positive"),
                           (["--index", ""], "must be a plain name")):
        _one_error_line(run_cli("neighbors", "lee", "the", *args), 2, fragment)
    got = _json(run_cli("neighbors", "lee", "the", "--index", "hnsw.faiss", "--json"))
    assert len(got["the"]) == 10  # a name with its .faiss ending is the same index
    assert not (home / "evil.faiss").exists()


def test_existing_index_needs_force(lee, home):
    assert run_cli("index", "lee", "--type", "flat").exit_code == 0
    _one_error_line(run_cli("index", "lee", "--type", "flat"), 1, "already exists", "--force")
    assert run_cli("index", "lee", "--type", "flat", "--force").exit_code == 0


def test_stale_and_corrupt_indexes_are_refused(lee, home):
    assert run_cli("index", "lee", "--type", "ivf", "--nlist", "16").exit_code == 0
    assert run_cli("neighbors", "lee", "the", "--index", "ivf").exit_code == 0
    changed = Vectors(lee.words, lee.matrix[::-1].copy())
    store.save(changed, workspace.target_path("lee", home, force=True))  # re-save the set
    _one_error_line(run_cli("neighbors", "lee", "the", "--index", "ivf"), 1,
                    "was built from another version of set 'lee'", "embedkit index lee")
    assert "STALE" in run_cli("info", "lee").stdout
    assert run_cli("index", "lee", "--type", "ivf", "--nlist", "16", "--force").exit_code == 0
    path = home / "lee" / "ivf.faiss"
    assert "DAMAGED" not in run_cli("info", "lee").stdout
    path.write_bytes(path.read_bytes()[:100])
    _one_error_line(run_cli("neighbors", "lee", "the", "--index", "ivf"), 1, "corrupt")
    assert "DAMAGED" in run_cli("info", "lee").stdout
    assert _json(run_cli("info", "lee", "--json"))["indexes"][0]["damaged"] is True


@pytest.mark.parametrize("build", [
    ["--type", "hnsw", "--M", "16", "--ef-search", "40"],
    ["--type", "factory", "--factory", "IVF16,PQ5x4fs,RFlat", "--nprobe", "8", "--k-factor", "8"],
    ["--type", "ivfpq", "--nlist", "16", "--pq-m", "5", "--nbits", "4"],
])
def test_stale_index_hint_rebuilds_the_same_index(lee, home, build):
    import shlex

    made = _json(run_cli("index", "lee", *build, "--index-name", "x", "--json"))
    changed = Vectors(lee.words, lee.matrix[::-1].copy())
    store.save(changed, workspace.target_path("lee", home, force=True))
    result = run_cli("neighbors", "lee", "the", "--index", "x")
    _one_error_line(result, 1, "rebuild with")
    hint = shlex.split(result.stderr.split("`")[1])
    assert hint[:2] == ["embedkit", "index"]
    again = _json(run_cli(*hint[1:], "--json"))
    for key in ("type", "factory", "query_params"):
        assert again[key] == made[key], key
    assert run_cli("neighbors", "lee", "the", "--index", "x").exit_code == 0


def test_analogy_and_similarity_match_the_library(lee):
    a, b, c = "he", "his", "she"
    for method in ("3cosadd", "3cosmul"):
        got = _json(run_cli("analogy", "lee", a, b, c, "-k", "4", "--method", method, "--json"))
        assert [g["word"] for g in got] == [w for w, _ in lee.analogy(a, b, c, 4, method)]
    sim = _json(run_cli("similarity", "lee", "police", "government", "--json"))
    assert sim["similarity"] == pytest.approx(lee.similarity("police", "government"), abs=1e-6)
    assert sim["distance"] == pytest.approx(1 - sim["similarity"], abs=1e-9)
    table = run_cli("similarity", "lee", "police", "government").stdout
    assert "distance" in table and f"{sim['distance']:.4f}" in table


def test_evaluate_defaults_to_gensim_benchmarks_and_matches_library(lee, gensim_data):
    result = _json(run_cli("evaluate", "lee", "--json"))
    assert [r["name"] for r in result["pairs"]] == ["wordsim353.tsv", "simlex999.txt"]
    assert result["pairs"][0]["spearman"] == evaluate_pairs(lee, gensim_data / "wordsim353.tsv")[
        "spearman"]
    total = result["analogies"][0]["total"]
    assert total["questions"] == 19544 and 0 <= total["accuracy"] <= 1
    table = run_cli("evaluate", "lee", "--pairs", gensim_data / "wordsim353.tsv").stdout
    assert "wordsim353.tsv" in table and "spearman" in table


def test_evaluate_json_stays_valid_when_a_correlation_is_nan(lee, tmp_path):
    """Constant human scores give gensim's NaN Spearman; JSON has no NaN: null."""
    pairs = tmp_path / "flat.tsv"
    pairs.write_text("police\tgovernment\t5\nthe\tgovernment\t5\npolice\tthe\t5\n")
    result = run_cli("evaluate", "lee", "--pairs", pairs, "--json")
    assert "NaN" not in result.stdout
    entry, = _json(result)["pairs"]
    assert entry["spearman"] is None and entry["found"] == 3


def test_a_closed_pipe_ends_quietly(lee):
    import subprocess
    import sys

    words = " ".join(lee.words[:300])
    proc = subprocess.Popen([sys.executable, "-m", "embedkit", "neighbors", "lee", "-", "-k",
                             "1000", "--tsv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write(words.encode())
    proc.stdin.close()
    assert proc.stdout.readline().startswith(b"query")
    proc.stdout.close()  # as `| head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Error" not in stderr and "Traceback" not in stderr and "Exception" not in stderr


def test_zero_vectors_and_unicode_forms(home):
    import unicodedata

    words = ["café", "naïve", "zero", "tea"]
    matrix = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 0, 0], [0, 1, 0.2]], dtype=np.float32)
    store.save(Vectors([unicodedata.normalize("NFC", w) for w in words], matrix),
               workspace.target_path("uni", home))
    result = run_cli("neighbors", "uni", "zero", "tea", "-k", "2", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["zero"] == []
    assert "Error: word 'zero' has no neighbours: its vector is all zeros" in result.stderr
    every = _json(run_cli("neighbors", "uni", "tea", "--json"))  # no -k: all it can give
    assert [hit["word"] for hit in every["tea"]] == ["naïve", "café"]
    assert run_cli("neighbors", "uni", "tea", "-k", "10").exit_code == 2  # asked: checked
    assert run_cli("analogy", "uni", "café", "naïve", "tea").exit_code == 0
    unknown = run_cli("neighbors", "uni", "nosuchword")
    assert unknown.exit_code == 1 and unknown.stdout == ""  # no table header alone
    analogy = run_cli("analogy", "uni", "zero", "tea", "café")
    assert analogy.exit_code == 1 and analogy.stdout == ""
    assert analogy.stderr == ("Error: word 'zero' has an all-zero vector, so an analogy "
                              "cannot use it; choose another word\n")
    decomposed = unicodedata.normalize("NFD", "café")
    got = _json(run_cli("neighbors", "uni", decomposed, "-k", "1", "--json"))
    assert got[decomposed][0]["word"] == unicodedata.normalize("NFC", "naïve")


def test_query_files_bom_and_bad_bytes(lee, tmp_path):
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffthe government\n".encode())
    got = _json(run_cli("neighbors", "lee", "-f", bom, "-k", "3", "--json"))
    assert list(got) == ["the", "government"]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe bad")
    _one_error_line(run_cli("neighbors", "lee", "-f", bad), 1, "bad.txt", "not UTF-8")
    _one_error_line(run_cli("neighbors", "lee", "-f", tmp_path / "none.txt"), 1, "no such file")


def test_evaluate_reports_unscorable_files_and_prints_the_rest(lee, gensim_data, tmp_path,
                                                               monkeypatch):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("zzqx yyqx 1.0\nqqzz xxzz 2.0\nnot a pair line at all\n")
    result = run_cli("evaluate", "lee", "--pairs", gensim_data / "wordsim353.tsv",
                     "--pairs", pairs, "--analogies", pairs, "--json")
    assert result.exit_code == 1
    assert [r["name"] for r in json.loads(result.stdout)["pairs"]] == ["wordsim353.tsv"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2 and "fewer than 2 scorable pairs" in errors[0]
    assert "no analogy questions" in errors[1] and "--pairs" in errors[1]
    assert "1 lines are not word pair lines" in result.stderr
    _one_error_line(run_cli("evaluate", "lee", "--analogies", pairs), 1, "no analogy questions")
    monkeypatch.chdir(tmp_path)  # a bare name is found among gensim's benchmark files
    found = evaluate_analogies(lee, "questions-words.txt", restrict=3000)
    assert found["total"] == evaluate_analogies(
        lee, gensim_data / "questions-words.txt", restrict=3000)["total"]


@pytest.mark.parametrize("flag", ["-o", "--out", "--output"])  # one spelling everywhere
def test_plot_command_writes_the_image(lee, tmp_path, flag):
    out = tmp_path / "map.png"
    result = run_cli("plot", "lee", "government", "police", flag, out, "--neighbors", "3")
    assert result.exit_code == 0 and out.read_bytes().startswith(b"\x89PNG")


def test_every_command_has_help_with_an_example():
    for command in ("index", "neighbors", "analogy", "similarity", "evaluate", "plot"):
        text = run_cli(command, "--help").stdout
        assert "Example: embedkit " + command in " ".join(text.split())


def test_restrict_option_matches_library(lee):
    words = lee.words[40:45]
    got = _json(run_cli("neighbors", "lee", *words, "-k", "4", "--restrict", "300", "--json"))
    expected = query.neighbors(lee, words, 4, restrict=300)
    for word in words:
        ids = [lee.key_to_index[h["word"]] for h in got[word]]
        assert max(ids) < 300
        assert [h["word"] for h in got[word]] == [w for w, _ in expected[word]]
    assert np.isfinite([h["score"] for h in got[words[0]]]).all()


def test_target_recall_on_a_set_too_small_to_hold_words_out(home):
    """With 10 words one is held out and 9 remain: recall@10 cannot be measured. This was
    'k=10 is larger than the 9 indexed words', a k the user never gave."""
    rng = np.random.default_rng(0)
    store.save(Vectors([f"w{i}" for i in range(10)], rng.normal(size=(10, 5)).astype(np.float32)),
               workspace.target_path("ten", home))
    result = run_cli("index", "ten", "--type", "hnsw", "--target-recall", "0.9")
    _one_error_line(result, 2, "too few non-zero rows (10) to hold some out for tuning recall@10")
    assert not (home / "ten" / "hnsw.faiss").exists()


def test_empty_file_names_are_usage_errors(lee, tmp_path, monkeypatch):
    """'' was read as '.': '.: no such benchmark file' (exit 1), '. is not a regular file'."""
    monkeypatch.chdir(tmp_path)
    for args, where in ((["evaluate", "lee", "--pairs", ""], "'--pairs'"),
                        (["plot", "lee", lee.words[5], "-o", ""], "'--out' / '--output' / '-o'"),
                        (["export", "lee", "", "-f", "glove"], "'file'")):
        _one_error_line(run_cli(*args), 2, f"Invalid value for {where}: is empty; give a path")


def test_index_takes_a_store_path_as_its_help_says(lee, home):
    """The help said 'Set name in the workspace.' only, though a .h5 path works as in the
    other commands."""
    assert "or a path to a .h5 store" in run_cli("index", "--help").stdout
    _json(run_cli("index", str(home / "lee" / "vectors.h5"), "--json"))
    assert (home / "lee" / "flat.faiss").exists()


@pytest.mark.parametrize("args", [("neighbors", "lee", "-f"), ("evaluate", "lee", "--pairs"),
                                  ("evaluate", "lee", "--analogies")])
def test_a_folder_given_as_a_file_is_named_as_a_folder(lee, tmp_path, args):
    """It said 'no such file' of a folder that exists."""
    result = run_cli(*args, tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"Error: {tmp_path}: is a folder, not a " \
        f"{'file' if args[0] == 'neighbors' else 'benchmark file'}; name a file in it"
