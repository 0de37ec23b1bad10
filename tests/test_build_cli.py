"""`embedkit build ...` and `embedkit demo` end to end on gensim's bundled real text."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from embedkit import store, workspace
from tests.cli_helpers import run_cli


@pytest.fixture()
def lee(gensim_data):
    return gensim_data / "lee_background.cor"


def test_build_ppmi_end_to_end(lee, home):
    result = run_cli("build", "ppmi", lee, "--name", "lee", "--format", "lines", "--dim", "16",
                     "--min-count", "3", "--window", "3", "--window-weighting", "harmonic",
                     "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["name"] == "lee" and summary["dim"] == 16 and summary["documents"] == 300
    with workspace.open_set("lee") as vectors:
        params = vectors.metadata["params"]
        assert params["count"]["window"] == 3 and params["count"]["weighting"] == "harmonic"
        assert vectors.metadata["files"][0]["path"].endswith("lee_background.cor")
        assert vectors.metadata["files"][0]["path"].startswith("/")  # absolute: reproducible
        assert params["corpus"]["format"] == "lines" and params["corpus"]["glob"] is None
        assert vectors.metadata["files"][0]["bytes"] == lee.stat().st_size
        assert "singular_values" in store.extra_arrays(vectors)


def test_existing_name_refused_and_force_keeps_old_set_on_failure(lee, home):
    args = ("build", "ppmi", lee, "--name", "keep", "--format", "lines", "--dim", "8")
    assert run_cli(*args).exit_code == 0
    before = workspace.describe("keep")["fingerprint"]
    refused = run_cli(*args)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: an embedding set named 'keep' already exists")
    # a --force build that fails (too many dimensions) leaves the old set untouched
    failed = run_cli("build", "ppmi", lee, "--name", "keep", "--format", "lines",
                     "--dim", "100000", "--force")
    assert failed.exit_code == 1 and "lower --dim" in failed.stderr
    assert workspace.describe("keep")["fingerprint"] == before
    assert list((home / "keep").glob("*.tmp")) == []
    assert run_cli(*args, "--force", "--dim", "9").exit_code == 0
    assert workspace.describe("keep")["dim"] == 9


@pytest.mark.parametrize("option,value", [("--context", "sentence"), ("--weighting", "tfidf"),
                                          ("--algorithm", "lanczos"), ("--preset", "glove"),
                                          ("--window-weighting", "gauss"), ("--memory", "lots"),
                                          ("--numbers", "spell")])
def test_unknown_option_value_exit_2(lee, home, option, value):
    result = run_cli("build", "ppmi", lee, "--name", "x", option, value)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and value in lines[0]
    assert not (home / "x" / "vectors.h5").exists()


@pytest.mark.parametrize("command, args, fragment", [
    ("ppmi", ["--eig", "nan"], "eig (the exponent p of Sigma^p) must be a finite"),
    ("ppmi", ["--eig", "inf"], "must be a finite number >= 0"),
    ("ppmi", ["--subsample", "nan"], "subsample threshold must be in [0, 1)"),
    ("ppmi", ["--subsample", "1"], "1 or more discards nothing), got 1.0"),
    ("ppmi", ["--shift", "nan"], "shift k must be a finite number >= 1"),
    ("word2vec", ["--negative", "0"], "negative must be >= 1"),
    ("word2vec", ["--sample", "-1"], "sample must be in [0, 1)"),
    ("word2vec", ["--workers", "0"], "workers must be >= 1"),
    ("fasttext", ["--min-n", "6", "--max-n", "3"], "1 <= --min-n <= --max-n"),
    ("fasttext", ["--bucket", "0"], "--bucket >= 1"),
    ("ppmi", ["--seed", "-1"], "seed must be a non-negative integer, got -1"),
    ("word2vec", ["--seed", "-1"], "seed must be an integer from 0 to 2**32 - 1"),
    ("fasttext", ["--seed", str(2**32)], "seed must be an integer from 0 to 2**32 - 1"),
])
def test_impossible_numbers_are_usage_errors(lee, home, command, args, fragment):
    result = run_cli("build", command, lee, "--name", "x", *args)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (home / "x").exists()


def test_dimension_errors_name_the_option_that_limits(lee, home):
    result = run_cli("build", "ppmi", lee, "--name", "x", "--dim", "5", "--max-vocab", "3")
    assert result.exit_code == 1 and "(--max-vocab 3)" in result.stderr
    assert "raise --max-vocab" in result.stderr and "min-count" not in result.stderr


def test_a_shift_that_zeroes_every_weight_is_an_error(lee, home):
    result = run_cli("build", "ppmi", lee, "--name", "x", "--dim", "5", "--shift", "1e9")
    assert result.exit_code == 1 and "lower --shift" in result.stderr
    assert not (home / "x").exists()


def test_document_context_on_one_document_says_to_cut_the_text(lee, home):
    result = run_cli("build", "ppmi", lee, "--name", "x", "--context", "document", "--dim", "2")
    assert result.exit_code == 1 and "from 1 document (--context document)" in result.stderr
    assert "--format lines: one per line" in result.stderr and "shift" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (home / "x").exists()


def test_weights_all_zero_without_a_shift_do_not_say_lower_the_shift(home, tmp_path):
    same = tmp_path / "same.txt"
    same.write_text("alpha beta gamma\n" * 3)
    result = run_cli("build", "ppmi", same, "--name", "x", "--context", "document", "--format",
                     "lines", "--min-count", "1", "--dim", "1")
    assert result.exit_code == 1 and "no co-occurrence has a positive PMI" in result.stderr
    assert "--shift" not in result.stderr and not (home / "x").exists()


@pytest.mark.parametrize("command, args, fragment", [
    ("ppmi", ["--context", "document", "--window", "3"], "--window applies only to --context"),
    ("ppmi", ["--context", "left", "--window-weighting", "harmonic"], "--window-weighting"),
    ("ppmi", ["--weighting", "count", "--cds", "0.5", "--shift", "2"], "--cds and --shift"),
    ("word2vec", ["--min-n", "2", "--bucket", "10"], "--min-n, --bucket apply only to fastText"),
])
def test_options_the_build_would_ignore_are_usage_errors(lee, home, command, args, fragment):
    result = run_cli("build", command, lee, "--name", "x", *args)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (home / "x").exists()


def test_word2vec_help_hides_the_fasttext_options():
    assert "--min-n" not in run_cli("build", "word2vec", "--help").stdout
    assert "--min-n" in run_cli("build", "fasttext", "--help").stdout


def test_bad_corpora(lee, home, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = run_cli("build", "ppmi", empty, "--name", "e")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")
    few = tmp_path / "few.txt"
    few.write_text("one two three four five one two three\n")
    result = run_cli("build", "ppmi", few, "--name", "f", "--min-count", "1")
    assert result.exit_code == 1
    assert "cannot build 300-dimensional vectors from 5 distinct words" in result.stderr
    result = run_cli("build", "ppmi", lee, "--name", "m", "--min-count", "1000000")
    assert result.exit_code == 1 and "leaves no vocabulary" in result.stderr


def test_binary_file_in_folder_is_skipped(lee, home, tmp_path, gensim_data):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(lee, folder / "lee.txt")
    shutil.copy(gensim_data / "lee_fasttext.bin", folder / "model.bin")
    result = run_cli("build", "ppmi", folder, "--name", "mixed", "--format", "lines",
                     "--dim", "8")
    assert result.exit_code == 0, result.stderr
    assert "model.bin" in result.stderr  # the warning names the skipped file
    with workspace.open_set("mixed") as vectors:
        assert vectors.metadata["stats"]["documents"] == 300
        assert any("model.bin" in s for s in vectors.metadata["stats"]["skipped_files"])


def test_word2vec_and_fasttext_commands(lee, home):
    for model, extra in (("word2vec", []), ("fasttext", ["--bucket", "2000"])):
        result = run_cli("build", model, lee, "--name", model, "--format", "lines", "--dim",
                         "12", "--epochs", "1", "--workers", "1", *extra)
        assert result.exit_code == 0, result.stderr
    with workspace.open_set("fasttext") as ft:
        assert ft.subwords is not None and ft.vector("sydneyy").shape == (12,)
    with workspace.open_set("word2vec") as w2v:
        assert w2v.subwords is None and w2v.metadata["params"]["window"] == 5


def test_demo(home):
    result = run_cli("demo", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["tokens"] > 500_000 and out["words"] > 5000
    near = {w for w, _ in out["neighbours"]["australia"]}
    assert near & {"sydney", "melbourne", "perth", "zealand"}
    near = {w for w, _ in out["neighbours"]["france"]}
    assert near & {"spain", "italy", "germany", "britain"}
    with workspace.open_set("demo") as vectors:
        assert vectors.dim == 100
        np.testing.assert_allclose(vectors.most_similar("france", 1)[0][1],
                                   out["neighbours"]["france"][0][1], atol=1e-3)


def test_failed_build_of_a_new_name_leaves_no_folder(home, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = run_cli("build", "ppmi", empty, "--name", "newname", "--dim", "3")
    assert result.exit_code == 1 and not (home / "newname").exists()


def test_an_unexpected_error_reaches_the_caller_unchanged(lee, home, monkeypatch):
    import embedkit.build as build

    def boom(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(build, "build_ppmi_svd", boom)
    with pytest.raises(ValueError, match="boom"):  # not an AttributeError from the handler
        run_cli("build", "ppmi", lee, "--name", "x", "--dim", "3")


def _wait_for_children(pid: int, timeout: float = 60.0) -> None:
    """Until process ``pid`` has started a child process (Linux /proc), or ``timeout``."""
    import time
    from pathlib import Path

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = Path(f"/proc/{pid}/task")
        if not tasks.exists():
            return
        try:
            if any((task / "children").read_text().strip() for task in tasks.iterdir()):
                time.sleep(0.3)
                return
        except OSError:  # a thread ended while being read
            pass
        time.sleep(0.05)


def test_ctrl_c_while_tokenising_ends_cleanly(home, shared_data):
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "embedkit", "build", "ppmi",
                             str(shared_data / "corpus_dickens"), "--name", "c", "--dim", "20",
                             "--max-vocab", "5000"], stderr=subprocess.PIPE, text=True)
    _wait_for_children(proc.pid)  # reading and tokenising in worker processes (~8 s build);
    # a fixed sleep sent the signal during the imports on a loaded machine (exit by SIGINT)
    assert proc.poll() is None, "the build ended before the signal could test anything"
    proc.send_signal(signal.SIGINT)
    stderr = proc.communicate(timeout=60)[1]  # no hang on the workers
    assert proc.returncode == 130 and "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    if "after writing" in last:  # the signal landed where Python could not raise it
        assert workspace.open_set("c", home).dim == 20
    else:
        assert last == "Error: interrupted; nothing was changed" and not (home / "c").exists()


def test_xml_broken_after_some_documents_says_what_was_kept(home, tmp_path):
    docs = "".join(f"<doc>word{i} alpha beta gamma</doc>" for i in range(50))
    path = tmp_path / "late.xml"
    path.write_text(f"<root>{docs}<doc>bad</wrong></root>")
    result = run_cli("build", "ppmi", path, "--name", "late", "--dim", "2", "--min-count", "1",
                     "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["documents"] == 50
    assert "read only in part" in result.stderr and "text before that point was kept" in (
        result.stderr) and "skipping" not in result.stderr


def test_document_tag_chooses_the_xml_documents(home, tmp_path):
    """Documents are the <doc> elements, deeper than the root's children; the rest is skipped."""
    docs = "".join(f"<doc><p>alpha beta gamma {w}</p><p>delta {w}</p></doc>"
                   for w in ("one", "two", "three", "four"))
    xml = tmp_path / "c.xml"
    xml.write_text(f"<corpus><meta>skip these words</meta><body>{docs}</body></corpus>")
    common = ("--min-count", "1", "--context", "document", "--json")
    tagged = run_cli("build", "ppmi", xml, "--name", "t", "--document-tag", "doc", "--dim", "2",
                     *common)
    assert tagged.exit_code == 0, tagged.stderr
    assert json.loads(tagged.stdout)["documents"] == 4
    with workspace.open_set("t") as vectors:
        assert "skip" not in vectors.words and "delta" in vectors.words
        assert vectors.metadata["params"]["corpus"]["document_tag"] == "doc"
    plain = run_cli("build", "ppmi", xml, "--name", "p", "--dim", "1", *common)  # root children
    assert plain.exit_code == 0 and json.loads(plain.stdout)["documents"] == 2


