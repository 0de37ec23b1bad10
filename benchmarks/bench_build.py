"""Build benchmark: PPMI-SVD vs gensim word2vec (skip-gram) on the IMDB reviews.

Side by side, in one run, with the same tokenisation and vocabulary (min_count 2):

- wall time of each whole build (read + tokenise + count + weight + SVD, vs gensim's
  tokenise + vocabulary + 5 epochs of training, 2 workers), and their ratio;
- WordSim-353, SimLex-999 (Spearman rho) and Google analogies (restricted to the 30,000
  most frequent words), with coverage, through gensim's own evaluators;
- co-occurrence counting throughput (tokens/s) at window 2 and 5, 1 and 2 workers;
- peak memory of the counting stage under a ``--memory`` budget (measured in a child);
- build time against corpus size (3 sizes), plotted to ``results/bench_build_scaling.png``;
- the eigenvalue weighting p and ARPACK vs randomized SVD (time and WS-353).

It also stores the 100,000-word, 300-d PPMI-SVD set as ``indexes/imdb-ppmi300`` for the
index benchmarks. ``run(quick=True)`` does the same on gensim's small Lee corpus in
seconds. Run: ``python -m benchmarks.bench_build [--quick]``, or one of the modes:

- ``--same-vocab [--quick]``: the quality comparison with one vocabulary for both (min_count
  10), plus harmonic window weighting (``results/bench_build_same_vocab``);
- ``--scaling``: only the build-time-vs-corpus-size curve (``results/bench_build_scaling``).

Any other option is an error.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

if not __package__:  # run as a file (python benchmarks/bench_x.py): import from the repo
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    RESULTS,
    SHARED_DATA,
    help_and_exit,
    markdown_table,
    run_measured,
    write_results,
)
from embedkit import atomic
from embedkit.build import (
    build_ppmi_svd,
    ppmi_svd_from_ids,
    read_tokens,
    train_word2vec,
)
from embedkit.cooccur import CountConfig, count_cooccurrences
from embedkit.pmi import PMIConfig
from embedkit.svd import SVDConfig, embed
from embedkit.tokens import TokenizerConfig

GENSIM_DATA = Path(__import__("gensim").__file__).parent / "test" / "test_data"
IMDB = [SHARED_DATA / "imdb_aclImdb" / "aclImdb_v1_labelled.tar.gz",
        SHARED_DATA / "imdb_aclImdb" / "aclImdb_v1_unsup.tar.gz"]
REPO = Path(__file__).resolve().parents[1]


def evaluate(words: list[str], matrix: np.ndarray) -> dict[str, Any]:
    """WS-353, SimLex-999 and Google analogies through gensim's evaluators, with coverage."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(words, matrix.astype(np.float32))
    out: dict[str, Any] = {}
    for name, file, lines in (("ws353", "wordsim353.tsv", 353),
                              ("simlex999", "simlex999.txt", 999)):
        _, spearman, oov = kv.evaluate_word_pairs(str(GENSIM_DATA / file))
        out[name] = round(float(spearman[0]), 4)
        out[f"{name}_pairs"] = f"{round(lines * (1 - oov / 100))}/{lines}"
    score, sections = kv.evaluate_word_analogies(str(GENSIM_DATA / "questions-words.txt"),
                                                 restrict_vocab=30000)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    found = len(total["correct"]) + len(total["incorrect"])
    out["analogy"] = round(float(score), 4)
    out["analogy_questions"] = f"{found}/19544"
    return out


def _corpus(quick: bool) -> Any:
    from embedkit.corpus import Corpus, CorpusConfig

    if quick:  # one document per line
        return Corpus([GENSIM_DATA / "lee_background.cor"], CorpusConfig(format="lines"))
    return Corpus(IMDB)


