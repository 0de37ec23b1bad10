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

    evaluated = run_cli("classify", "evaluate", model, corpus, "--json")
    metrics = json.loads(evaluated.stdout)
    assert metrics["split"] == "all" and metrics["n"] == 200
    assert np.asarray(metrics["confusion_matrix"]).sum() == 200
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


def test_baseline_through_cli(corpus, tmp_path):
    model = tmp_path / "b.pt"
    result = run_cli("classify", "train", corpus, "--model", "tfidf-logreg", "--ngrams", "2",
                     "-o", model)
    assert result.exit_code == 0 and "test accuracy" in result.stdout
    text = run_cli("classify", "evaluate", model, corpus)
    assert "confusion matrix" in text.stdout and text.stdout.split()[0] == "split"


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
        _error_line(result, 1)

    line = _error_line(run_cli("classify", "train", corpus, "--model", "lstmm", "-o", out), 2)
    assert "unknown model 'lstmm'; valid: flatten, avgpool" in line
    _error_line(run_cli("classify", "train", corpus, "--vectors", "nope", "-o", out), 1)
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


def test_without_torch_a_clear_error(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    line = _error_line(run_cli("classify", "train", corpus, "-o", tmp_path / "m.pt"), 2)
    assert "pip install 'embedkit[classify]'" in line
    code = ("import sys; sys.modules['torch'] = None; import embedkit, embedkit.cli, "
            "embedkit.classify; from embedkit.classify.classifier import MODEL_NAMES; "
            "print(len(MODEL_NAMES))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "13", done.stderr  # 10 + 3 baselines
