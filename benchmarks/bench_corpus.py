"""Corpus reading + tokenising throughput: embedkit serial vs 2 workers vs a gensim baseline.

Full run: the IMDB reviews in ../shared/data (two tar.gz, 100k reviews, about 23.6M
tokens). Each variant runs in a fresh process (honest peak memory), side by side:

* ``read only``: ``Corpus.documents()`` (decompress, untar, decode, no tokenising);
* ``embedkit serial``: ``Corpus.token_documents()`` (workers=1);
* ``embedkit 2 workers``: ``Corpus.token_batches(workers=2)``;
* ``gensim simple_preprocess``: ``tarfile`` + ``gensim.utils.simple_preprocess`` on each
  member, the usual hand-rolled gensim pipeline (serial, no ``<br />`` clean-up).

``quick=True`` uses gensim's small ``lee_background.cor`` and finishes in seconds.
Run: ``python -m benchmarks.bench_corpus`` (``--quick`` for the smoke test).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

if not __package__:  # run as a file (python benchmarks/bench_x.py): import from the repo
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    PEAK_RSS_SNIPPET,
    SHARED_DATA,
    help_and_exit,
    markdown_table,
    run_measured,
    timer,
    write_results,
)

_EMBEDKIT = """
import json, sys, time
from embedkit.corpus import Corpus, CorpusConfig
from embedkit.tokens import TokenizerConfig
paths, fmt, mode = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
corpus = Corpus(paths, CorpusConfig(format=fmt))
start = time.perf_counter(); cpu = time.process_time()
docs = tokens = 0
if mode == "read":
    for text in corpus.documents():
        docs += 1
elif mode == "serial":
    for doc in corpus.token_documents(TokenizerConfig()):
        docs += 1; tokens += len(doc)
else:
    for batch in corpus.token_batches(TokenizerConfig(), workers=int(mode)):
        docs += len(batch); tokens += sum(map(len, batch))
wall = time.perf_counter() - start
""" + PEAK_RSS_SNIPPET + """
import resource
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall, "main_cpu_s": time.process_time() - cpu, "documents": docs,
                  "tokens": tokens, "peak_rss_bytes": _peak,
                  "workers_cpu_s": kids.ru_utime + kids.ru_stime}))
"""

_GENSIM = """
import json, sys, tarfile, time
from gensim.utils import simple_preprocess
paths = json.loads(sys.argv[1])
start = time.perf_counter(); cpu = time.process_time()
docs = tokens = 0
for path in paths:
    if path.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path, "r|gz") as archive:
            for member in archive:
                name = member.name.rsplit("/", 1)[-1]
                if not member.isfile() or not name.endswith(".txt") or name.startswith("urls_") \
                        or name == "imdbEr.txt":
                    continue
                text = archive.extractfile(member).read().decode("utf-8", "replace")
                docs += 1; tokens += len(simple_preprocess(text, max_len=100))
    else:
        with open(path, encoding="utf-8") as f:
            for line in f:
                docs += 1; tokens += len(simple_preprocess(line, max_len=100))
wall = time.perf_counter() - start
""" + PEAK_RSS_SNIPPET + """
print(json.dumps({"wall_s": wall, "main_cpu_s": time.process_time() - cpu, "documents": docs,
                  "tokens": tokens, "peak_rss_bytes": _peak, "workers_cpu_s": 0.0}))
"""


def _spin(n: int) -> str:
    total = 0
    for i in range(n):
        total += i
    return str(total)


def control_speedup(quick: bool) -> float:
    """Wall speed-up of a pure-CPU job with 2 processes over 1: near 2 on two idle cores,
    near 1 when other work already fills them (then no pool can show a speed-up)."""
    from embedkit.pieces import ordered_map

    job, items = _spin, [200_000 if quick else 2_000_000] * 16
    with timer() as serial:
        [job(n) for n in items]
    with timer() as parallel:
        list(ordered_map(job, iter(items), 2))
    return serial() / parallel()


def _inputs(quick: bool) -> tuple[list[str], str, str]:
    if quick:
        import gensim

        lee = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
        return [str(lee)], "lines", "gensim lee_background.cor (300 lines)"
    imdb = SHARED_DATA / "imdb_aclImdb"
    paths = [str(imdb / "aclImdb_v1_labelled.tar.gz"), str(imdb / "aclImdb_v1_unsup.tar.gz")]
    return paths, "auto", "IMDB aclImdb, 2 tar.gz, 100k reviews"


def run(quick: bool = False) -> dict[str, Any]:
    """Measure every variant once in a fresh process; return and write the results."""
    paths, fmt, label = _inputs(quick)
    arg = json.dumps(paths)
    variants = [("read only (documents)", _EMBEDKIT, [arg, fmt, "read"]),
                ("embedkit serial", _EMBEDKIT, [arg, fmt, "serial"]),
                ("embedkit 2 workers", _EMBEDKIT, [arg, fmt, "2"]),
                ("gensim simple_preprocess (serial)", _GENSIM, [arg])]
    rows, results = [], {}
    load_before = os.getloadavg()[0]
    control = control_speedup(quick)
    for name, code, args in variants:
        out = run_measured(code, *args)
        out["tokens_per_s"] = out["tokens"] / out["wall_s"] if out["tokens"] else None
        results[name] = out
        print(f"{name}: {out['wall_s']:.2f} s, {out['tokens']:,} tokens", file=sys.stderr)
    serial = results["embedkit serial"]["wall_s"]
    peer = results["gensim simple_preprocess (serial)"]["wall_s"]
    for name, out in results.items():
        cpu = out["main_cpu_s"] + out["workers_cpu_s"]
        out["tokens_per_cpu_s"] = out["tokens"] / cpu if out["tokens"] else None
        rows.append([name, out["wall_s"], out["main_cpu_s"], out["workers_cpu_s"],
                     out["documents"], out["tokens"], out["tokens_per_s"] or "",
                     out["tokens_per_cpu_s"] or "", serial / out["wall_s"],
                     peer / out["wall_s"], out["peak_rss_bytes"] / 2**20])
    header = ["variant", "wall s", "main CPU s", "workers CPU s", "documents", "tokens",
              "tokens/s (wall)", "tokens per CPU s", "wall speed-up vs serial",
              "wall speed-up vs gensim", "peak RSS MiB"]
    table = markdown_table(rows, header)
    table += f"\nInput: {label}. Load average before the run: {load_before:.1f} " \
             f"(after: {os.getloadavg()[0]:.1f}) on {os.cpu_count()} cores shared with " \
             "other work: with a load above the core count, wall times are inflated and " \
             "the CPU-second columns are the steadier measure. Control: a pure-CPU job " \
             f"ran {control:.2f}x faster with 2 processes than with 1 during this run.\n"
    data = {"input": label, "paths": paths, "quick": quick, "results": results,
            "load_average_before": load_before, "control_two_process_speedup": control}
    write_results("bench_corpus_quick" if quick else "bench_corpus", data, table)
    print(table)
    return data


if __name__ == "__main__":
    help_and_exit(__doc__)
    run(quick="--quick" in sys.argv)