def compare_builds(corpus: Any, quick: bool) -> tuple[list[dict], Any]:
    """Whole PPMI-SVD build vs whole gensim skip-gram training on the same corpus.

    gensim keeps the words seen twice or more (min_count 2). PPMI-SVD keeps the 100,000 most
    frequent words (min_count 1, max_vocab 100,000: the 93,750 words seen twice plus 6,250
    seen once), so that the stored set reaches 100,000 words for the index benchmarks;
    both are evaluated on gensim's vocabulary, so they answer the same questions.
    """
    dim = 50 if quick else 300
    start = time.perf_counter()
    ppmi = build_ppmi_svd(corpus, min_count=1, max_vocab=100_000, dim=dim, workers=2,
                          memory="3G")
    ppmi_s = time.perf_counter() - start
    stored = store_set(ppmi, quick)
    start = time.perf_counter()
    window = ppmi.metadata["params"]["count"]["window"]  # the same window for both
    sgns = train_word2vec(corpus, sg=True, window=window, dim=dim, epochs=1 if quick else 5,
                          min_count=2, workers=2)
    sgns_s = time.perf_counter() - start
    shared = ppmi.subset(sgns.words)
    rows = []
    for name, vectors, seconds, size in (("ppmi-svd", shared, ppmi_s, len(ppmi)),
                                         ("gensim sgns", sgns, sgns_s, len(sgns))):
        rows.append({"method": name, "build_s": round(seconds, 1), "words": size,
                     "dim": vectors.dim, "timings": vectors.metadata.get("timings"),
                     **evaluate(vectors.words, vectors.matrix)})
    rows[0]["speedup_vs_gensim"] = round(sgns_s / ppmi_s, 2)
    return rows, stored


def counting_throughput(read, vocab, quick: bool) -> list[dict]:
    rows = []
    for window in (2, 5):
        for workers in (1, 2):
            config = CountConfig(window=window, workers=workers, memory=3 << 30)
            start = time.perf_counter()
            counts = count_cooccurrences(read.id_docs(vocab), len(vocab), config)
            seconds = time.perf_counter() - start
            rows.append({"window": window, "workers": workers, "seconds": round(seconds, 2),
                         "tokens_per_s": round(read.tokens / seconds), "nnz": int(counts.nnz)})
    return rows


_CHILD = """
import json, sys, resource, numpy as np
from embedkit.cooccur import CountConfig, count_cooccurrences
ids = np.load(sys.argv[1]); bounds = np.load(sys.argv[2]); size = int(sys.argv[3])
docs = [ids[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
def status(key):
    line = next(x for x in open('/proc/self/status') if x.startswith(key))
    return int(line.split()[1]) * 1024
open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to the current RSS
base = status('VmRSS')
config = CountConfig(window=int(sys.argv[4]), memory=int(sys.argv[5]), workers=2)
stats = {}
counts = count_cooccurrences(iter(docs), size, config, stats=stats)
print(json.dumps({"base": base, "peak": status('VmHWM'), "nnz": int(counts.nnz),
                  "result_bytes": int(counts.data.nbytes + counts.indices.nbytes
                                      + counts.indptr.nbytes), **stats}))
"""


