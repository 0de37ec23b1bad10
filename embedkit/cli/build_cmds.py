"""`embedkit build ppmi|word2vec|fasttext` and `embedkit demo`: build vectors from text.

Each command turns its options into one call of :mod:`embedkit.build` and writes the result
to the workspace atomically (an existing set is refused unless ``--force``, and is replaced
only once the new store is complete).
"""

from __future__ import annotations

from typing import Any

import typer

from embedkit import store, workspace
from embedkit.cli.common import emit_json, emit_table, home_option, json_option, not_empty, report
from embedkit.errors import UsageError
from embedkit.tokens import TokenizerConfig

app = typer.Typer(
    help="Build word vectors from raw text (PPMI-SVD, or word2vec/fastText through gensim).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

# -- options shared by the three builders -------------------------------------------------
CORPUS_ARG = typer.Argument(
    ..., help="Text files, folders (read recursively), .gz/.bz2/.xz files or tar/zip archives.",
    show_default=False, callback=not_empty)
NAME_OPT = typer.Option(..., "--name", "-n", help="Name of the new set in the workspace.",
                        show_default=False)
FORCE_OPT = typer.Option(False, "--force", help="Replace an existing set of that name (the old "
                         "one stays until the new store is complete).")


def _build():
    """embedkit.build, imported on use: it pulls in scipy (~0.1 s of every CLI start)."""
    from embedkit import build

    return build


def _corpus_options(fmt: str, glob: str | None, encoding: str, sentences: bool,
                    document_tag: str | None = None) -> dict[str, Any]:
    if document_tag is not None and fmt not in MARKUP_FORMATS:
        raise UsageError(f"--document-tag applies to --format {' or '.join(MARKUP_FORMATS)} "
                         f"(or auto on .xml/.sgm files), not {fmt}")
    if document_tag is not None and not document_tag.strip():
        raise UsageError("--document-tag is empty: give an element name such as doc")
    return {"format": fmt, "glob": glob, "encoding": encoding, "sentences": sentences,
            "document_tag": document_tag}


MARKUP_FORMATS = ("auto", "xml", "sgml")


def document_tag_option() -> Any:
    """``--document-tag``: the XML/SGML element that delimits documents."""
    return typer.Option(None, "--document-tag", show_default=False,
                        help="XML/SGML element that delimits documents (namespace ignored) "
                        "[default: each child of the XML root; REUTERS for SGML].")


def _tokenizer(lowercase: bool, numbers: str, punctuation: str, min_length: int,
               strip_accents: bool, hyphens: str, apostrophes: str) -> TokenizerConfig:
    return TokenizerConfig(lowercase=lowercase, numbers=numbers, punctuation=punctuation,
                           min_length=min_length, strip_accents=strip_accents, hyphens=hyphens,
                           apostrophes=apostrophes)


def apostrophes_option() -> Any:
    """``--apostrophes``: keep words such as don't whole, or split at the apostrophe."""
    return typer.Option("keep", help="Apostrophes inside words: keep (don't, l'été whole) or "
                        "split (l'été -> l, été: French/Italian elisions).")


def _corpus(paths: list[str], options: dict[str, Any]) -> Any:
    return _build().open_corpus(list(paths), **options)


def _save(vectors, name: str, home: str | None, force: bool, as_json: bool) -> None:
    path = workspace.target_path(name, home, force)
    store.save(vectors, path)
    summary = {"name": name, "path": str(path), "words": len(vectors), "dim": vectors.dim,
               "source": vectors.metadata.get("source"), **vectors.metadata.get("stats", {}),
               **vectors.metadata.get("timings", {})}
    summary = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    if as_json:
        emit_json(summary)
    else:
        emit_table([[k, v] for k, v in summary.items()])


@app.command("ppmi")
def ppmi(
    ctx: typer.Context,
    corpus: list[str] = CORPUS_ARG,
    name: str = NAME_OPT,
    window: int = typer.Option(None, help="Context words on each side (K) [default: 5; "
                               "levy2015/lecture presets: 2].",
                               show_default=False),
    context: str = typer.Option("window", help="Context type: window (K words each side), "
                                "left / right (the single word before / after: bigrams), "
                                "document (term-document matrix, LSA)."),
    window_weighting: str = typer.Option("uniform", help="Weight of a context d words away: "
                                         "uniform, harmonic (1/d, GloVe) or dynamic "
                                         "((K-d+1)/K, the expectation of word2vec's window)."),
    subsample: float = typer.Option(0.0, help="word2vec subsampling threshold t (e.g. 1e-5); "
                                    "0 = off."),
    weighting: str = typer.Option(None, help="count, pmi, ppmi or sppmi [default: ppmi].",
                                  show_default=False),
    cds: float = typer.Option(None, help="Context-distribution smoothing exponent (1 = none) "
                              "[default: 0.75; lecture preset: 1].", show_default=False),
    shift: float = typer.Option(None, help="Shift k: log2 k is subtracted before clipping "
                                "[default: 1 for pmi/ppmi, 5 for sppmi].", show_default=False),
    dim: int = typer.Option(300, help="Dimensions kept by the SVD."),
    eig: float = typer.Option(None, help="Eigenvalue weighting p: vectors U*S^p "
                              "[default: 0; levy2015 preset: 0.5; lecture preset: 1].",
                              show_default=False),
    algorithm: str = typer.Option("randomized", help="SVD: randomized (Halko et al., fast) or "
                                  "arpack (scipy svds, exact)."),
    min_count: int = typer.Option(5, help="Keep words seen at least this many times."),
    max_vocab: int = typer.Option(None, help="Keep at most this many words (most frequent) "
                                  "[default: no limit].", show_default=False),
    memory: str = typer.Option("2G", help="Memory budget of the counting stage (e.g. 512M, 4G)."),
    preset: str = typer.Option(None, help="embedkit (PPMI, cds 0.75, window 5, p 0: best "
                               "measured), levy2015 (Levy, Goldberg & Dagan 2015: window 2, "
                               "p 0.5) or lecture (PPMI without smoothing, U*S) "
                               "[default: embedkit]; explicit options override it.",
                               show_default=False),
    seed: int = typer.Option(0, help="Seed of every random step (SVD, subsampling)."),
    workers: int = typer.Option(2, help="Processes tokenising and threads counting."),
    scheduler: str = typer.Option(None, help="Count on the Dask cluster whose scheduler is at "
                                  "this address (e.g. tcp://host:8786); every worker must read "
                                  "the corpus at the same paths [default: this machine only].",
                                  show_default=False),
    cluster: str = typer.Option(None, help="Count on a new local Dask cluster of N worker "
                                "processes, 1 thread each: local:N [default: none].",
                                show_default=False),
    fmt: str = typer.Option("auto", "--format", help="Corpus format: auto, text, lines, "
                            "paragraphs, html, sgml, xml, wiki."),
    glob: str = typer.Option(None, help="Only files in folders/archives matching this pattern "
                             "(e.g. '*.txt') [default: all].", show_default=False),
    encoding: str = typer.Option("utf-8", help="Text encoding (undecodable bytes are replaced "
                                 "and counted)."),
    sentences: bool = typer.Option(False, help="One document per sentence."),
    lowercase: bool = typer.Option(True, help="Lower-case the text."),
    numbers: str = typer.Option("keep", help="Numbers: keep, drop or replace (by <num>)."),
    punctuation: str = typer.Option("drop", help="Punctuation: drop or keep."),
    min_length: int = typer.Option(1, help="Drop tokens shorter than this."),
    strip_accents: bool = typer.Option(False, help="Remove diacritics (café -> cafe)."),
    hyphens: str = typer.Option("split", help="Hyphenated words: split or keep."),
    apostrophes: str = apostrophes_option(),
    document_tag: str = document_tag_option(),
    force: bool = FORCE_OPT,
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Build PPMI-SVD vectors: count, weight (PPMI), factorise (truncated SVD).

    Example: embedkit build ppmi reviews/ --name imdb --glob '*.txt' --dim 300 --min-count 5
    """
    if scheduler is not None or cluster is not None:
        _refuse_given(ctx, ("workers",), "a build on this machine (on Dask the worker "
                      "processes, local:N or the cluster's, set the parallelism)", remedy="")
    workspace.target_path(name, home, force)  # refuse an existing name before the work
    vectors = _build().build_ppmi_svd(
        _corpus(corpus, _corpus_options(fmt, glob, encoding, sentences, document_tag)),
        tokenizer=_tokenizer(lowercase, numbers, punctuation, min_length, strip_accents, hyphens,
                             apostrophes),
        min_count=min_count, max_vocab=max_vocab, window=window, context=context,
        window_weighting=window_weighting, subsample=subsample, weighting=weighting, cds=cds,
        shift=shift, dim=dim, eig=eig, algorithm=algorithm, seed=seed, memory=memory,
        preset=preset, workers=workers, scheduler=scheduler, cluster=cluster)
    _save(vectors, name, home, force, as_json)


FASTTEXT_ONLY = ("min_n", "max_n", "bucket")


def _refuse_given(ctx: typer.Context, params: tuple[str, ...], scope: str,
                  remedy: str = "use `embedkit build fasttext`") -> None:
    """A usage error naming those of ``params`` given on the command line (not defaults)."""
    given = [f"--{p.replace('_', '-')}" for p in params
             if getattr(ctx.get_parameter_source(p), "name", "DEFAULT") != "DEFAULT"]
    if given:
        one = len(given) == 1
        raise UsageError(f"{', '.join(given)} {'applies' if one else 'apply'} only to {scope}; "
                         f"drop {'it' if one else 'them'}" + (f" or {remedy}" if remedy else ""))


def _gensim_command(model: str):
    def command(
        ctx: typer.Context,
        corpus: list[str] = CORPUS_ARG,
        name: str = NAME_OPT,
        sg: bool = typer.Option(True, "--sg/--cbow", help="Skip-gram or CBOW."),
        window: int = typer.Option(5, help="Context words on each side."),
        dim: int = typer.Option(100, help="Vector dimensions."),
        epochs: int = typer.Option(5, help="Passes over the corpus."),
        min_count: int = typer.Option(5, help="Keep words seen at least this many times."),
        max_vocab: int = typer.Option(None, help="Keep at most this many words (gensim's "
                                      "max_final_vocab: it raises --min-count until the "
                                      "vocabulary fits, so it may keep fewer) [default: no "
                                      "limit].", show_default=False),
        negative: int = typer.Option(5, help="Negative samples per positive one."),
        sample: float = typer.Option(1e-3, help="Subsampling threshold for frequent words."),
        min_n: int = typer.Option(3, help="fastText: shortest character n-gram.",
                                  hidden=model != "fasttext"),
        max_n: int = typer.Option(6, help="fastText: longest character n-gram.",
                                  hidden=model != "fasttext"),
        bucket: int = typer.Option(2_000_000, help="fastText: n-gram hash buckets.",
                                   hidden=model != "fasttext"),
        seed: int = typer.Option(0, help="Seed (training is reproducible with --workers 1)."),
        workers: int = typer.Option(None, help="Training threads [default: number of cores].",
                                    show_default=False),
        fmt: str = typer.Option("auto", "--format", help="Corpus format: auto, text, lines, "
                                "paragraphs, html, sgml, xml, wiki."),
        glob: str = typer.Option(None, help="Only files matching this pattern [default: all].",
                                 show_default=False),
        encoding: str = typer.Option("utf-8", help="Text encoding."),
        sentences: bool = typer.Option(False, help="One document per sentence."),
        lowercase: bool = typer.Option(True, help="Lower-case the text."),
        numbers: str = typer.Option("keep", help="Numbers: keep, drop or replace (by <num>)."),
        punctuation: str = typer.Option("drop", help="Punctuation: drop or keep."),
        min_length: int = typer.Option(1, help="Drop tokens shorter than this."),
        strip_accents: bool = typer.Option(False, help="Remove diacritics."),
        hyphens: str = typer.Option("split", help="Hyphenated words: split or keep."),
        apostrophes: str = apostrophes_option(),
        document_tag: str = document_tag_option(),
        force: bool = FORCE_OPT,
        home: str = home_option(),
        as_json: bool = json_option(),
    ) -> None:
        if model != "fasttext":
            _refuse_given(ctx, FASTTEXT_ONLY, f"fastText, not {model}")
        workspace.target_path(name, home, force)
        options = dict(sg=sg, window=window, dim=dim, epochs=epochs, min_count=min_count,
                       max_vocab=max_vocab, negative=negative, sample=sample, seed=seed,
                       workers=workers)
        if model == "fasttext":
            options.update(min_n=min_n, max_n=max_n, bucket=bucket)
        vectors = _build().train_gensim(
            model, _corpus(corpus, _corpus_options(fmt, glob, encoding, sentences, document_tag)),
            tokenizer=_tokenizer(lowercase, numbers, punctuation, min_length, strip_accents,
                                 hyphens, apostrophes), **options)
        _save(vectors, name, home, force, as_json)

    title = "word2vec vectors" if model == "word2vec" else "fastText vectors (with subwords)"
    command.__doc__ = (f"Train {title} with gensim.\n\n"
                       f"Example: embedkit build {model} corpus.txt --name {model}-demo "
                       "--dim 100 --epochs 5")
    return command


app.command("word2vec")(_gensim_command("word2vec"))
app.command("fasttext")(_gensim_command("fasttext"))


def demo(
    force: bool = typer.Option(True, "--force/--no-force",
                               help="Replace an existing 'demo' set."),
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Build PPMI-SVD vectors from the text inside gensim, store them as 'demo', show neighbours.

    Example: embedkit demo
    """
    result = _build().demo(home=home, force=force)
    if as_json:
        emit_json(result)
        return
    rows = [[word, ", ".join(w for w, _ in neighbours)]
            for word, neighbours in result["neighbours"].items()]
    emit_table(rows, ["word", "nearest neighbours (cosine)"])
    report(f"stored {result['words']} words x {result['dim']} dims as set 'demo' in "
           f"{result['seconds']:.0f} s ({result['path']})")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="build")
    root.command("demo")(demo)
