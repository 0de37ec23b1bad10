"""`embedkit index`, `neighbors`, `analogy`, `similarity`, `evaluate` and `plot`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from embedkit import workspace
from embedkit.cli.common import emit_json, emit_table, emit_tsv, home_option, json_option, not_empty
from embedkit.errors import InputFormatError, UsageError
from embedkit.store import load
from embedkit.textfile import read_utf8

DEFAULT_K = 10

TYPE_HELP = ("Index type: flat (exact), hnsw, ivf, ivfpq, sq8, or factory (with --factory); "
             "a FAISS factory string such as 'IVF256,Flat' also works.")


def _tsv_option():
    return typer.Option(False, "--tsv",
        help="Print tab-separated rows (with a header) instead of a table."
    )


def _open(name: str, home: str | None):
    path = workspace.store_path(name, home)
    return load(path), path.parent


def _load_index(index_name: str | None, vectors, folder: Path):
    if index_name is None:
        return None
    from embedkit.index import Index

    return Index.load(folder, index_name, vectors=vectors)


def index(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    kind: str = typer.Option("flat", "--type", "-t", help=TYPE_HELP),
    M: int = typer.Option(None, "--M", help="HNSW: graph links per node [default: 32]."),
    ef_construction: int = typer.Option(None, "--ef-construction",
        help="HNSW: build beam width [default: 200]."
    ),
    ef_search: int = typer.Option(None, "--ef-search",
        help="HNSW: default query beam width, stored with the index [default: 128]."
    ),
    nlist: int = typer.Option(None, "--nlist",
        help="IVF: number of lists [default: about 4*sqrt(n), >= 39 points per list]."
    ),
    nprobe: int = typer.Option(None, "--nprobe",
        help="IVF: default lists visited per query [default: max(16, nlist/8)]."
    ),
    pq_m: int = typer.Option(None, "--pq-m",
        help=("IVF-PQ: sub-quantisers, must divide the dimension [default: the divisor nearest "
              "dim/4].")
    ),
    nbits: int = typer.Option(None, "--nbits",
        help="IVF-PQ: bits per code [default: 8, fewer on small sets]."
    ),
    factory: str = typer.Option(None, "--factory",
        help="FAISS index-factory string for --type factory, e.g. 'IVF256,PQ16x4' "
             "[default: none; --type factory needs it]."
    ),
    k_factor: int = typer.Option(None, "--k-factor",
        help=("Refine indexes (a factory string ending in RFlat, e.g. 'IVF256,PQ32x4fs,RFlat'): "
              "default number of candidates, times k, re-ranked with the exact vectors "
              "[default: 4].")
    ),
    index_name: str = typer.Option(None, "--index-name",
        help="File name of the index in the set's folder [default: the type, e.g. hnsw]."
    ),
    force: bool = typer.Option(False, "--force",
        help="Replace an index of the same name (the old one stays until the new one is written)."
    ),
    target_recall: float = typer.Option(None, "--target-recall",
        help=("HNSW/IVF: measure recall@10 of up to 1000 held-out words (on a twin index built "
              "without them) and store the smallest efSearch/nprobe reaching this recall as "
              "the default (a refine index's k_factor is doubled first until it can) "
              "[default: off].")
    ),
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Build a FAISS cosine index over a set and save it beside the store.

    Example: embedkit index dickens --type hnsw --M 32 --ef-construction 200
    """
    from embedkit.index import Index, check_target, default_name, factory_string
    from embedkit.index_files import plain_index_name

    if kind.lower() == "factory" and not factory:
        raise UsageError("--type factory needs --factory STRING, e.g. --factory 'IVF256,Flat'")
    spec = f"factory:{factory}" if factory else kind
    vectors, folder = _open(name, home)
    fstring = factory_string(spec, len(vectors), vectors.dim, M=M, nlist=nlist, pq_m=pq_m,
                             nbits=nbits)
    target = default_name(fstring, spec) if index_name is None else plain_index_name(index_name)
    check_target(folder, target, overwrite=force)
    if target_recall is not None and not 0 < target_recall <= 1:
        raise UsageError(f"--target-recall must be in (0, 1], got {target_recall}")
    if target_recall is not None:
        from embedkit.tune import check_tunable

        check_tunable(fstring, target)  # before a build that would be thrown away
    built = Index.build(vectors, spec, M=M, ef_construction=ef_construction, ef_search=ef_search,
                        nlist=nlist, nprobe=nprobe, pq_m=pq_m, nbits=nbits, k_factor=k_factor,
                        name=target)
    if target_recall is not None:
        from embedkit.tune import tune_search_params

        tune_search_params(built, vectors, target_recall)  # sets the stored query default
    path = built.save(folder, target, overwrite=force)
    manifest = dict(built.manifest, path=str(path))
    manifest.pop("zero_rows", None)
    if as_json:
        emit_json(manifest)
        return
    emit_table([[k, manifest[k]] for k in ("name", "factory", "size", "dim", "build_seconds",
                                             "bytes", "path")] +
               [[k, v] for k, v in manifest["query_params"].items()] +
               ([["measured_recall", manifest["operating_point"]["recall"]]]
                if "operating_point" in manifest else []))


