"""Classification benchmark: IMDB test accuracy and training throughput of every model.

Chollet's settings (Deep Learning with Python): the 10,000 most frequent words, reviews
cut to their last 500 tokens (Keras' pad_sequences default), 20% of the 25,000 training
reviews for validation, RMSprop, batch 128, up to 10 epochs; here with early stopping on
validation accuracy (patience 3, best weights restored) and a wall-clock budget per model
(900 s, a safety net). Accuracy is measured on the 25,000 test reviews.

Validation reviews are drawn one by one (as Keras' ``validation_split``), or a film at a
time in the "film-grouped validation" rows (``group_split``: aclImdb's ``urls_*.txt``).

Embedding layers: from scratch (random, trained), from embedkit's own PPMI-SVD set of the
75,000 IMDB *training* reviews (labelled and unlabelled, never the test reviews:
``indexes/imdb-train-ppmi300``, built on first use) and its gensim word2vec of them
(``indexes/imdb-train-w2v100``), and from imported vectors (the
Dickens word2vec and fastText skip-gram 50-d vectors in ../shared/data/pretrained_vectors,
fastText with its subword vectors for unseen words: the only real pretrained sets there
that cover a useful vocabulary; the GloVe files are 100-word samples). Baselines: bag of
words and TF-IDF (the lecture's and scikit-learn's) with logistic regression, unigrams and
bigrams.

Published numbers next to ours: Chollet 1st ed. (validation accuracy) SimpleRNN 0.846,
LSTM 0.893, BiLSTM 0.886, Conv1D 0.838; dense bag-of-words 0.885 (test); 2nd ed. TF-IDF
bigrams 0.89-0.90 (test); the lecture's PyTorch LSTM(32) on frozen GloVe-50d with maxlen
150: 0.832 (test).

Run: ``python -m benchmarks.bench_classify [--quick]``; results go to
``benchmarks/results/bench_classify{,_quick}.{json,md}`` after every model. On a shared
machine, ``--part 0/2`` and ``--part 1/2`` in two processes, then ``--merge 2``;
``--only LABEL`` reruns one row (it wins in the merge); ``--seeds LABEL 0,1,2`` trains one
row with several seeds (the spread says what a difference between rows is worth);
``--ceiling LABEL`` measures one row's test accuracy after every epoch when trained on all
training reviews (a diagnostic: the most any choice of epoch could give);
``--throughput`` measures training samples/s of every network, one epoch on 3,200
reviews with 1 and 2 threads (``bench_classify_throughput``), on an otherwise idle machine.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as a file (python benchmarks/bench_x.py): import from the repo
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED_DATA, help_and_exit, markdown_table, write_results
from embedkit.classify.classifier import ClassifierConfig, train_classifier
from embedkit.classify.datasets import read_dataset

REPO = Path(__file__).resolve().parents[1]
IMDB = SHARED_DATA / "imdb_aclImdb" / "aclImdb_v1_labelled.tar.gz"
DICKENS = SHARED_DATA / "pretrained_vectors" / "generated_dickens_real_tools"
DICKENS_W2V = DICKENS / "dickens_w2v_sg50.txt.gz"
DICKENS_FASTTEXT = DICKENS / "dickens_fasttext_sg50.bin"  # subwords: vectors for every word
# embedkit's own PPMI-SVD vectors for the classifiers: the 75,000 *training* reviews
# (25,000 labelled + 50,000 unlabelled; the test reviews are left out), 100,000 words,
# 300-d, built by ``_ppmi_set`` on first use (about 3 minutes on 2 idle cores)
PPMI_NAME = "imdb-train-ppmi300"
# and gensim's word2vec through embedkit (skip-gram, 100-d, 5 epochs) on the same reviews
W2V_NAME = "imdb-train-w2v100"
PPMI_GLOB = "train/*/*.txt"
IMDB_UNSUP = SHARED_DATA / "imdb_aclImdb" / "aclImdb_v1_unsup.tar.gz"
PUBLISHED = {
    "rnn": ("Chollet SimpleRNN (val)", 0.846), "lstm": ("Chollet LSTM (val)", 0.893),
    "bilstm": ("Chollet BiLSTM (val)", 0.886), "cnn": ("Chollet Conv1D (val)", 0.838),
    "bow-logreg": ("Chollet dense bag-of-words (test)", 0.885),
    "tfidf-bigrams": ("Chollet 2nd ed. TF-IDF bigrams (test)", 0.89),
    "lecture": ("lecture LSTM(32), frozen GloVe-50d, maxlen 150 (test)", 0.832),
}

# (label, model, vectors: None | "ppmi" | "ppmi50" | "ppmi100" | "w2v" | "dickens" |
# "fasttext", published key,
# config overrides). First Chollet's recipe as published (last state, RMSprop 1e-3), then
# the recipes that did better here (max or mean pooling over the outputs, RMSprop 5e-4,
# a moving average of the weights), then
# stored vectors (rescaled with normalize="scale": PPMI-SVD rows are ~0.02 long).
# the settings of every IMDB run (rows override); validation reviews drawn one by one, as
# Keras' validation_split, unless a row says FILMS (drawn a film at a time: none of the
# validation reviews is about a film in the training part, as with the test reviews)
CHOLLET = dict(max_words=10_000, maxlen=500, epochs=10, patience=3, batch_size=128,
               monitor="val_accuracy", group_split=False)
FILMS = {"group_split": True}
SCALED = {"normalize": "scale"}
BETTER = {"lr": 5e-4, "epochs": 15, "patience": 4}
AVERAGED = {"average": 0.998}  # validate and keep an exponential moving average of weights
REFIT = {"refit": True}  # then train again on training + validation for the chosen epochs
RUNS: list[tuple[str, str, str | None, str | None, dict[str, Any]]] = [
    ("bow-logreg", "bow-logreg", None, "bow-logreg", {}),
    ("tfidf-logreg", "tfidf-logreg", None, None, {}),
    ("tfidf-sklearn-logreg", "tfidf-sklearn-logreg", None, None, {}),
    ("tfidf-logreg bigrams 20k", "tfidf-logreg", None, "tfidf-bigrams",
     {"ngrams": 2, "max_words": 20_000}),
    ("tfidf-sklearn-logreg bigrams 20k", "tfidf-sklearn-logreg", None, "tfidf-bigrams",
     {"ngrams": 2, "max_words": 20_000}),
    ("multihot scratch (Chollet 3.4), whole reviews", "multihot", None, "bow-logreg",
     {"embedding_dim": 16, "units": 16, "maxlen": 1500, "batch_size": 512, "epochs": 20}),
    ("rnn scratch", "rnn", None, "rnn", {}),
    ("lstm scratch", "lstm", None, "lstm", {}),
    ("bilstm scratch", "bilstm", None, "bilstm", {}),
    ("gru scratch", "gru", None, None, {}),
    ("cnn scratch", "cnn", None, "cnn", {"embedding_dim": 128}),
    ("flatten scratch", "flatten", None, None, {}),
    ("avgpool scratch", "avgpool", None, None, {}),
    ("lstm scratch, PyTorch default init", "lstm", None, "lstm", {"init": "torch"}),
    ("rnn scratch, max pooling, lr 5e-4", "rnn", None, "rnn", {"pooling": "max", **BETTER}),
    ("rnn scratch, max pooling", "rnn", None, "rnn",
     {"pooling": "max", "epochs": 15, "patience": 4}),
    ("lstm scratch, lr 5e-4", "lstm", None, "lstm", BETTER),
    ("bilstm scratch, max pooling, lr 5e-4", "bilstm", None, "bilstm",
     {"pooling": "max", **BETTER}),
    ("lstm scratch, lr 5e-4, averaged weights", "lstm", None, "lstm", {**BETTER, **AVERAGED}),
    ("bilstm scratch, lr 5e-4, averaged weights", "bilstm", None, "bilstm",
     {**BETTER, **AVERAGED}),
    ("lstm scratch, lr 5e-4, averaged weights, refit", "lstm", None, "lstm",
     {**BETTER, **AVERAGED, **REFIT}),
    ("bilstm scratch, lr 5e-4, averaged weights, refit", "bilstm", None, "bilstm",
     {**BETTER, **AVERAGED, **REFIT}),
    ("bilstm scratch, mean pooling, lr 5e-4, averaged weights", "bilstm", None, "bilstm",
     {"pooling": "mean", **BETTER, **AVERAGED}),
    ("rnn scratch, max pooling, averaged weights", "rnn", None, "rnn",
     {"pooling": "max", "epochs": 15, "patience": 4, **AVERAGED}),
    ("rnn scratch, max pooling, averaged weights, refit", "rnn", None, "rnn",
     {"pooling": "max", "epochs": 15, "patience": 4, **AVERAGED, **REFIT}),
    ("lstm ppmi300 frozen", "lstm", "ppmi", "lstm", SCALED),
    ("lstm ppmi300 fine-tuned", "lstm", "ppmi", "lstm", {**SCALED, "freeze": False}),
    ("cnn ppmi300 fine-tuned", "cnn", "ppmi", "cnn", {**SCALED, "freeze": False}),
    ("lstm ppmi100 fine-tuned, lr 5e-4, averaged weights, refit", "lstm", "ppmi100", "lstm",
     {**SCALED, "freeze": False, **BETTER, **AVERAGED, **REFIT}),
    ("lstm ppmi300 fine-tuned, lr 5e-4, averaged weights, refit", "lstm", "ppmi", "lstm",
     {**SCALED, "freeze": False, **BETTER, **AVERAGED, **REFIT}),
    ("bilstm ppmi100 fine-tuned, lr 5e-4, averaged weights, refit", "bilstm", "ppmi100",
     "bilstm", {**SCALED, "freeze": False, **BETTER, **AVERAGED, **REFIT}),
    ("lstm ppmi100 fine-tuned, lr 5e-4, averaged weights, refit, film-grouped validation",
     "lstm", "ppmi100", "lstm", {**SCALED, "freeze": False, **BETTER, **AVERAGED, **REFIT,
                                 **FILMS}),
    ("bilstm ppmi100 fine-tuned, lr 5e-4, averaged weights, refit, film-grouped validation",
     "bilstm", "ppmi100", "bilstm", {**SCALED, "freeze": False, **BETTER, **AVERAGED,
                                     **REFIT, **FILMS}),
    ("lstm ppmi100 fine-tuned, 64 units, lr 5e-4, averaged weights, refit, film-grouped "
     "validation", "lstm", "ppmi100", "lstm", {**SCALED, "freeze": False, "units": 64,
                                               **BETTER, **AVERAGED, **REFIT, **FILMS}),
    # adversarial training on the embedded tokens (Miyato et al. 2017), eps 1 on rows of
    # mean length 1: the first epochs sit at chance while the network learns to resist the
    # shift, so no early stopping (the best validation epoch of 20 is kept); no refit
    ("lstm ppmi100 fine-tuned, 64 units, lr 5e-4, averaged weights, adversarial 1, "
     "film-grouped validation", "lstm", "ppmi100", "lstm",
     {**SCALED, "freeze": False, "units": 64, **BETTER, **AVERAGED, **FILMS,
      "adversarial": 1.0, "epochs": 20, "patience": 0, "time_budget": 0.0}),
    ("lstm w2v100 fine-tuned, lr 5e-4, averaged weights, refit, film-grouped validation",
     "lstm", "w2v", "lstm", {**SCALED, "freeze": False, **BETTER, **AVERAGED, **REFIT,
                             **FILMS}),
    ("avgpool ppmi300 frozen", "avgpool", "ppmi", None, SCALED),
    ("lstm ppmi50 frozen, maxlen 150", "lstm", "ppmi50", "lecture", {**SCALED, "maxlen": 150}),
    ("lstm dickens-w2v50 frozen, maxlen 150", "lstm", "dickens", "lecture", {"maxlen": 150}),
    ("lstm dickens-fasttext50 frozen, maxlen 150", "lstm", "fasttext", "lecture",
     {"maxlen": 150}),
    ("lstm dickens-w2v50 fine-tuned", "lstm", "dickens", "lstm", {"freeze": False}),
    ("avgpool dickens-w2v50 frozen", "avgpool", "dickens", None, {}),
    ("lstm ppmi300 frozen, as stored", "lstm", "ppmi", "lstm", {}),
]


def _ppmi_set():
    """``indexes/imdb-train-ppmi300``, built from the training reviews if it is not there."""
    from embedkit.build import build_ppmi_svd

    return _training_set(PPMI_NAME, lambda corpus: build_ppmi_svd(
        corpus, min_count=1, max_vocab=100_000, dim=300))


def _w2v_set():
    """``indexes/imdb-train-w2v100``: word2vec (gensim) of the training reviews."""
    from embedkit.build import train_word2vec

    return _training_set(W2V_NAME, lambda corpus: train_word2vec(corpus, dim=100, epochs=5))


def _training_set(name: str, build):
    """The workspace set ``name``, built by ``build(corpus)`` from the 75,000 IMDB training
    reviews if it is not there (a few minutes on 2 idle cores)."""
    from embedkit import store, workspace
    from embedkit.corpus import Corpus, CorpusConfig
    from embedkit.errors import EmbedkitError

    home = REPO / "indexes"
    try:
        return workspace.open_set(name, home)
    except EmbedkitError:
        pass
    print(f"building {name} from the IMDB training reviews", file=sys.stderr, flush=True)
    vectors = build(Corpus([IMDB, IMDB_UNSUP], CorpusConfig(glob=PPMI_GLOB)))
    store.save(vectors, workspace.target_path(name, home, force=True))
    return workspace.open_set(name, home)


def _vectors(kind: str | None, model: str):
    """(vectors or None, description) of an embedding source named in :data:`RUNS`.

    "ppmi" is the 300-d PPMI-SVD set; "ppmi50"/"ppmi100" its top 50/100 SVD components
    (the first columns of U: what ``--dim 50`` would give, without a second SVD).
    """
    if kind is None:
        return None, "none (features)" if model.endswith("logreg") else "random (trained)"
    if kind.startswith("ppmi"):

        full = _ppmi_set()
        if kind == "ppmi":
            return full, f"embedkit PPMI-SVD {full.dim}-d ({len(full)} words)"
        dim = int(kind[4:])
        return (full.leading_dims(dim),
                f"embedkit PPMI-SVD, top {dim} of {full.dim} dims ({len(full)} words)")
    if kind == "w2v":
        vectors = _w2v_set()
        return vectors, f"embedkit word2vec (gensim) {vectors.dim}-d ({len(vectors)} words)"
    from embedkit.formats import read_vectors

    if kind == "fasttext":
        vectors = read_vectors(DICKENS_FASTTEXT)
        return vectors, f"Dickens fastText skip-gram {vectors.dim}-d + subwords " \
                        f"({len(vectors)} words)"
    vectors = read_vectors(DICKENS_W2V)
    return vectors, f"Dickens word2vec skip-gram {vectors.dim}-d ({len(vectors)} words)"


def _row(label, model, source, published, result, seconds) -> dict[str, Any]:
    epochs = result.history.epochs
    rates = sorted(e["samples_per_s"] for e in epochs)
    best = result.history.best_epoch
    val = next((e.get("val_accuracy") for e in epochs if e["epoch"] == best), None)
    pub = PUBLISHED.get(published or "", (None, None))
    coverage = (result.info.get("coverage") or {}).get("fraction")
    return {"run": label, "model": model, "embedding": source,
            "test_accuracy": result.test_metrics["accuracy"],
            "macro_f1": result.test_metrics["macro_f1"], "val_accuracy": val,
            "published": pub[1], "published_what": pub[0],
            "ratio_to_published": (result.test_metrics["accuracy"] / pub[1]) if pub[1] else None,
            "epochs_run": len(epochs), "best_epoch": best,
            "stopped_early": result.history.stopped_early,
            "train_samples_per_s": rates[len(rates) // 2] if rates else None,
            "coverage": coverage, "seconds": seconds}


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["run", "embedding", "test acc", "best val acc", "published", "test / published",
              "best / run epochs", "train samples/s", "coverage"]

    def published(r: dict[str, Any]) -> str:
        return f"{r['published']:.3f} ({r['published_what']})" if r.get("published") else ""

    def num(value: Any, fmt: str) -> str:
        return format(value, fmt) if isinstance(value, (int, float)) else ""

    body = [[r["run"], r["embedding"],
             f"**{r['test_accuracy']:.4f}**" if "test_accuracy" in r else r.get("skipped", ""),
             num(r.get("val_accuracy"), ".4f"), published(r),
             num(r.get("ratio_to_published"), ".4f"),
             f"{r.get('best_epoch', '')}/{r.get('epochs_run', '')}",
             num(r.get("train_samples_per_s"), ",.0f"),
             num(r.get("coverage") and 100 * r["coverage"], ".0f") + ("%" if r.get("coverage")
                                                                      else "")]
            for r in rows]
    return markdown_table(body, header)


def run(quick: bool = False, time_budget: float = 900.0, threads: int = 1,
        part: tuple[int, int] = (0, 1), only: str | None = None) -> dict[str, Any]:
    """Train every run in :data:`RUNS` (or a tiny version with ``quick``); write results.

    ``part=(k, n)`` trains every n-th run from the k-th (parallel processes on a shared
    machine; :func:`merge` joins their result files); ``only`` keeps the runs whose
    label is it, else those whose label contains it (written as
    ``bench_classify_only-<only>``).
    """
    if quick:
        gensim_data = Path(__import__("gensim").__file__).parent / "test" / "test_data"
        data = read_dataset(gensim_data / "pang_lee_polarity.cor")
        runs = [r for r in RUNS if r[2] is None][:8]
        base = dict(max_words=2000, maxlen=30, epochs=1, batch_size=32, embedding_dim=8,
                    units=8, threads=threads)
    else:
        data = read_dataset(IMDB)
        runs = ([r for r in RUNS if r[0] == only] or [r for r in RUNS if only in r[0]]) \
            if only else RUNS[part[0]::part[1]]
        base = {**CHOLLET, "time_budget": time_budget, "threads": threads}
    name = "bench_classify_quick" if quick else "bench_classify"
    if part[1] > 1 or only:
        name += f"_only-{re.sub(r'[^A-Za-z0-9]+', '-', only)}" if only else f"_part{part[0]}"
    rows: list[dict[str, Any]] = []
    settings = {"data": str(data.source), "settings": {k: v for k, v in base.items()},
                "threads_note": "1 torch thread per process; run as two processes "
                                "(--part 0/2, --part 1/2) on the 2 cores",
                "load_average_at_start": os.getloadavg()}
    for label, model, kind, published, overrides in runs:
        vectors, source = _vectors(kind, model)
        if isinstance(vectors, str):
            rows.append({"run": label, "model": model, "embedding": source,
                         "skipped": "vectors missing"})
            continue
        config = ClassifierConfig(model=model, **{**base, **overrides})
        start = time.perf_counter()
        result = train_classifier(data, config, vectors)
        rows.append(_row(label, model, source, published, result, time.perf_counter() - start))
        print(f"{label}: test accuracy {rows[-1]['test_accuracy']:.4f} "
              f"({rows[-1]['seconds']:.0f} s)", file=sys.stderr, flush=True)
        write_results(name, {**settings, "rows": rows}, _table(rows))
    return {**settings, "rows": rows}


THROUGHPUT_MODELS = ("flatten", "avgpool", "multihot", "rnn", "lstm", "gru", "birnn",
                     "bilstm", "bigru", "cnn")


def throughput(train_texts: int = 4000, threads: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Training samples per second of every network model, one epoch on a random sample of
    the IMDB training reviews with Chollet's settings (10,000 words, maxlen 500, batch 128;
    random embedding of 32, CNN 128 as in Chollet 6.4), with 1 and with 2 torch threads.
    Nothing else runs meanwhile: these are the figures to quote for speed."""
    import numpy as np

    data = read_dataset(IMDB)
    rng = np.random.default_rng(0)
    train = np.flatnonzero(np.array(data.splits) == "train")
    test = np.flatnonzero(np.array(data.splits) == "test")
    sample = data.subset(np.concatenate([rng.choice(train, train_texts, replace=False),
                                         rng.choice(test, 500, replace=False)]).tolist())
    rows: list[dict[str, Any]] = []
    for model in THROUGHPUT_MODELS:
        row: dict[str, Any] = {"model": model}
        for count in threads:
            extra = {"embedding_dim": 128} if model == "cnn" else {}
            config = ClassifierConfig(model=model, **{**CHOLLET, "epochs": 1, "patience": 0,
                                                      "threads": count, **extra})
            result = train_classifier(sample, config, None)
            row[f"samples_per_s_{count}"] = result.history.epochs[0]["samples_per_s"]
        rows.append(row)
        print(f"{model}: " + ", ".join(f"{row[f'samples_per_s_{c}']:,.0f}/s ({c} thread"
                                       f"{'s' if c > 1 else ''})" for c in threads),
              file=sys.stderr, flush=True)
    table = markdown_table(
        [[r["model"]] + [f"{r[f'samples_per_s_{c}']:,.0f}" for c in threads] for r in rows],
        ["model (IMDB, maxlen 500, batch 128)"]
        + [f"train samples/s, {c} thread{'s' if c > 1 else ''}" for c in threads])
    out = {"train_texts": int(round(train_texts * 0.8)), "settings": CHOLLET,
           "load_average_at_start": os.getloadavg(), "rows": rows}
    write_results("bench_classify_throughput", out, table)
    print(table)
    return out


