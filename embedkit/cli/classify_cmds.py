"""`embedkit classify train|evaluate|predict`: text classifiers fed by stored vectors."""

from __future__ import annotations

import sys
from typing import Any

import typer

from embedkit.cli.common import emit_json, emit_table, emit_tsv, home_option, json_option, not_empty

FORMAT_HELP = "Dataset layout: auto, folders, fasttext, label-first, table or reuters."


# the options that say how DATA is read, shared by train and evaluate
FORMAT_OPT = typer.Option("auto", "--format", help=FORMAT_HELP)
TEXT_COLUMN_OPT = typer.Option(None, help="Table: name or 0-based index of the text column "
                               "[default: guessed from the header].")
LABEL_COLUMN_OPT = typer.Option(None, help="Table: name or 0-based index of the label column "
                                "[default: guessed from the header].")
DELIMITER_OPT = typer.Option(None, help="Table delimiter [default: tab, else ; or | where "
                             "every line has it equally often, else comma].")
ENCODING_OPT = typer.Option("utf-8", help="Text encoding (bad bytes are replaced and counted).")


def _read_options(fmt: str, text_column: str | None, label_column: str | None,
                  delimiter: str | None, encoding: str) -> dict[str, Any]:
    return {"layout": fmt, "text_column": text_column, "label_column": label_column,
            "delimiter": delimiter, "encoding": encoding}


def _one_or_many(data: list[str]) -> str | list[str]:
    return data[0] if len(data) == 1 else data