def test_a_document_tag_that_matches_nothing_is_named(home, tmp_path):
    xml = tmp_path / "c.xml"
    xml.write_text("<corpus><doc>alpha beta</doc><doc>gamma delta</doc></corpus>")
    result = run_cli("build", "ppmi", xml, "--name", "t", "--document-tag", "nosuch",
                     "--min-count", "1", "--dim", "1")
    assert result.exit_code == 1 and "is there a <nosuch> element" in result.stderr


def test_a_document_tag_on_plain_text_is_said_to_be_unused(home, lee):
    """With --format auto on a .cor/.txt file the tag cannot apply: the build goes on and
    says once that it was not used (it used to be silently ignored)."""
    result = run_cli("build", "ppmi", lee, "--name", "t", "--document-tag", "doc",
                     "--min-count", "5", "--dim", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("document tag <doc> (--document-tag) was not used") == 1
    assert "read as" in result.stderr


@pytest.mark.parametrize("args", [("--format", "lines", "--document-tag", "doc"),
                                  ("--document-tag", " ")])
def test_document_tag_misuse_is_a_usage_error(lee, home, args):
    result = run_cli("build", "word2vec", lee, "--name", "x", *args)
    assert result.exit_code == 2 and "--document-tag" in result.stderr


def test_apostrophes_split_reaches_the_vocabulary_and_provenance(home, tmp_path):
    text = tmp_path / "fr.txt"
    text.write_text("l'été et l'hiver, d'or et d'argent; l'été revient\n" * 30)
    common = ("--min-count", "1", "--dim", "2", "--format", "lines")
    assert run_cli("build", "ppmi", text, "--name", "split", "--apostrophes", "split",
                   *common).exit_code == 0
    with workspace.open_set("split") as vectors:
        assert {"l", "été", "d", "or"} <= set(vectors.words) and "l'été" not in vectors.words
        assert vectors.metadata["params"]["tokenizer"]["apostrophes"] == "split"
    bad = run_cli("build", "word2vec", text, "--name", "x", "--apostrophes", "drop")
    assert bad.exit_code == 2 and "unknown apostrophes option 'drop'" in bad.stderr


def test_an_empty_corpus_path_is_a_usage_error_not_the_current_folder(home, tmp_path,
                                                                       monkeypatch):
    """'' was read as '.', so the build silently read every file of the current folder."""
    (tmp_path / "here.txt").write_text("words of the current folder, not a corpus\n" * 50)
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "ppmi", "", "--name", "x", "--dim", "2", "--min-count", "1")
    assert result.exit_code == 2, result.stderr
    assert result.stderr == ("Error: Invalid value for 'corpus': is empty; give a path "
                             "(see 'embedkit build ppmi --help')\n")
    assert not (home / "x").exists()


@pytest.mark.parametrize(("command", "hint", "not_hint"),
                         [("word2vec", "lower --dim", "--memory"),
                          ("fasttext", "--bucket", "--memory"),
                          ("ppmi", "lower --memory", "--bucket")])
def test_out_of_memory_names_the_options_of_that_command(lee, home, monkeypatch, command,
                                                        hint, not_hint):
    """The hint said 'a smaller --memory budget' for word2vec/fastText, which have none."""
    from embedkit import build

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(build, "train_gensim", exhausted)
    monkeypatch.setattr(build, "build_ppmi_svd", exhausted)
    result = run_cli("build", command, lee, "--name", "x", "--dim", "5")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: out of memory; ") and hint in line and not_hint not in line
    assert not (home / "x").exists()