def _one_format(as_json: bool, as_tsv: bool) -> None:
    if as_json and as_tsv:
        raise UsageError("--json and --tsv both given: choose one output format")


def _read_words(words: list[str] | None, file: str | None) -> list[str]:
    """Query words from the arguments and --file; a lone '-' (either place) reads stdin."""
    out = [w for w in words or [] if w != "-"]
    sources = ([file] if file else []) + (["-"] if "-" in (words or []) else [])
    for source in dict.fromkeys(sources):
        text = sys.stdin.read().lstrip("\ufeff") if source == "-" else read_utf8(source)
        out += text.split()
    return out


def _default_k(k: int | None, vectors: Any) -> int:
    """``-k`` as given (checked by the query), else 10 or, for a smaller set, every other
    word (a set of one word has none: the query says so)."""
    return k if k is not None else max(1, min(DEFAULT_K, len(vectors) - 1))


def neighbors(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    words: list[str] = typer.Argument(None, help="Query words; '-' reads them from stdin."),
    k: int = typer.Option(None, "-k", "--k", show_default=False,
        help="Neighbours per word [default: 10, or every other word of a smaller set]."),
    index_name: str = typer.Option(None, "--index",
        help="Use this saved index (e.g. hnsw) [default: exact search]."
    ),
    ef: int = typer.Option(None, "--ef",
        help="HNSW query beam width [default: the index's stored efSearch]."
    ),
    nprobe: int = typer.Option(None, "--nprobe",
        help="IVF lists visited [default: the index's stored nprobe]."
    ),
    k_factor: int = typer.Option(None, "--k-factor",
        help="Refine (RFlat) indexes: candidates re-ranked exactly, times k [default: the "
             "index's stored k_factor]."
    ),
    restrict: int = typer.Option(None, "--restrict",
        help="Search only the N most frequent words [default: all]."
    ),
    file: str = typer.Option(None, "--file", "-f",
        help="Read query words from this file ('-' for stdin), whitespace-separated "
             "[default: none].", callback=not_empty,
    ),
    home: str = home_option(),
    as_json: bool = json_option(),
    as_tsv: bool = _tsv_option(),
) -> None:
    """Nearest words by cosine similarity (the query word itself is left out).

    Unknown words are listed on stderr (with close spellings) and make the exit code 1;
    the known words' results are still printed.

    Example: embedkit neighbors dickens london monday -k 5 --index hnsw
    """
    from embedkit.query import neighbors as find

    _one_format(as_json, as_tsv)
    queries = _read_words(words, file)
    if not queries:
        raise UsageError("no query words given (pass WORD... or --file FILE)")
    if (ef is not None or nprobe is not None or k_factor is not None) and index_name is None:
        raise UsageError("--ef, --nprobe and --k-factor tune a saved index: add --index NAME "
                         "(without it the search is exact)")
    vectors, folder = _open(name, home)
    idx = _load_index(index_name, vectors, folder)
    found = find(vectors, queries, _default_k(k, vectors), index=idx, ef=ef, nprobe=nprobe,
                 restrict=restrict, skip_unknown=True, k_factor=k_factor)
    rows = [[q, rank, w, s] for q, hits in found.items() for rank, (w, s) in enumerate(hits, 1)]
    if as_json:
        emit_json({q: [{"word": w, "score": s} for w, s in hits] for q, hits in found.items()})
    elif as_tsv:
        emit_tsv(rows, ["query", "rank", "neighbor", "score"])
    elif rows:  # no header alone above the errors when no word has neighbours
        emit_table(rows, ["query", "rank", "neighbor", "score"])
    missing = [q for q in dict.fromkeys(queries) if q not in found]
    for word in missing:
        suggestions = vectors.suggest(word)
        hint = f"; close spellings: {', '.join(suggestions)}" if suggestions else ""
        sys.stderr.write(f"Error: unknown word {word!r}{hint}\n")
    empty = [q for q, hits in found.items() if not hits and not vectors.vector(q).any()]
    for word in empty:
        sys.stderr.write(f"Error: word {word!r} has no neighbours: its vector is all zeros\n")
    if missing or empty:
        raise typer.Exit(1)