def train(
    data: list[str] = typer.Argument(..., help="Labelled texts: a file, folder or .tar.gz/"
                                     ".zip archive (see --format), or several files whose "
                                     "names give their splits (x.train x.dev x.test).",
                                     callback=not_empty),
    output: str = typer.Option(..., "--output", "--out", "-o", help="Model file to write (.pt).",
                               callback=not_empty),
    model: str = typer.Option("lstm", help="flatten, avgpool, multihot, rnn, lstm, gru, birnn, "
                              "bilstm, bigru, cnn, bow-logreg, tfidf-logreg or "
                              "tfidf-sklearn-logreg."),
    vectors: str = typer.Option(None, help="Embedding set (workspace NAME or .h5 path) the "
                                "embedding layer starts from [default: random]."),
    home: str = home_option(),
    vector_dims: int = typer.Option(None, help="Keep only the first K dimensions of --vectors "
                                    "(of a PPMI-SVD set: its K strongest components) "
                                    "[default: all]."),
    freeze: bool = typer.Option(True, "--freeze/--fine-tune",
                                help="Keep stored vectors fixed, or train them too."),
    oov: str = typer.Option("zeros", help="Rows of words the set lacks: zeros or random."),
    normalize: str = typer.Option("none", help="Rescale the stored vectors first: none, "
                                  "unit (every row length 1) or scale (the mean row length "
                                  "1, relative lengths kept)."),
    max_words: int = typer.Option(10_000, help="Vocabulary: most frequent training words "
                                  "(features for the baselines)."),
    maxlen: int = typer.Option(500, help="Tokens per text (padded or cut)."),
    truncating: str = typer.Option("pre", help="Cut long texts at the start (pre: keep the "
                                   "last tokens, as Keras) or the end (post)."),
    embedding_dim: int = typer.Option(None, help="Embedding size [default: the vectors' "
                                      "dimension, else 32]."),
    units: int = typer.Option(32, help="Recurrent units, CNN filters, or dense units."),
    layers: int = typer.Option(1, help="Stacked recurrent layers."),
    bidirectional: bool = typer.Option(False, help="Bidirectional recurrent layers."),
    dropout: float = typer.Option(0.0, help="Dropout before the output (and between "
                                  "stacked layers)."),
    embedding_dropout: float = typer.Option(0.0, help="Dropout of the embedded words' "
                                            "features while training."),
    recurrent_dropout: float = typer.Option(0.0, help="Recurrent models: weight drop "
                                            "(DropConnect) on the hidden-to-hidden weights "
                                            "while training, one mask per batch."),
    packed: bool = typer.Option(False, help="Skip padding exactly with packed sequences "
                                "(slower on CPU)."),
    pooling: str = typer.Option("last", help="Recurrent models: what the output layer reads: "
                                "last (the final state, as Keras), max or mean (of the "
                                "outputs over the real tokens, padding masked out)."),
    init: str = typer.Option("keras", help="Recurrent weights: keras (Glorot, orthogonal, "
                             "forget bias 1) or torch (PyTorch's defaults)."),
    ngrams: int = typer.Option(1, help="Baselines: word n-grams up to this length."),
    c: float = typer.Option(0.0, "--C", show_default=False, help="Baselines: inverse L2 "
                            "strength [default: per model]."),
    optimizer: str = typer.Option("rmsprop", help="rmsprop or adam."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    batch_size: int = typer.Option(128, help="Mini-batch size."),
    epochs: int = typer.Option(10, help="Most epochs."),
    patience: int = typer.Option(2, help="Stop after this many epochs without a better "
                                 "--monitor value (0 = never); the best weights are kept."),
    monitor: str = typer.Option("val_loss", help="What early stopping watches: val_loss or "
                                "val_accuracy."),
    time_budget: float = typer.Option(0.0, help="Stop after the epoch that passes this many "
                                      "seconds of training (0 = no limit)."),
    clip_norm: float = typer.Option(0.0, help="Clip the gradient norm (0 = no clipping)."),
    average: float = typer.Option(0.0, help="Validate and keep an exponential moving average "
                                  "of the weights with this decay per batch, e.g. 0.99 "
                                  "(0 = the weights as trained)."),
    adversarial: float = typer.Option(0.0, help="Adversarial training (Miyato et al. 2017): "
                                      "each batch also trains on its embedded tokens moved "
                                      "this far (L2 per text) along the loss gradient; "
                                      "about 0.3-1 with --normalize scale (the paper's 5 "
                                      "on its rows); doubles the time per batch (0 = off)."),
    refit: bool = typer.Option(False, help="After early stopping, train a fresh network on "
                               "the training + validation texts for the epochs validation "
                               "chose, and keep that one."),
    validation: float = typer.Option(0.2, help="Fraction of the training texts held out for "
                                     "validation (unless the data has a dev split)."),
    test: float = typer.Option(0.2, help="Fraction held out for testing (unless the data has "
                               "a test split or --test-data is given)."),
    group_split: bool = typer.Option(True, help="Draw the held-out fractions by group where "
                                     "the data names groups (aclImdb: the film of each "
                                     "review, from urls_*.txt), so no film is on both sides."),
    test_data: str = typer.Option(None, help="A separate test set in the same format (only "
                                  "its own test split when it has one, as in an aclImdb "
                                  "archive) [default: none].", callback=not_empty),
    seed: int = typer.Option(0, help="Seed of the split, the initial weights and batches."),
    threads: int = typer.Option(0, show_default=False,
                                help="PyTorch threads [default: one per core]."),
    fmt: str = FORMAT_OPT,
    text_column: str = TEXT_COLUMN_OPT,
    label_column: str = LABEL_COLUMN_OPT,
    delimiter: str = DELIMITER_OPT,
    encoding: str = ENCODING_OPT,
    lowercase: bool = typer.Option(True, "--lowercase/--keep-case", help="Lower-case tokens."),
    history: str = typer.Option(None, help="Write the per-epoch history as JSON here "
                                "[default: not written].", callback=not_empty),
    plot: str = typer.Option(None, help="Plot loss/accuracy curves to this PNG "
                             "[default: no plot].", callback=not_empty),
    as_json: bool = json_option(),
) -> None:
    """Train a classifier and save it (vocabulary, preprocessing, labels, weights) in one file.

    Example: embedkit classify train pang_lee_polarity.cor --model lstm --maxlen 50 -o m.pt
    """
    from embedkit.classify.classifier import ClassifierConfig
    from embedkit.classify.preprocess import listing
    from embedkit.classify.run import train_files

    config = ClassifierConfig(
        model=model, max_words=max_words, maxlen=maxlen, truncating=truncating,
        embedding_dim=embedding_dim, vector_dims=vector_dims, freeze=freeze, oov=oov,
        normalize=normalize, units=units,
        layers=layers, bidirectional=bidirectional, dropout=dropout,
        embedding_dropout=embedding_dropout, recurrent_dropout=recurrent_dropout,
        pooling=pooling, packed=packed, init=init,
        ngrams=ngrams, C=c, validation=validation, test=test, group_split=group_split,
        tokenizer={"lowercase": lowercase}, optimizer=optimizer, lr=lr,
        batch_size=batch_size, epochs=epochs, patience=patience, monitor=monitor,
        time_budget=time_budget, clip_norm=clip_norm, average=average, adversarial=adversarial,
        refit=refit, seed=seed,
        threads=threads)
    report = train_files(_one_or_many(data), output, config, vectors, home, test_data,
                         _read_options(fmt, text_column, label_column, delimiter, encoding),
                         history, plot)
    if as_json:
        emit_json(report)
        return
    rows = [["model", report["model"]], ["saved", report["output"]],
            ["texts (train/val/test)", "/".join(str(v) for v in report["sizes"].values())],
            ["labels", listing(report["labels"], most=10)], ["task", report["task"]],
            ["epochs (best/run)", f"{report['best_epoch']}/{report['epochs_run']}"]]
    if report.get("refit"):
        rows.append(["refit", f"{report['refit']['epochs']} epochs on "
                              f"{report['refit']['texts']} texts"])
    if report.get("coverage"):
        cov = report["coverage"]
        rows.append(["coverage", f"{cov['found'] + cov['subword']}/{cov['total']} "
                                 f"({cov['fraction']:.1%})"])
    _metric_rows(rows, report["test"])
    emit_table(rows)


def _metric_rows(rows: list[list[Any]], metrics: dict[str, Any]) -> None:
    for key in ("accuracy", "macro_f1", "micro_f1", "majority_accuracy", "n"):
        if key in metrics:
            rows.append([f"test {key}", metrics[key]])


def evaluate(
    model: str = typer.Argument(..., help="Model file written by `classify train`.",
                                callback=not_empty),
    data: list[str] = typer.Argument(..., help="Labelled texts (same layouts as for "
                                     "training; several files are joined).",
                                     callback=not_empty),
    split: str = typer.Option("test", help="test (the data's test split, else everything), "
                              "all, train or validation."),
    fmt: str = FORMAT_OPT,
    text_column: str = TEXT_COLUMN_OPT,
    label_column: str = LABEL_COLUMN_OPT,
    delimiter: str = DELIMITER_OPT,
    encoding: str = ENCODING_OPT,
    as_json: bool = json_option(),
) -> None:
    """Accuracy, macro-F1 and the confusion matrix (micro/macro-F1 for multi-label).

    Example: embedkit classify evaluate m.pt stsa.binary.test --json
    """
    from embedkit.classify.run import evaluate_files

    metrics = evaluate_files(model, _one_or_many(data), split,
                             _read_options(fmt, text_column, label_column, delimiter, encoding))
    if as_json:
        emit_json(metrics)
        return
    rows = [[key, metrics[key]] for key in ("split", "n", "accuracy", "label_accuracy",
                                            "micro_f1", "macro_f1") if key in metrics]
    emit_table(rows)
    if "confusion_matrix" in metrics and len(metrics["labels"]) <= 30:
        sys.stdout.write("\nconfusion matrix (rows: true, columns: predicted)\n")
        emit_table([[name, *row] for name, row in zip(metrics["labels"],
                    metrics["confusion_matrix"], strict=True)], ["", *metrics["labels"]])


def predict(
    model: str = typer.Argument(..., help="Model file written by `classify train`.",
                                callback=not_empty),
    texts: list[str] = typer.Argument(None, help="Texts to classify."),
    file: str = typer.Option(None, "--file", "-f", help="Classify each line of this file "
                            "(- reads standard input); one prediction per line, blank "
                            "lines included [default: none].", callback=not_empty),
    encoding: str = typer.Option("utf-8", help="Encoding of --file (bad bytes are replaced, "
                                 "with a warning)."),
    as_json: bool = json_option(),
) -> None:
    """Predict the label(s) of texts: label, probability and text per line.

    Multi-label models print the labels with probability over 0.5 joined by commas (an empty
    column when none is) and the highest probability.

    Example: embedkit classify predict m.pt "a gripping, funny film" --json
    """
    from embedkit.classify.run import predict_texts, read_texts

    items = list(texts or []) + (read_texts(file, encoding) if file else [])
    results = predict_texts(model, items)
    if as_json:
        emit_json(results)
        return
    emit_tsv([[",".join(r["labels"]), max(r["scores"].values()), " ".join(r["text"].split())]
              for r in results], ["label", "score", "text"])


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Text classifiers (PyTorch networks, bag-of-words / TF-IDF "
                        "baselines) whose embeddings start from a stored set.",
                        no_args_is_help=True)
    group.command("train")(train)
    group.command("evaluate")(evaluate)
    group.command("predict")(predict)
    app.add_typer(group, name="classify")