def seed_spread(label: str, seeds: list[int], time_budget: float = 900.0) -> dict[str, Any]:
    """Train the run ``label`` of :data:`RUNS` once per seed (split, weights, batch order):
    how much of a difference between two rows is noise. Written as
    ``bench_classify_seeds-<label>``, joined with the other seeds already there (so two
    processes can train different seeds of one run)."""
    import statistics

    from benchmarks.common import RESULTS

    _, model, kind, published, overrides = next(r for r in RUNS if r[0] == label)
    data = read_dataset(IMDB)
    vectors, source = _vectors(kind, model)
    base = {**CHOLLET, "time_budget": time_budget, "threads": 1}
    settings = {"model": model, "vectors": kind, **CHOLLET, **overrides}
    rows = []
    for seed in seeds:
        config = ClassifierConfig(model=model, **{**base, **overrides, "seed": seed})
        start = time.perf_counter()
        result = train_classifier(data, config, vectors)
        rows.append({**_row(f"{label}, seed {seed}", model, source, published, result,
                            time.perf_counter() - start), "seed": seed, "settings": settings})
        print(f"{rows[-1]['run']}: test accuracy {rows[-1]['test_accuracy']:.4f}",
              file=sys.stderr, flush=True)
    name = f"bench_classify_seeds-{re.sub(r'[^A-Za-z0-9]+', '-', label)}"
    rows += _earlier_seeds(RESULTS / f"{name}.json", seeds, settings)
    rows.sort(key=lambda r: r["seed"])
    seeds = [r["seed"] for r in rows]
    accuracies = [r["test_accuracy"] for r in rows]
    summary = {"run": label, "seeds": seeds, "test_accuracy_mean": statistics.mean(accuracies),
               "test_accuracy_sd": statistics.stdev(accuracies) if len(rows) > 1 else 0.0,
               "test_accuracy_min": min(accuracies), "test_accuracy_max": max(accuracies)}
    write_results(name, {"summary": summary, "rows": rows}, _table(rows))
    return {"summary": summary, "rows": rows}