def memory_budget(read, vocab, budgets: list[int]) -> list[dict]:
    """Peak RSS growth of the counting stage in a fresh process, per budget."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        docs = list(read.id_docs(vocab))
        ids, bounds = Path(tmp) / "ids.npy", Path(tmp) / "bounds.npy"
        np.save(ids, np.concatenate(docs))
        np.save(bounds, np.concatenate([[0], np.cumsum([d.size for d in docs])]))
        for budget in budgets:
            out = run_measured(_CHILD, str(ids), str(bounds), str(len(vocab)), "5", str(budget))
            used = out["peak"] - out["base"]
            rows.append({"window": 5, "budget_MiB": budget >> 20, "used_MiB": used >> 20,
                         "used/budget": round(used / budget, 2),
                         "result_MiB": out["result_bytes"] >> 20, "flushes": out["flushes"],
                         "within_20pct": used <= 1.2 * budget})
    return rows


def scaling(read, quick: bool) -> list[dict]:
    """Count + weight + SVD time for 25%, 50% and 100% of the documents."""
    from embedkit.build import TokenizedCorpus

    rows = []
    for fraction in (0.25, 0.5, 1.0):
        n = max(1, int(len(read.docs) * fraction))
        docs = read.docs[:n]
        counts = np.bincount(np.concatenate(docs), minlength=len(read.words))
        part = TokenizedCorpus(read.words, counts, docs, [], {})
        vocab = part.vocabulary(2, None)
        start = time.perf_counter()
        _, extra = ppmi_svd_from_ids(part.id_docs(vocab), vocab, CountConfig(memory=3 << 30),
                                     PMIConfig(), SVDConfig(dim=50 if quick else 300))
        rows.append({"fraction": fraction, "tokens": int(counts.sum()), "vocabulary": len(vocab),
                     "seconds": round(time.perf_counter() - start, 2),
                     **{k: round(v, 2) for k, v in extra["timings"].items()}})
    return rows


def svd_variants(read, quick: bool) -> list[dict]:
    """ARPACK vs randomized (time, WS-353), and the eigenvalue weighting p, on one matrix
    (the first quarter of the corpus: ARPACK on the whole one would take too long)."""
    from embedkit.build import TokenizedCorpus
    from embedkit.pmi import weight
    from embedkit.svd import truncated_svd, zero_rows

    dim = 50 if quick else 300
    docs = read.docs[: max(1, len(read.docs) // 4)]
    part = TokenizedCorpus(read.words, np.bincount(np.concatenate(docs),
                                                   minlength=len(read.words)), docs, [], {})
    vocab = part.vocabulary(2, None)
    counts = count_cooccurrences(part.id_docs(vocab), len(vocab), CountConfig(memory=3 << 30))
    weighted = weight(counts)
    zero = zero_rows(weighted)
    rows = []
    for algorithm in ("randomized", "arpack"):
        start = time.perf_counter()
        u, s, _ = truncated_svd(weighted, dim, algorithm)
        seconds = time.perf_counter() - start
        for eig in ((0.0, 0.5, 1.0) if algorithm == "randomized" else (0.5,)):
            scores = evaluate(vocab.words, embed(u, s, eig, zero))
            rows.append({"algorithm": algorithm, "eig": eig, "svd_s": round(seconds, 1),
                         **{k: scores[k] for k in ("ws353", "simlex999", "analogy")}})
    return rows


def plot_scaling(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tokens = [r["tokens"] / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key, label in (("seconds", "count + weight + SVD"), ("count_s", "count"),
                       ("svd_s", "SVD (300 d)")):
        ax.plot(tokens, [r[key] for r in rows], marker="o", label=label)
    ax.set_xlabel("corpus size (million tokens)")
    ax.set_ylabel("seconds")
    ax.set_title("PPMI-SVD build time vs corpus size (IMDB)")
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic.write_bytes(path, buffer.getvalue())  # a Ctrl-C never leaves half a PNG


def store_set(vectors: Any, quick: bool) -> dict[str, Any]:
    """Save the 100,000-word, 300-d set the index benchmarks use (indexes/imdb-ppmi300)."""
    from embedkit import store, workspace

    name = "imdb-ppmi300" if not quick else "quick-ppmi"
    home = REPO / "indexes" if not quick else Path(tempfile.mkdtemp())
    path = store.save(vectors, workspace.target_path(name, home, force=True))
    return {"name": name, "path": str(path), "words": len(vectors), "dim": vectors.dim}


def run(quick: bool = False) -> dict[str, Any]:
    paths = _corpus(quick)
    results: dict[str, Any] = {"corpus": paths.paths, "quick": quick}
    results["builds"], results["stored_set"] = compare_builds(paths, quick)
    _log(results)
    read = read_tokens(paths, TokenizerConfig(), 2)
    vocab = read.vocabulary(2, None)
    results["tokens"], results["vocabulary"] = read.tokens, len(vocab)
    results["counting"] = counting_throughput(read, vocab, quick)
    budgets = [64 << 20, 256 << 20] if quick else [1 << 30, 2 << 30]
    results["memory"] = memory_budget(read, vocab, budgets)
    _log(results)
    results["scaling"] = scaling(read, quick)
    if not quick:
        plot_scaling(results["scaling"], RESULTS / "bench_build_scaling.png")
    results["svd"] = svd_variants(read, quick)
    _log(results)
    write_results("bench_build" + ("_quick" if quick else ""), results, tables(results),
                  out_dir=RESULTS)
    (RESULTS / "bench_build_partial.json").unlink(missing_ok=True)
    return results


def same_vocabulary(quick: bool = False, window: int = 5, min_count: int = 10) -> dict:
    """The quality target with one vocabulary for both: PPMI-SVD (default preset: window 5,
    p = 0) and gensim skip-gram (same window, 5 epochs, 2 workers), both with
    ``min_count`` 10, so both answer exactly the same benchmark questions. Also the
    harmonic (1/d) window weighting. Writes ``results/bench_build_same_vocab.{json,md}``."""
    corpus = _corpus(quick)
    dim = 50 if quick else 300
    rows = []
    for name, options in (("ppmi-svd", {}), ("ppmi-svd harmonic",
                                             {"window_weighting": "harmonic"})):
        start = time.perf_counter()
        vectors = build_ppmi_svd(corpus, min_count=min_count, window=window, dim=dim,
                                 workers=2, memory="3G", **options)
        rows.append({"method": name, "build_s": round(time.perf_counter() - start, 1),
                     "words": len(vectors), **evaluate(vectors.words, vectors.matrix)})
    start = time.perf_counter()
    sgns = train_word2vec(corpus, sg=True, window=window, dim=dim, epochs=1 if quick else 5,
                          min_count=min_count, workers=2)
    rows.append({"method": "gensim sgns", "build_s": round(time.perf_counter() - start, 1),
                 "words": len(sgns), **evaluate(sgns.words, sgns.matrix)})
    keys = list(rows[0])
    data = {"window": window, "min_count": min_count, "dim": dim, "rows": rows}
    write_results("bench_build_same_vocab" + ("_quick" if quick else ""), data,
                  markdown_table([[r[k] for k in keys] for r in rows], keys),
                  out_dir=RESULTS)
    return data


def tables(results: dict[str, Any]) -> str:
    keys = ["method", "build_s", "words", "ws353", "ws353_pairs", "simlex999",
            "simlex999_pairs", "analogy", "analogy_questions"]
    out = markdown_table([[r.get(k) for k in keys] for r in results["builds"]], keys)
    for section in ("counting", "memory", "scaling", "svd"):
        rows = results.get(section) or []
        if rows:
            keys = list(rows[0])
            table = markdown_table([[r[k] for k in keys] for r in rows], keys)
            out += f"\n## {section}\n\n{table}"
    return out


def _log(results: dict[str, Any]) -> None:
    (RESULTS / "bench_build_partial.json").parent.mkdir(parents=True, exist_ok=True)
    if not results.get("quick"):
        atomic.write_text(RESULTS / "bench_build_partial.json",
                          json.dumps(results, indent=1, default=str))
    done = [key for key in ("builds", "counting", "memory", "scaling", "svd") if key in results]
    print(f"bench_build: {', '.join(done)} done", file=sys.stderr, flush=True)


if __name__ == "__main__":
    help_and_exit(__doc__, {"--scaling": 0, "--same-vocab": 0})
    if "--scaling" in sys.argv:  # only the build-time-vs-size curve (a few minutes)
        read = read_tokens(_corpus(False), TokenizerConfig(), 2)
        rows = scaling(read, False)
        plot_scaling(rows, RESULTS / "bench_build_scaling.png")
        keys = list(rows[0])
        write_results("bench_build_scaling", {"scaling": rows},
                      markdown_table([[r[k] for k in keys] for r in rows], keys))
        print(json.dumps(rows, indent=2))
    elif "--same-vocab" in sys.argv:
        print(json.dumps(same_vocabulary(quick="--quick" in sys.argv), indent=2, default=str))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2, default=str))
