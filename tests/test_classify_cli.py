"""`embedkit classify train|evaluate|predict` on gensim's pang_lee_polarity.cor with vectors
from the workspace, and every bad input as one `Error:` line with a non-zero exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedkit import Vectors, save, workspace
from embedkit.classify.classifier import TextClassifier
from tests.cli_helpers import run_cli

FAST = ["--maxlen", "30", "--units", "8", "--epochs", "2", "--batch-size", "32",
        "--threads", "1"]


@pytest.fixture()
def corpus(gensim_data):
    return gensim_data / "pang_lee_polarity.cor"


@pytest.fixture()
def stored(home, gensim_data):
    kv = KeyedVectors.load_word2vec_format(str(gensim_data / "pang_lee_polarity_fasttext.vec"),
                                           unicode_errors="replace")
    save(Vectors(list(kv.index_to_key), kv.vectors), workspace.target_path("pl-ft", home))
    return kv


def _error_line(result, code: int) -> str:
    assert result.exit_code == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    return errors[0]


def test_train_evaluate_predict(corpus, stored, tmp_path):
    model = tmp_path / "m.pt"
    result = run_cli("classify", "train", corpus, "--vectors", "pl-ft", "--model", "bilstm",
                     *FAST, "-o", model, "--history", tmp_path / "h.json",
                     "--plot", tmp_path / "c.png", "--json", "--monitor", "val_accuracy",
                     "--pooling", "max", "--normalize", "unit", "--average", "0.9")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sizes"] == {"train": 128, "validation": 32, "test": 40}
    assert report["coverage"]["total"] == 1 + max(
        TextClassifier.load(model).vocabulary.word_index.values()) - 2
    assert 0 < report["coverage"]["fraction"] <= 1
    history = json.loads((tmp_path / "h.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]
    accuracies = [e["val_accuracy"] for e in history["epochs"]]
    assert report["best_epoch"] == 1 + accuracies.index(max(accuracies))  # --monitor
    saved = TextClassifier.load(model)
    assert saved.network.config.pooling == "max" and saved.config.normalize == "unit"
    assert saved.config.average == 0.9
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the training file again: the held-out test part its training drew, the same score
    evaluated = run_cli("classify", "evaluate", model, corpus, "--json")
    metrics = json.loads(evaluated.stdout)
    assert metrics["split"] == "test" and metrics["n"] == 40
    assert metrics["accuracy"] == report["test"]["accuracy"]
    assert np.asarray(metrics["confusion_matrix"]).sum() == 40
    for split, n in (("train", 128), ("validation", 32)):
        part = json.loads(run_cli("classify", "evaluate", model, corpus, "--split", split,
                                  "--json").stdout)
        assert part["split"] == split and part["n"] == n
    everything = run_cli("classify", "evaluate", model, corpus, "--split", "all", "--json")
    assert json.loads(everything.stdout)["n"] == 200
    assert "including the texts it was trained on" in everything.stderr
    (tmp_path / "other.txt").write_bytes(b"\n".join(corpus.read_bytes().split(b"\n")[1:]))
    other = json.loads(run_cli("classify", "evaluate", model, tmp_path / "other.txt",
                               "--json").stdout)
    assert other["split"] == "all" and other["n"] == 199  # not the training data: every text
    classifier = TextClassifier.load(model)
    texts = ["a gripping , funny and moving film", "tedious , silly and far too long"]
    (tmp_path / "texts.txt").write_text("\n".join(texts) + "\n")
    predicted = json.loads(run_cli("classify", "predict", model, texts[0], "--file",
                                   tmp_path / "texts.txt", "--json").stdout)
    assert [p["text"] for p in predicted] == [texts[0], *texts]
    assert [p["labels"] for p in predicted] == [list(x) for x in
                                                classifier.predict([texts[0], *texts])]
    piped = json.loads(run_cli("classify", "predict", model, "--file", "-", "--json",
                               input="\n".join(texts) + "\n").stdout)
    assert piped == predicted[1:]
    table = run_cli("classify", "predict", model, texts[1])
    assert table.stdout.splitlines()[0] == "label\tscore\ttext"
    assert table.stdout.splitlines()[1].endswith("\t" + texts[1])


def test_vector_dims_start_the_layer_from_the_leading_columns(corpus, stored, tmp_path):
    model = tmp_path / "m.pt"
    result = run_cli("classify", "train", corpus, "--vectors", "pl-ft", "--model", "avgpool",
                     "--vector-dims", "12", *FAST, "-o", model)
    assert result.exit_code == 0, result.stderr
    saved = TextClassifier.load(model)
    assert saved.config.vector_dims == 12 and saved.config.embedding_dim == 12
    layer = saved.network.embedding.weight.detach().numpy()  # frozen: still the stored values
    covered = [(w, r) for w, r in saved.vocabulary.word_index.items() if w in stored][:50]
    assert len(covered) == 50
    for word, row in covered:
        np.testing.assert_array_equal(layer[row], stored[word][:12])
    for extra, code, words in ((["--vector-dims", "101"], 2, "at most 100"),
                               (["--vector-dims", "0"], 2, "at least 1"),
                               (["--vector-dims", "8", "--embedding-dim", "9"], 2,
                                "disagrees")):
        line = _error_line(run_cli("classify", "train", corpus, "--vectors", "pl-ft",
                                   *extra, *FAST, "-o", tmp_path / "x.pt"), code)
        assert words in line
    line = _error_line(run_cli("classify", "train", corpus, "--vector-dims", "8", *FAST,
                               "-o", tmp_path / "x.pt"), 2)
    assert "needs --vectors" in line and not (tmp_path / "x.pt").exists()


def test_baseline_through_cli(corpus, tmp_path):
    model = tmp_path / "b.pt"
    result = run_cli("classify", "train", corpus, "--model", "tfidf-logreg", "--ngrams", "2",
                     "-o", model)
    assert result.exit_code == 0 and "test accuracy" in result.stdout
    text = run_cli("classify", "evaluate", model, corpus)
    assert "confusion matrix" in text.stdout and text.stdout.split()[0] == "split"
    # trained with a separate test file: the training file has no held-out test part
    lines = corpus.read_bytes().split(b"\n")
    (tmp_path / "tr.txt").write_bytes(b"\n".join(lines[:150]))
    (tmp_path / "te.txt").write_bytes(b"\n".join(lines[150:]))
    run_cli("classify", "train", tmp_path / "tr.txt", "--test-data", tmp_path / "te.txt",
            "--model", "bow-logreg", "-o", model)
    again = run_cli("classify", "evaluate", model, tmp_path / "tr.txt", "--json")
    assert json.loads(again.stdout)["n"] == 150 and "including the texts it was" in again.stderr


def test_help_explains_options():
    for command in ("train", "evaluate", "predict"):
        result = run_cli("classify", command, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout
    assert "[default: rmsprop]" in run_cli("classify", "train", "--help").stdout


def test_bad_inputs(corpus, stored, tmp_path):
    out = tmp_path / "m.pt"
    (tmp_path / "empty.txt").write_text("")
    line = _error_line(run_cli("classify", "train", tmp_path / "empty.txt", "-o", out), 1)
    assert "empty.txt" in line

    lines = corpus.read_bytes().split(b"\n")
    (tmp_path / "neg.txt").write_bytes(b"\n".join(lines[:100]))
    line = _error_line(run_cli("classify", "train", tmp_path / "neg.txt", *FAST, "-o", out), 1)
    assert "one class (only 'neg')" in line

    unlabelled = lines[:5] + [lines[5].replace(b"__label__neg ", b"")] + lines[6:]
    (tmp_path / "gap.txt").write_bytes(b"\n".join(unlabelled))
    line = _error_line(run_cli("classify", "train", tmp_path / "gap.txt", *FAST, "-o", out), 1)
    assert "gap.txt:6:" in line and "__label__" in line

    result = run_cli("classify", "train", corpus, "--vectors", "pl-ft", "--embedding-dim", "50",
                     *FAST, "-o", out)
    assert "--embedding-dim 50 disagrees with the vectors' dimension 100" in \
        _error_line(result, 2)

    line = _error_line(run_cli("classify", "train", corpus, "--model", "lstmm", "-o", out), 2)
    assert "unknown model 'lstmm'; valid: flatten, avgpool" in line
    _error_line(run_cli("classify", "train", corpus, "--vectors", "nope", "-o", out), 1)
    (tmp_path / "empty.txt").write_text("")  # the set is opened before the data is read
    line = _error_line(run_cli("classify", "train", tmp_path / "empty.txt", "--vectors", "nope",
                               "-o", out), 1)
    assert "'nope'" in line and "empty" not in line
    _error_line(run_cli("classify", "train", corpus, "--optimizer", "sgd", *FAST, "-o", out), 2)
    line = _error_line(run_cli("classify", "train", corpus, "--pooling", "min", "-o", out), 2)
    assert "unknown pooling 'min'; valid: last, max, mean" in line
    line = _error_line(run_cli("classify", "train", corpus, "--model", "cnn", "--pooling", "max",
                               *FAST, "-o", out), 2)
    assert "pooling 'max' is for recurrent models" in line
    line = _error_line(run_cli("classify", "train", corpus, "--normalize", "l2", "-o", out), 2)
    assert "unknown normalize 'l2'" in line
    # checked before the data is read or anything is trained
    line = _error_line(run_cli("classify", "train", tmp_path / "absent", "--monitor", "loss",
                               "-o", out), 2)
    assert line == "Error: unknown monitor 'loss'; valid: val_loss, val_accuracy"
    line = _error_line(run_cli("classify", "train", tmp_path / "absent", "--average", "1",
                               "-o", out), 2)
    assert line == "Error: average must be in [0, 1), got 1.0 (--average)"
    line = _error_line(run_cli("classify", "train", tmp_path / "absent", "--maxlen", "0",
                               "-o", out), 2)
    assert line == "Error: maxlen must be at least 1, got 0 (--maxlen)"
    (tmp_path / "afile").write_text("x")
    line = _error_line(run_cli("classify", "train", corpus, "-o", tmp_path / "afile" / "m.pt"), 2)
    assert "afile is a file, not a folder" in line
    line = _error_line(run_cli("classify", "train", corpus, *FAST, "-o", tmp_path), 2)
    assert "it is a folder; give a file name" in line
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    line = _error_line(run_cli("classify", "evaluate", tmp_path / "junk.pt", corpus), 1)
    assert "not an embedkit classifier" in line
    assert not out.exists()  # nothing half-written


def test_bad_option_values_and_files_are_one_line_errors(corpus, tmp_path):
    out = tmp_path / "m.pt"
    absent = tmp_path / "absent"
    for option, value, message in (
            ("--C", "-1", "C must be >= 0"), ("--seed", "-1", "seed must be in [0, 2**32)"),
            ("--seed", str(2**40), "seed must be in"), ("--threads", "-1", "threads must be"),
            ("--ngrams", "0", "ngrams must be at least 1, got 0 (--ngrams)"),
            ("--oov", "foo", "oov must be 'zeros' or 'random', got 'foo'"),
            ("--recurrent-dropout", "1", "dropout rates must be in [0, 1), got "
             "--recurrent-dropout 1.0")):
        line = _error_line(run_cli("classify", "train", absent, option, value, "-o", out), 2)
        assert message in line, line
    for option, value, message in (("--delimiter", ";;", "--delimiter must be one character"),
                                   ("--encoding", "nosuch", "unknown --encoding 'nosuch'")):
        for command in (["train", corpus, "-o", out], ["evaluate", out, corpus]):
            if command[0] == "evaluate":
                run_cli("classify", "train", corpus, "--model", "bow-logreg", "-o", out)
            line = _error_line(run_cli("classify", *command, option, value), 2)
            assert message in line, line
    line = _error_line(run_cli("classify", "train", corpus, "--model", "tfidf-logreg",
                               "--plot", tmp_path / "p.png", "-o", tmp_path / "b.pt"), 2)
    assert "no epochs to plot" in line and not (tmp_path / "b.pt").exists()
    tsv = tmp_path / "t.tsv"
    tsv.write_text("".join(f"{'good fun' if i % 2 else 'dull mess'} {i}\t{i % 2}\n"
                           for i in range(60)))
    ok = run_cli("classify", "train", tsv, "--model", "bow-logreg", "--delimiter", "\\t",
                 "--text-column", "0", "--label-column", "1", "-o", tmp_path / "t.pt")
    assert ok.exit_code == 0, ok.stderr
    lines = corpus.read_bytes().split(b"\n")
    (tmp_path / "odd.txt").write_bytes(lines[0].replace(b"__label__neg", b"__label__meh"))
    result = run_cli("classify", "train", corpus, "--test-data", tmp_path / "odd.txt", *FAST,
                     "-o", tmp_path / "td.pt")
    line = _error_line(result, 1)
    assert "odd.txt: label(s) 'meh' not seen in training" in line
    assert "epoch 1" not in result.stderr  # found before training
    (tmp_path / "folder.pt").mkdir()
    line = _error_line(run_cli("classify", "predict", tmp_path / "folder.pt", "x"), 1)
    assert "is a folder, not a model file" in line


def test_predict_file_lines_line_up_and_bad_files(corpus, tmp_path):
    model = tmp_path / "b.pt"
    run_cli("classify", "train", corpus, "--model", "bow-logreg", "-o", model)
    (tmp_path / "in.txt").write_bytes("a fine film\n\n  \ncaf\xe9 was dull\n".encode("latin-1"))
    result = run_cli("classify", "predict", model, "--file", tmp_path / "in.txt", "--json")
    assert [p["text"] for p in json.loads(result.stdout)] == [
        "a fine film", "", "", "caf\ufffd was dull"]
    assert "1 bytes that are not valid utf-8 were replaced" in result.stderr
    exact = run_cli("classify", "predict", model, "--file", tmp_path / "in.txt",
                    "--encoding", "latin-1", "--json")
    assert json.loads(exact.stdout)[3]["text"] == "caf\xe9 was dull"
    assert "replaced" not in exact.stderr
    (tmp_path / "bin.dat").write_bytes(bytes(range(256)))
    line = _error_line(run_cli("classify", "predict", model, "--file", tmp_path / "bin.dat"), 1)
    assert "a binary file" in line
    table = run_cli("classify", "predict", model, "two\nlines\tand a tab")
    assert table.stdout.splitlines()[1].endswith("\ttwo lines and a tab")


def test_predict_drops_a_byte_order_mark_from_the_first_line(corpus, tmp_path):
    """A UTF-8 file (or stdin) from a Windows editor starts with a byte-order mark: it is
    not part of the first text, which is printed as it was written."""
    model = tmp_path / "b.pt"
    run_cli("classify", "train", corpus, "--model", "bow-logreg", "-o", model)
    lines = corpus.read_text(errors="replace").splitlines()[:3]
    texts = [line.split(" ", 1)[1].strip() for line in lines]
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(texts).encode())
    plain = json.loads(run_cli("classify", "predict", model, *texts, "--json").stdout)
    for source in (["--file", tmp_path / "bom.txt"], ["--file", "-"]):
        result = run_cli("classify", "predict", model, *source, "--json",
                         input=(tmp_path / "bom.txt").read_text() if source[1] == "-" else None)
        assert json.loads(result.stdout) == plain and "\ufeff" not in result.stdout


def test_without_torch_a_clear_error(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    line = _error_line(run_cli("classify", "train", corpus, "-o", tmp_path / "m.pt"), 2)
    assert "pip install -c constraints.txt -e '.[classify]'" in line and "CPU torch" in line
    code = ("import sys; sys.modules['torch'] = None; import embedkit, embedkit.cli, "
            "embedkit.classify; from embedkit.classify.classifier import MODEL_NAMES; "
            "print(len(MODEL_NAMES))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "13", done.stderr  # 10 + 3 baselines


def test_test_data_keeps_the_datas_own_test_split_out_of_training(corpus, tmp_path):
    lines = corpus.read_text("utf-8", "replace").splitlines()
    data, extra = tmp_path / "data", tmp_path / "extra"
    assert len(lines) == 200
    for i, line in enumerate(lines):
        label, _, text = line.partition(" ")
        part = "train" if i % 4 else "test"  # both labels on both sides
        for root in ((data,) if part == "train" else (data, extra)):
            folder = root / part / label.replace("__label__", "")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i}.txt").write_text(text)
    result = run_cli("classify", "train", data, "--test-data", extra, "--model", "bow-logreg",
                     "--validation", "0", "--out", tmp_path / "m.pt", "--json")  # = --output
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sizes"] == {"train": 150, "validation": 0, "test": 50}
    assert "own test split (50 texts) is left out of training" in result.stderr
    same = run_cli("classify", "train", corpus, "--test-data", corpus, "--model", "bow-logreg",
                   "-o", tmp_path / "s.pt")
    assert same.exit_code == 0 and "the training data itself" in same.stderr
    # a --test-data set with its own train/test split is scored on its test split, the
    # texts `classify evaluate` scores by default (it was scored whole)
    whole = run_cli("classify", "train", corpus, "--test-data", data, "--model", "bow-logreg",
                    "--validation", "0", "-o", tmp_path / "w.pt", "--json")
    assert whole.exit_code == 0, whole.stderr
    assert json.loads(whole.stdout)["sizes"]["test"] == 50
    assert "scoring its own test split (50 of 200 texts)" in whole.stderr
    evaluated = run_cli("classify", "evaluate", tmp_path / "w.pt", data, "--json")
    assert json.loads(evaluated.stdout)["accuracy"] == json.loads(whole.stdout)["test"]["accuracy"]


def test_a_diverging_run_is_an_error_and_saves_nothing(corpus, tmp_path):
    result = run_cli("classify", "train", corpus, "--model", "avgpool", "--lr", "1e30",
                     *FAST, "-o", tmp_path / "nan.pt")
    line = _error_line(result, 1)
    assert "training diverged" in line and "lower --lr" in line
    assert not (tmp_path / "nan.pt").exists()


def test_damaged_or_newer_model_files_are_one_line_errors(corpus, tmp_path):
    import torch

    model = tmp_path / "m.pt"
    assert run_cli("classify", "train", corpus, "--model", "avgpool", *FAST, "-o",
                   model).exit_code == 0
    saved = TextClassifier.load(model)
    assert saved.predict([]) == []
    with pytest.raises(TypeError, match="list of texts"):
        saved.predict("a wonderful film")
    blob = torch.load(model, weights_only=True)

    def variant(name, change):
        path = tmp_path / f"{name}.pt"
        copy = dict(blob, state_dict=dict(blob["state_dict"]))
        change(copy)
        torch.save(copy, path)
        return path

    cases = [
        (variant("newer", lambda b: b.update(format_version=99)), "newer embedkit"),
        (variant("nometa", lambda b: b.pop("meta_json")), "damaged"),
        (variant("badjson", lambda b: b.update(meta_json="{not json")), "damaged"),
        (variant("notensor", lambda b: b["state_dict"].pop("embedding.weight")), "damaged"),
        (variant("nan", lambda b: b["state_dict"].update(
            {"embedding.weight": torch.full_like(b["state_dict"]["embedding.weight"],
                                                 float("nan"))})), "not finite"),
    ]
    for path, words in cases:
        line = _error_line(run_cli("classify", "predict", path, "good film"), 1)
        assert path.name in line and words in line


def test_label_mismatch_and_inapplicable_options_name_what_to_fix(corpus, tmp_path):
    model = tmp_path / "m.pt"
    assert run_cli("classify", "train", corpus, "--model", "bow-logreg", "-o",
                   model).exit_code == 0
    other = tmp_path / "other.txt"
    other.write_text("__label__x one text\n__label__y another text\n")
    line = _error_line(run_cli("classify", "evaluate", model, other), 1)
    assert str(other) in line and "not seen in training" in line
    for args, words in ((["--model", "cnn", "--bidirectional"], "--bidirectional and --layers"),
                        (["--model", "avgpool", "--layers", "2"], "has no recurrent layer"),
                        (["--model", "cnn", "--recurrent-dropout", "0.3"],
                         "--recurrent-dropout is for recurrent models"),
                        (["--model", "tfidf-logreg", "--truncating", "foo"], "--truncating")):
        line = _error_line(run_cli("classify", "train", corpus, *args, "-o",
                                   tmp_path / "x.pt"), 2)
        assert words in line


def test_evaluate_warns_when_the_training_file_is_read_differently(corpus, tmp_path):
    model = tmp_path / "m.pt"
    assert run_cli("classify", "train", corpus, "--model", "bow-logreg", "--encoding",
                   "latin-1", "-o", model).exit_code == 0
    assert TextClassifier.load(model).trained_on["read_options"]["encoding"] == "latin-1"
    result = run_cli("classify", "evaluate", model, corpus)
    assert result.exit_code == 0 and "read with other options" in result.stderr
    assert "--encoding latin-1" in result.stderr
    again = run_cli("classify", "evaluate", model, corpus, "--encoding", "latin-1")
    assert "read with other options" not in again.stderr


def test_several_labels_for_a_single_label_model_warn(corpus, tmp_path):
    model = tmp_path / "m.pt"
    assert run_cli("classify", "train", corpus, "--model", "bow-logreg", "-o",
                   model).exit_code == 0
    data = tmp_path / "ml.txt"
    data.write_text("__label__pos __label__neg a great but boring film\n"
                    "__label__pos fine film\n__label__neg bad film\n")
    result = run_cli("classify", "evaluate", model, data)
    assert result.exit_code == 0 and "1 of 3 texts have several labels" in result.stderr


def test_several_files_give_their_own_splits(corpus, tmp_path):
    """SST-style x.train x.dev x.test: validation is the dev file, the test is the test file."""
    lines = corpus.read_bytes().split(b"\n")[:200]
    files = [tmp_path / f"pl.{part}" for part in ("train", "dev", "test")]
    for path, chunk in zip(files, (lines[:120], lines[120:160], lines[160:]), strict=True):
        path.write_bytes(b"\n".join(chunk) + b"\n")
    model = tmp_path / "m.pt"
    result = run_cli("classify", "train", *files, "--model", "gru", *FAST, "-o", model,
                     "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sizes"] == {"train": 120, "validation": 40, "test": 40}
    assert report["data"] == ", ".join(map(str, files))
    for data in ([files[2]], files):  # the test file alone, or all three again
        again = json.loads(run_cli("classify", "evaluate", model, *data, "--json").stdout)
        assert again["n"] == 40 and again["accuracy"] == report["test"]["accuracy"]
    twice = run_cli("classify", "train", files[0], files[0], "-o", tmp_path / "x.pt")
    assert "given twice" in _error_line(twice, 2) and not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("option", ["--lr", "--C", "--clip-norm", "--time-budget", "--average"])
def test_non_finite_numbers_are_usage_errors(corpus, tmp_path, option):
    """--lr nan and --C nan crashed in torch / scikit-learn with a traceback; --lr inf and
    --clip-norm nan saved a model whose weights are not finite. Infinity stays a valid
    "no limit" for --clip-norm, --time-budget and --C (models saved with it must load)."""
    out = tmp_path / "m.pt"
    for value in ("nan", "inf"):
        result = run_cli("classify", "train", corpus, "--model", "avgpool", *FAST, option,
                         value, "-o", out)
        if value == "inf" and option in ("--C", "--clip-norm", "--time-budget"):
            assert result.exit_code == 0, result.stderr
            predicted = run_cli("classify", "predict", out, "a fine film")
            assert predicted.exit_code == 0, predicted.stderr
            out.unlink()
            continue
        line = _error_line(result, 2)
        if option == "--average":
            assert f"average must be in [0, 1), got {value} (--average)" in line
        elif option == "--lr":
            assert f"--lr must be a finite number, got {value}" in line
        else:
            assert f"{option} must be a number, got nan" in line
        assert not out.exists() and "epoch" not in result.stderr


def test_empty_paths_are_usage_errors_before_any_work(corpus, tmp_path, monkeypatch):
    """'' meant the current folder (evaluate read it as a dataset) or was ignored (--history),
    and an empty -o failed only after training."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "m.pt"
    for args, where in (([corpus, "-o", ""], "'--output' / '--out' / '-o'"),
                        ([corpus, "-o", out, "--history", ""], "'--history'"),
                        ([corpus, "-o", out, "--test-data", ""], "'--test-data'")):
        result = run_cli("classify", "train", *args, "--model", "bow-logreg")
        assert f"Invalid value for {where}: is empty" in _error_line(result, 2)
        assert "no epochs to choose" not in result.stderr and not out.exists()
    run_cli("classify", "train", corpus, "--model", "bow-logreg", "-o", out)
    line = _error_line(run_cli("classify", "evaluate", out, ""), 2)
    assert "Invalid value for 'data': is empty" in line


