"""`embedkit classify` on layouts and data shapes a new user runs into: a label that falls
only in a held-out part, `evaluate --split train` on data with its own train split, a
two-column table whose header names are unknown, a byte-order mark, a short file of integer
labels, folders without class folders and an empty file to predict. Texts are real: gensim's
pang_lee_polarity.cor and the TREC questions in ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedkit.classify.classifier import ClassifierConfig, held_out_ids
from embedkit.classify.datasets import read_dataset
from embedkit.errors import InputFormatError, UsageError
from tests.cli_helpers import Result, run_cli

FAST = ["--maxlen", "20", "--units", "8", "--epochs", "1", "--threads", "1"]


@pytest.fixture()
def reviews(gensim_data) -> list[tuple[str, str]]:
    """(label, text) of the 200 pang_lee_polarity.cor lines."""
    lines = (gensim_data / "pang_lee_polarity.cor").read_text("latin-1").splitlines()
    return [(ln.split(None, 1)[0].removeprefix("__label__"), ln.split(None, 1)[1].strip())
            for ln in lines]


def _error_line(result: Result, code: int) -> str:
    assert result.exit_code == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    return errors[0]


def _rare_file(tmp_path: Path, reviews: list[tuple[str, str]], part: str) -> tuple[Path, int]:
    """30 reviews, one of them labelled "rare", and a seed that draws it into ``part``."""
    path = tmp_path / "rare.txt"
    rows = [("rare" if i == 7 else lab, text) for i, (lab, text) in enumerate(reviews[85:115])]
    path.write_text("".join(f"__label__{lab} {text}\n" for lab, text in rows))
    data = read_dataset(path)
    seed = next(s for s in range(100)
                if 7 in held_out_ids(data, ClassifierConfig(seed=s))[part])
    return path, seed


@pytest.mark.parametrize("part", ["test", "validation"])
def test_a_label_only_in_a_drawn_part_fails_before_training(tmp_path, reviews, part):
    path, seed = _rare_file(tmp_path, reviews, part)
    model = tmp_path / "m.pt"
    result = run_cli("classify", "train", path, "--model", "avgpool", *FAST, "--seed", seed,
                     "-o", model)
    line = _error_line(result, 1)
    assert str(path) in line and "'rare' (1 text) occur only in the" in line
    assert f"{part} part" in line and "--seed" in line
    assert "epoch 1/1" not in result.stderr and not model.exists()  # nothing trained


def _split_folder(tmp_path: Path, reviews: list[tuple[str, str]]) -> Path:
    """train/<label>/<n>.txt for 150 reviews, test/<label>/<n>.txt for 50."""
    root = tmp_path / "reviews"
    for n, (label, text) in enumerate(reviews):
        folder = root / ("test" if n % 4 == 0 else "train") / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n}.txt").write_text(text)
    return root


def _evaluated(model: Path, data: Path, split: str) -> int:
    result = run_cli("classify", "evaluate", model, data, "--split", split, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["n"]


def test_evaluate_split_train_leaves_out_the_drawn_validation_texts(tmp_path, reviews):
    data, model = _split_folder(tmp_path, reviews), tmp_path / "m.pt"
    result = run_cli("classify", "train", data, "--model", "avgpool", *FAST, "-o", model,
                     "--json")
    sizes = json.loads(result.stdout)["sizes"]
    assert sizes == {"train": 120, "validation": 30, "test": 50}
    assert {s: _evaluated(model, data, s) for s in ("train", "validation", "test")} == sizes
    baseline = tmp_path / "b.pt"
    run_cli("classify", "train", data, "--model", "bow-logreg", "-o", baseline)
    assert _evaluated(baseline, data, "train") == 150  # it fits on the validation texts too
    line = _error_line(run_cli("classify", "evaluate", baseline, data, "--split",
                               "validation"), 1)
    assert "no texts in the 'validation' split (a baseline fits on" in line


def test_a_two_column_table_with_an_unknown_header(tmp_path, shared_data):
    questions = (shared_data / "sentence_classification" / "TREC.test.all").read_text(
        "latin-1").splitlines()[:60]
    path = tmp_path / "trec.txt"
    rows = [f'{q.split(" ", 1)[0]};"{q.split(" ", 1)[1]}"' for q in questions]
    path.write_text("qtype;question\n" + "\n".join(rows) + "\n")
    data = read_dataset(path, "table", delimiter=";")
    assert len(data) == 60 and "qtype" not in data.label_names
    assert data.texts[0] == questions[0].split(" ", 1)[1]


def test_a_byte_order_mark_and_a_short_integer_labelled_file_are_detected(tmp_path,
                                                                          shared_data):
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf__label__pos a fine film\n__label__neg a dull mess\n")
    assert read_dataset(bom).labels == [("pos",), ("neg",)]
    lines = (shared_data / "sentence_classification" / "TREC.test.all").read_bytes().split(b"\n")
    first = {line.split(b" ", 1)[0]: line for line in reversed(lines) if line.strip()}
    head = tmp_path / "trec6.txt"  # one question of each of the 6 classes
    head.write_bytes(b"\n".join(first.values()))
    data = read_dataset(head)
    assert data.layout == "label-first" and len(data) == 6 and len(data.label_names) == 6


def test_folders_without_class_folders_say_how_to_lay_them_out(tmp_path, reviews):
    flat = tmp_path / "flat"
    flat.mkdir()
    for n, (_, text) in enumerate(reviews[:3]):
        (flat / f"{n}.txt").write_text(text)
    with pytest.raises(InputFormatError, match=r"flat: no class folders: 3 files, none "
                                               r"inside .* <class>/<file>"):
        read_dataset(flat)
    (tmp_path / "one" / "pos").mkdir(parents=True)
    (tmp_path / "one" / "pos" / "1.txt").write_text(reviews[150][1])
    line = _error_line(run_cli("classify", "train", tmp_path / "one", "--model", "bow-logreg",
                               "-o", tmp_path / "m.pt"), 1)
    assert f"{tmp_path / 'one'}: the training data has one class (only 'pos')" in line


def test_predict_an_empty_file_or_stdin_names_it(tmp_path, gensim_data):
    model = tmp_path / "b.pt"
    run_cli("classify", "train", gensim_data / "pang_lee_polarity.cor", "--model",
            "bow-logreg", "-o", model)
    (tmp_path / "empty.txt").write_text("")
    line = _error_line(run_cli("classify", "predict", model, "--file", tmp_path / "empty.txt"), 1)
    assert "empty.txt: empty: no lines to classify" in line
    line = _error_line(run_cli("classify", "predict", model, "--file", "-", input=""), 1)
    assert line.startswith("Error: standard input: empty")


@pytest.mark.parametrize(("option", "value"), [
    ("lr", float("nan")), ("lr", float("inf")), ("adversarial", float("inf")),
    ("clip_norm", float("nan")), ("time_budget", float("nan")), ("C", float("nan"))])
def test_the_python_configs_refuse_nan_and_an_infinite_rate(option, value):
    """ClassifierConfig(lr=inf) was accepted and trained a model of NaN weights."""
    with pytest.raises(UsageError, match="must be a (finite )?number"):
        ClassifierConfig(model="avgpool", **{option: value})


@pytest.mark.parametrize("option", ["clip_norm", "time_budget", "C"])
def test_infinity_is_no_limit_where_it_means_one(option):
    """Models saved with --time-budget inf (or clip_norm / C) load: the config is rebuilt
    from the file, so refusing inf there would lock users out of working models."""
    assert getattr(ClassifierConfig(model="avgpool", **{option: float("inf")}), option) > 1e308
