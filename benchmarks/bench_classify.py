"""Classification benchmark: IMDB test accuracy and training throughput of every model.

Chollet's settings (Deep Learning with Python): the 10,000 most frequent words, reviews
cut to their last 500 tokens (Keras' pad_sequences default), 20% of the 25,000 training
reviews for validation, RMSprop, batch 128, up to 10 epochs; here with early stopping on
validation accuracy (patience 3, best weights restored) and a wall-clock budget per model,
because the machine is a shared 2-core CPU. Accuracy is measured on the 25,000 test reviews.

Embedding layers: from scratch (random, trained), from embedkit's own PPMI-SVD set of the
IMDB reviews (``indexes/imdb-ppmi300``, stored by ``bench_build``; skipped if absent),
and from imported vectors (the Dickens word2vec and fastText skip-gram 50-d vectors in
../shared/data/pretrained_vectors, fastText with its subword vectors for unseen words:
the only real pretrained sets there that cover a useful vocabulary; the GloVe files are
100-word samples). Baselines: bag of words and
TF-IDF (the lecture's and scikit-learn's) with logistic regression, unigrams and bigrams.

Published numbers next to ours: Chollet 1st ed. (validation accuracy) SimpleRNN 0.846,
LSTM 0.893, BiLSTM 0.886, Conv1D 0.838; dense bag-of-words 0.885 (test); 2nd ed. TF-IDF
bigrams 0.89-0.90 (test); the lecture's PyTorch LSTM(32) on frozen GloVe-50d with maxlen
150: 0.832 (test).

Run: ``python -m benchmarks.bench_classify [--quick]``; results go to
``benchmarks/results/bench_classify{,_quick}.{json,md}`` after every model. On a shared
machine, ``--part 0/2`` and ``--part 1/2`` in two processes, then ``--merge 2``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHARED_DATA, markdown_table, write_results
from embedkit.classify.classifier import ClassifierConfig, train_classifier
from embedkit.classify.datasets import read_dataset

REPO = Path(__file__).resolve().parents[1]
IMDB = SHARED_DATA / "imdb_aclImdb" / "aclImdb_v1_labelled.tar.gz"
DICKENS = SHARED_DATA / "pretrained_vectors" / "generated_dickens_real_tools"
DICKENS_W2V = DICKENS / "dickens_w2v_sg50.txt.gz"
DICKENS_FASTTEXT = DICKENS / "dickens_fasttext_sg50.bin"  # subwords: vectors for every word
# bench_build's 100,000-word PPMI-SVD set of all IMDB reviews (labelled and unsup; no labels)
PPMI_NAMES = ("imdb-ppmi300",)
PUBLISHED = {
    "rnn": ("Chollet SimpleRNN (val)", 0.846), "lstm": ("Chollet LSTM (val)", 0.893),
    "bilstm": ("Chollet BiLSTM (val)", 0.886), "cnn": ("Chollet Conv1D (val)", 0.838),
    "bow-logreg": ("Chollet dense bag-of-words (test)", 0.885),
    "tfidf-bigrams": ("Chollet 2nd ed. TF-IDF bigrams (test)", 0.89),
    "lecture": ("lecture LSTM(32), frozen GloVe-50d, maxlen 150 (test)", 0.832),
}

# (label, model, vectors: None | "ppmi" | "dickens", published key, config overrides)
RUNS: list[tuple[str, str, str | None, str | None, dict[str, Any]]] = [
    ("bow-logreg", "bow-logreg", None, "bow-logreg", {}),
    ("tfidf-logreg", "tfidf-logreg", None, None, {}),
    ("tfidf-sklearn-logreg", "tfidf-sklearn-logreg", None, None, {}),
    ("lstm scratch", "lstm", None, "lstm", {}),
    ("cnn scratch", "cnn", None, "cnn", {"embedding_dim": 128}),
    ("rnn scratch", "rnn", None, "rnn", {}),
    ("avgpool scratch", "avgpool", None, None, {}),
    ("flatten scratch", "flatten", None, None, {}),
    ("lstm dickens-w2v50 frozen, maxlen 150", "lstm", "dickens", "lecture", {"maxlen": 150}),
    ("lstm ppmi300 frozen", "lstm", "ppmi", "lstm", {}),
    ("bilstm scratch", "bilstm", None, "bilstm", {}),
    ("gru scratch", "gru", None, None, {}),
    ("avgpool ppmi300 frozen", "avgpool", "ppmi", None, {}),
    ("avgpool dickens-w2v50 frozen", "avgpool", "dickens", None, {}),
    ("cnn ppmi300 fine-tuned", "cnn", "ppmi", "cnn", {"freeze": False}),
    ("lstm dickens-w2v50 fine-tuned", "lstm", "dickens", "lstm", {"freeze": False}),
    ("tfidf-sklearn-logreg bigrams 20k", "tfidf-sklearn-logreg", None, "tfidf-bigrams",
     {"ngrams": 2, "max_words": 20_000}),
    ("tfidf-logreg bigrams 20k", "tfidf-logreg", None, "tfidf-bigrams",
     {"ngrams": 2, "max_words": 20_000}),
    ("lstm scratch, PyTorch default init", "lstm", None, "lstm", {"init": "torch"}),
    ("lstm dickens-fasttext50 frozen, maxlen 150", "lstm", "fasttext", "lecture",
     {"maxlen": 150}),
]


def _vectors(kind: str | None, model: str):
    if kind is None:
        return None, "none (features)" if model.endswith("logreg") else "random (trained)"
    if kind == "ppmi":
        from embedkit import workspace
        from embedkit.errors import EmbedkitError

        for name in PPMI_NAMES:
            try:
                vectors = workspace.open_set(name, REPO / "indexes")
            except EmbedkitError:
                continue
            return vectors, f"embedkit PPMI-SVD {name} {vectors.dim}-d ({len(vectors)} words)"
        return "missing", f"none of {', '.join(PPMI_NAMES)} in indexes/"
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
    header = ["run", "embedding", "test acc", "published", "ratio", "best/run epochs",
              "train samples/s", "coverage"]
    body = [[r["run"], r["embedding"], r.get("test_accuracy", r.get("skipped", "")),
             r.get("published") or "", r.get("ratio_to_published") or "",
             f"{r.get('best_epoch', '')}/{r.get('epochs_run', '')}",
             r.get("train_samples_per_s") or "", r.get("coverage") or ""] for r in rows]
    return markdown_table(body, header)


def run(quick: bool = False, time_budget: float = 600.0, threads: int = 1,
        part: tuple[int, int] = (0, 1), only: str | None = None) -> dict[str, Any]:
    """Train every run in :data:`RUNS` (or a tiny version with ``quick``); write results.

    ``part=(k, n)`` trains every n-th run from the k-th (parallel processes on a shared
    machine; :func:`merge` joins their result files); ``only`` keeps the runs whose
    label contains it (written as ``bench_classify_only-<only>``).
    """
    if quick:
        gensim_data = Path(__import__("gensim").__file__).parent / "test" / "test_data"
        data = read_dataset(gensim_data / "pang_lee_polarity.cor")
        runs = [r for r in RUNS if r[2] is None][:8]
        base = dict(max_words=2000, maxlen=30, epochs=1, batch_size=32, embedding_dim=8,
                    units=8, threads=threads)
    else:
        data = read_dataset(IMDB)
        runs = [r for r in RUNS if only in r[0]] if only else RUNS[part[0]::part[1]]
        base = dict(max_words=10_000, maxlen=500, epochs=10, patience=3, batch_size=128,
                    time_budget=time_budget, threads=threads, monitor="val_accuracy")
    name = "bench_classify_quick" if quick else "bench_classify"
    if part[1] > 1 or only:
        name += f"_only-{only.replace(' ', '-')}" if only else f"_part{part[0]}"
    rows: list[dict[str, Any]] = []
    settings = {"data": str(data.source), "settings": {k: v for k, v in base.items()},
                "threads_note": "1 torch thread: the 2 cores are shared with other jobs, and "
                                "2 threads ran 3x slower under that load",
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
        if row["run"] not in best or "skipped" in best[row["run"]]:
            best[row["run"]] = row  # a run done in a later file replaces a skipped one
    rows = sorted(best.values(), key=lambda r: order[r["run"]])
    data = {k: v for k, v in loaded[0].items() if k not in ("rows", "benchmark", "machine",
                                                             "date")}
    data["parts"] = parts
    write_results("bench_classify", {**data, "rows": rows}, _table(rows))
    return {**data, "rows": rows}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if "--merge" in sys.argv:
        out = merge(int(sys.argv[sys.argv.index("--merge") + 1]))
    elif "--only" in sys.argv:
        out = run(only=sys.argv[sys.argv.index("--only") + 1])
    elif "--part" in sys.argv:
        k, n = sys.argv[sys.argv.index("--part") + 1].split("/")
        out = run(part=(int(k), int(n)))
    else:
        out = run(quick="--quick" in sys.argv)
    print(_table(out["rows"]))