def test_a_non_finite_validation_loss_is_divergence_too(corpus, tmp_path, monkeypatch):
    """Only the training loss was checked: NaN weights with a finite training loss were
    saved as a model that predict later called damaged."""
    from embedkit.classify import train

    monkeypatch.setattr(train, "evaluate_loss", lambda *args, **kwargs: (float("nan"), 0.5))
    result = run_cli("classify", "train", corpus, "--model", "avgpool", *FAST,
                     "-o", tmp_path / "m.pt")
    line = _error_line(result, 1)
    assert "training diverged: the validation loss is nan in epoch 1" in line
    assert not (tmp_path / "m.pt").exists()


def test_an_unknown_init_is_refused_before_the_data_is_read(tmp_path):
    result = run_cli("classify", "train", tmp_path / "missing.txt", "--init", "foo",
                     "-o", tmp_path / "m.pt")
    assert "unknown init 'foo'; valid: keras, torch" in _error_line(result, 2)


@pytest.mark.parametrize(("command", "hint"), [("train", "--batch-size"),
                                               ("evaluate", "free memory")])
def test_out_of_memory_hint_fits_the_classify_command(corpus, tmp_path, monkeypatch, command,
                                                      hint):
    """evaluate and predict have no --batch-size/--maxlen: their hint must not name them."""
    from embedkit.classify import run

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(run, "train_files", exhausted)
    monkeypatch.setattr(run, "evaluate_files", exhausted)
    args = [corpus, "-o", tmp_path / "m.pt"] if command == "train" else [tmp_path / "m.pt", corpus]
    line = _error_line(run_cli("classify", command, *args), 1)
    assert line.startswith("Error: out of memory; ") and hint in line
    assert ("--batch-size" in line) == (command == "train")