def analogy(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    a: str = typer.Argument(..., help="A in 'A is to B as C is to ?'."),
    b: str = typer.Argument(..., help="B."),
    c: str = typer.Argument(..., help="C."),
    k: int = typer.Option(None, "-k", "--k", show_default=False,
        help="Number of answers [default: 10, or every other word of a smaller set]."),
    method: str = typer.Option("3cosadd", "--method",
        help="3cosadd (vector offset) or 3cosmul (Levy & Goldberg 2014)."
    ),
    restrict: int = typer.Option(None, "--restrict",
        help="Answer only among the N most frequent words [default: all]."
    ),
    home: str = home_option(),
    as_json: bool = json_option(),
    as_tsv: bool = _tsv_option(),
) -> None:
    """Solve 'A is to B as C is to ?' (the inputs are never answers).

    Example: embedkit analogy dickens man king woman --method 3cosmul
    """
    from embedkit.query import analogy as solve

    _one_format(as_json, as_tsv)
    vectors, _ = _open(name, home)
    answers = solve(vectors, a, b, c, _default_k(k, vectors), method, restrict)
    if as_json:
        emit_json([{"word": w, "score": s} for w, s in answers])
        return
    rows = [[rank, w, s] for rank, (w, s) in enumerate(answers, 1)]
    (emit_tsv if as_tsv else emit_table)(rows, ["rank", "answer", "score"])