def _earlier_seeds(path, seeds: list[int], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of other seeds already in ``path`` that were trained with the same
    ``settings`` (rows from before settings were recorded are kept); stale rows are
    dropped with a warning."""
    import json

    if not path.exists():
        return []
    rows = [r for r in json.loads(path.read_text())["rows"] if r["seed"] not in seeds]
    same = [r for r in rows if r.get("settings", settings) == settings]
    if len(same) < len(rows):
        print(f"dropped {len(rows) - len(same)} earlier seed rows of {path.name} trained with "
              "other settings", file=sys.stderr, flush=True)
    return same


def test_ceiling(label: str, epochs: int = 9) -> dict[str, Any]:
    """A diagnostic, not a result: train the run ``label`` on all 25,000 training reviews
    and measure *test* accuracy after every epoch. Its maximum is the most that choosing
    the epoch (early stopping, however good) could give; it also equals retraining on
    train + validation for a chosen number of epochs. Written as
    ``bench_classify_ceiling-<label>``."""
    from embedkit.classify.datasets import LabelledTexts

    _, model, kind, published, overrides = next(r for r in RUNS if r[0] == label)
    data = read_dataset(IMDB)
    test = [i for i, split in enumerate(data.splits) if split == "test"]
    watched = LabelledTexts(data.texts + [data.texts[i] for i in test],  # test = "validation"
                            data.labels + [data.labels[i] for i in test],
                            data.splits + ["validation"] * len(test))
    vectors, _source = _vectors(kind, model)
    config = ClassifierConfig(model=model, **{**CHOLLET, "threads": 1, **overrides,
                                              "epochs": epochs, "patience": 0})
    history = train_classifier(watched, config, vectors).history
    per_epoch = [round(e["val_accuracy"], 4) for e in history.epochs]
    summary = {"run": label, "trained_on": "all 25,000 training reviews",
               "test_accuracy_per_epoch": per_epoch, "ceiling": max(per_epoch),
               "ceiling_epoch": per_epoch.index(max(per_epoch)) + 1,
               "published": PUBLISHED[published][1] if published else None}
    rows = [{"epoch": k, "test_accuracy": a} for k, a in enumerate(per_epoch, 1)]
    name = f"bench_classify_ceiling-{re.sub(r'[^A-Za-z0-9]+', '-', label)}"
    write_results(name, {"summary": summary, "rows": rows},
                  markdown_table([[r["epoch"], f"{r['test_accuracy']:.4f}"] for r in rows],
                                 ["epoch", "test accuracy"]))
    return summary


def merge(parts: int) -> dict[str, Any]:
    """Join ``bench_classify_part*.json`` into ``bench_classify`` in :data:`RUNS` order."""
    import json

    from benchmarks.common import RESULTS

    files = [RESULTS / f"bench_classify_part{k}.json" for k in range(parts)]
    files += sorted(RESULTS.glob("bench_classify_only-*.json"))
    loaded = [json.loads(file.read_text()) for file in files]
    order = {label: i for i, (label, *_rest) in enumerate(RUNS)}
    best: dict[str, dict[str, Any]] = {}
    for row in (r for part in loaded for r in part["rows"]):
        if row["run"] not in best or "skipped" not in row:
            best[row["run"]] = row  # a run done in a later file (an --only rerun) wins
    rows = sorted(best.values(), key=lambda r: order[r["run"]])
    data = {k: v for k, v in loaded[0].items() if k not in ("rows", "benchmark", "machine",
                                                             "date")}
    data["parts"] = parts
    write_results("bench_classify", {**data, "rows": rows}, _table(rows))
    return {**data, "rows": rows}


if __name__ == "__main__":
    help_and_exit(__doc__, {"--merge": 1, "--seeds": 2, "--ceiling": 1, "--only": 1, "--part": 1,
                            "--throughput": 0})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if "--throughput" in sys.argv:
        throughput()
        sys.exit(0)
    if "--merge" in sys.argv:
        out = merge(int(sys.argv[sys.argv.index("--merge") + 1]))
    elif "--seeds" in sys.argv:  # --seeds LABEL 0,1,2
        at = sys.argv.index("--seeds")
        out = seed_spread(sys.argv[at + 1], [int(k) for k in sys.argv[at + 2].split(",")])
        print(out["summary"])
    elif "--ceiling" in sys.argv:  # --ceiling LABEL
        print(test_ceiling(sys.argv[sys.argv.index("--ceiling") + 1]))
        sys.exit(0)
    elif "--only" in sys.argv:
        out = run(only=sys.argv[sys.argv.index("--only") + 1])
    elif "--part" in sys.argv:
        k, n = sys.argv[sys.argv.index("--part") + 1].split("/")
        out = run(part=(int(k), int(n)))
    else:
        out = run(quick="--quick" in sys.argv)
    print(_table(out["rows"]))
