"""`embedkit bench index` (recall and speed of every index type and peer) and `bench all`."""

from __future__ import annotations

import re

import typer

from embedkit.cli.common import emit_json, emit_table, home_option, json_option, not_empty, report
from embedkit.errors import UsageError
from embedkit.index_params import TYPES

bench_app = typer.Typer(
    help="Benchmarks: index recall and speed against hnswlib, annoy and gensim; every "
         "benchmark script at once.",
    no_args_is_help=True,
)


def _csv(text: str, what: str, sep: str = ",") -> list[str]:
    items = [t.strip() for t in text.split(sep) if t.strip()]
    if not items:
        raise UsageError(f"--{what} needs at least one value, e.g. --{what} {_EXAMPLES[what]}")
    return items


_EXAMPLES = {"types": "flat,hnsw", "peers": "hnswlib,numpy", "sizes": "10000,100000,all"}
# FAISS factory components that cannot stand alone: a prefix (pre-transform, coarse
# quantiser) takes the next component, a refine suffix the previous one
_PREFIX = re.compile(r"^(IVF|IMI|OPQ|PCA|RR|ITQ|L2norm|Pad|HNSW|NSG)")
_SUFFIX = re.compile(r"^(RFlat|Refine\()")


def _types(text: str) -> list[str]:
    """Index types from --types: comma-separated, with the commas inside FAISS factory
    strings kept ('flat,IVF64,PQ8x4fs,RFlat,hnsw' = flat | IVF64,PQ8x4fs,RFlat | hnsw;
    'HNSW32,SQ8' is one graph over SQ8 codes); ';' separates types explicitly."""
    if ";" in text:
        return _csv(text, "types", sep=";")
    groups: list[list[str]] = []
    for item in _csv(text, "types"):
        friendly = item in TYPES or item.lower().startswith("factory:")
        last = groups[-1][-1].split(":", 1)[-1] if groups else ""
        if groups and not friendly and (_PREFIX.match(last) or _SUFFIX.match(item)):
            groups[-1].append(item)
        else:
            groups.append([item])
    return [",".join(group) for group in groups]


def _sizes(text: str) -> list[int | None]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    out: list[int | None] = []
    for item in _csv(text, "sizes"):
        if item.lower() == "all":
            out.append(None)
        elif item.isdigit() and int(item) > 0:
            out.append(int(item))
        else:
            raise UsageError(f"--sizes: {item!r} is not a positive number or 'all' "
                             "(e.g. --sizes 10000,100000,all; --sizes none skips scaling)")
    return out


@bench_app.command("index")
def index(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    out: str = typer.Option(..., "--out", "--output", "-o",
                            help="Folder for results.json, results.md, recall_qps.png and "
                                 "scaling.png.", callback=not_empty),
    queries: int = typer.Option(1000, "--queries", help="Held-out query words (removed from "
                                "the indexed set; their vectors are the queries)."),
    k: int = typer.Option(10, "--k", "-k", help="Neighbours per query (recall@1 and recall@k)."),
    types: str = typer.Option("flat,hnsw,ivf,ivfpq,sq8", "--types",
                              help="FAISS index types or factory strings, comma-separated "
                              "('flat,IVF64,PQ8x4fs,RFlat' is two; ';' also separates)."),
    peers: str = typer.Option("hnswlib,annoy,gensim,numpy", "--peers",
                              help="Peer libraries, comma-separated; any not installed is "
                                   "skipped with a note."),
    sizes: str = typer.Option("10000,100000,all", "--sizes",
                              help="Set sizes for the scaling plot ('all' = every word; "
                                   "'none' skips it)."),
    threads: int = typer.Option(None, "--threads",
                                help="Cores for builds and batched search [default: all]."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out query sample."),
    quick: bool = typer.Option(False, "--quick",
                               help="Fewer configurations and parameter values (seconds)."),
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Recall@1/@k, QPS (one thread and batched), build time and size of every index type
    and peer, ann-benchmarks style, on one set. The table goes to stdout, progress to stderr.

    Example: embedkit bench index dickens --types flat,hnsw,ivf --peers hnswlib,annoy -o out
    """
    from embedkit import workspace
    from embedkit.bench import THRESHOLDS, bench_index

    if queries <= 0 or k <= 0:
        raise UsageError("--queries and --k must be positive")
    if threads is not None and threads <= 0:
        raise UsageError(f"--threads must be positive, got {threads}")
    vectors = workspace.open_set(name, home)
    results = bench_index(vectors, queries=queries, k=k, types=_types(types),
                          peers=_csv(peers, "peers"), out_dir=out, threads=threads,
                          sizes=_sizes(sizes), seed=seed, quick=quick, dataset=name)
    if as_json:
        emit_json({key: results[key] for key in ("dataset", "summary", "targets", "skipped")})
        return
    header = ["method"] + [f"qps@R{k}>={t:.2f}" for t in THRESHOLDS] + [
        "batch_qps", "max_recall", "build_s", "disk_bytes", "configuration"]
    emit_table([[row["method"]] + [_rounded(row[f"qps@{t:.2f}"]) for t in THRESHOLDS] +
                [_rounded(row["batch_qps"]), row["max_recall"], _rounded(row["build_seconds"], 3),
                 row["disk_bytes"], row["config"]] for row in results["summary"]], header)


def _rounded(value: float | None, digits: int = 0) -> float | int | None:
    """QPS as whole queries, seconds to the millisecond (the JSON keeps every digit)."""
    if value is None:
        return None
    return round(value) if digits == 0 else round(value, digits)


@bench_app.command("all")
def run_all(
    quick: bool = typer.Option(False, "--quick", help="Tiny data, seconds per benchmark."),
    out: str = typer.Option(None, "--out", "--output", "-o",
                            help="Also copy the results into this folder [default: they are "
                                 "only in benchmarks/results].", callback=not_empty),
    as_json: bool = json_option(),
) -> None:
    """Run every benchmark script in benchmarks/ (import, corpus, build, search, classify,
    index, distributed: those that exist, each in its own process) and write
    benchmarks/results/bench_<name>.json + .md (bench_<name>_quick.* with --quick). Exit
    code 1 if one failed.

    Without --quick this takes hours, replaces the checkout's result files, and builds (or
    rebuilds) the sets the benchmarks use in the checkout's indexes/ folder (not --home);
    an interrupted run lists the files it had replaced.

    Example: embedkit bench all --quick
    """
    from embedkit.bench_suite import benchmarks_dir, run_suite

    done = run_suite(quick=quick, out_dir=out)
    report(f"results written to {benchmarks_dir() / 'results'}" + (f", copied to {out}"
                                                                    if out else ""))
    if as_json:
        emit_json(done)
    else:
        emit_table([[r["name"], r["status"], r.get("seconds"), r.get("note", "")] for r in done],
                   ["benchmark", "status", "seconds", "note"])
    if any(r["status"] == "failed" for r in done):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