def similarity(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    word_a: str = typer.Argument(..., help="First word."),
    word_b: str = typer.Argument(..., help="Second word."),
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Cosine similarity and cosine distance (1 - cos) of two words.

    Example: embedkit similarity dickens london paris --json
    """
    from embedkit.query import similarity as measure

    vectors, _ = _open(name, home)
    result = {"word1": word_a, "word2": word_b, **measure(vectors, word_a, word_b)}
    if as_json:
        emit_json(result)
        return
    emit_table([[word_a, word_b, result["similarity"], result["distance"]]],
               ["word1", "word2", "similarity", "distance"])


def evaluate(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    pairs: list[str] = typer.Option(None, "--pairs",
        help="Word-similarity file (w1 w2 score); repeatable [default: WordSim-353 and "
             "SimLex-999, with the Google analogies, when neither option is given].",
        callback=not_empty,
    ),
    analogies: list[str] = typer.Option(None, "--analogies",
        help="Analogy file (': section' + 'a b c d' lines, or MSR); repeatable.",
        callback=not_empty,
    ),
    restrict: int = typer.Option(30000, "--restrict",
        help=("Analogies: only the N most frequent words count as known and as answers (word pairs "
              "use gensim's 300,000).")
    ),
    method: str = typer.Option("3cosadd", "--method", help="Analogy method: 3cosadd or 3cosmul."),
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Word-similarity correlation and analogy accuracy, the same numbers as gensim.

    With no files: WordSim-353, SimLex-999 and the Google analogies shipped with gensim.

    Example: embedkit evaluate dickens --pairs EN-MEN-TR-3k.txt --analogies questions-words.txt
    """
    from embedkit.evaluate import evaluate_analogies, evaluate_pairs, gensim_benchmarks

    if not pairs and not analogies:
        pairs, analogies = gensim_benchmarks()
    vectors, _ = _open(name, home)
    failed: list[str] = []
    pair_results = _each(lambda p: evaluate_pairs(vectors, p), pairs or [], failed)
    analogy_results = _each(lambda p: evaluate_analogies(vectors, p, restrict, method),
                            analogies or [], failed)
    if not pair_results and not analogy_results:
        more = f" (and {len(failed) - 1} more files that could not be scored)" * (len(failed) > 1)
        raise InputFormatError(failed[0] + more)
    _print_evaluation(pair_results, analogy_results, as_json)
    for message in failed:  # the others still print; the exit code says something was left out
        sys.stderr.write(f"Error: {message}\n")
    if failed:
        raise typer.Exit(1)


def _each(score, paths: list, failed: list[str]) -> list[dict]:
    """``score(path)`` of every file; a file that cannot be scored (no words of the set in
    it, malformed) is noted in ``failed`` and left out, so the others still print."""
    results = []
    for path in paths:
        try:
            results.append(score(path))
        except InputFormatError as err:
            failed.append(str(err))
    return results


def _print_evaluation(pair_results: list[dict], analogy_results: list[dict],
                      as_json: bool) -> None:
    if as_json:
        emit_json({"pairs": pair_results, "analogies": analogy_results})
        return
    if pair_results:
        emit_table([[r["name"], r["spearman"], r["pearson"], r["found"], r["pairs"],
                     f"{100 * r['coverage']:.1f}%"] for r in pair_results],
                   ["pairs file", "spearman", "pearson", "found", "pairs", "coverage"])
    for r in analogy_results:
        typer.echo("")
        rows = [[s["section"], s["accuracy"], s["correct"], s["correct"] + s["incorrect"],
                 s["questions"], f"{100 * s['coverage']:.1f}%"]
                for s in r["sections"] + [r["total"]]]
        emit_table(rows, [f"{r['name']} ({r['method']})", "accuracy", "correct", "answered",
                          "questions", "coverage"])


def plot(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    words: list[str] = typer.Argument(..., help="Words to map."),
    out: str = typer.Option("map.png", "--out", "--output", "-o",
                            help="Image file (.png, .svg or .pdf).",
                            callback=not_empty),
    n_neighbors: int = typer.Option(5, "--neighbors", "--neighbours",
        help="Nearest neighbours drawn around each word."
    ),
    method: str = typer.Option("pca", "--method",
        help="Projection: pca or tsne (needs scikit-learn)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed for t-SNE."),
    home: str = home_option(),
) -> None:
    """Draw a labelled 2-D map (PCA or t-SNE) of words and their nearest neighbours.

    Example: embedkit plot dickens london monday pickwick -o map.png --neighbors 5
    """
    from embedkit.plot import plot_words

    vectors, _ = _open(name, home)
    path = plot_words(vectors, words, n_neighbors, method, out, seed=seed)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command("index")(index)
    app.command("neighbors")(neighbors)
    app.command("neighbours", help="Alias of `neighbors`.")(neighbors)
    app.command("analogy")(analogy)
    app.command("similarity")(similarity)
    app.command("evaluate")(evaluate)
    app.command("plot")(plot)
