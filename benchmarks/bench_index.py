"""Index benchmark: recall and speed of every FAISS index type against hnswlib, annoy,
gensim ``most_similar`` and numpy brute force, on the largest real set available here.

Runs :func:`embedkit.bench.bench_index` (the ann-benchmarks protocol: held-out words as
queries, exact ground truth, a sweep of each method's search parameter) and writes
``benchmarks/results/bench_index/`` (``results.json``, ``results.md``, ``recall_qps.png``,
``scaling.png``) plus the summary ``benchmarks/results/bench_index.{json,md}``
(``bench_index_quick`` for ``quick=True``).

The data set, in order of preference:

1. a workspace set of >= 100,000 words built by ``embedkit build`` (e.g. the IMDB
   PPMI-SVD set ``indexes/imdb-ppmi300``);
2. ``bench-fasttext-oov50``, made here (once, then reused) from the fastText model that
   ``shared/data/pretrained_vectors/generated_dickens_real_tools/`` ships: its 12,396
   trained word vectors plus, for every other ``[a-z]+`` token of the IMDB reviews and the
   Dickens novels, the vector fastText itself gives an unknown word
   (the mean of its character n-gram rows). Real model, real words, but most rows are
   subword compositions from a 10,000-bucket table, so they cluster more than trained
   vectors do.

``quick=True`` runs the suite on gensim's 1,762-word ``lee_fasttext.vec`` in seconds.

Run: ``python -m benchmarks.bench_index [--quick] [--set NAME]``, or one of the modes:

- ``--head-to-head``: embedkit's HNSW, the same FAISS index called directly and hnswlib,
  interleaved, one thread (``results/bench_index_h2h_<set>``);
- ``--fastscan``: fast-scan PQ with exact re-ranking through ``Index.search``, raw, and
  hnswlib, the same way (``results/bench_index_fastscan_<set>``);
- ``--tune-check``: what ``--target-recall 0.95`` picks for HNSW and IVF, measured on the
  held-out queries (``results/bench_index_tune_<set>``);
- ``--variants [--only A,B]``: FAISS structures that could replace the HNSW default;
- ``--prepare``: only make the ``bench-fasttext-oov50`` set.

``--set NAME`` picks the workspace set (default: the largest, as above). Any other option is
an error.
"""

from __future__ import annotations

import collections
import logging
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

if not __package__:  # run as a file (python benchmarks/bench_x.py): import from the repo
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, SHARED_DATA, help_and_exit, write_results
from embedkit.errors import EmbedkitError, NotFoundError

log = logging.getLogger("embedkit.bench")

REPO = Path(__file__).resolve().parents[1]
WORKSPACE = REPO / "indexes"
PREFERRED_SETS = ("imdb-ppmi300", "imdb-ppmi", "imdb")
FASTTEXT_SET = "bench-fasttext-oov50"
FASTTEXT_BIN = (SHARED_DATA / "pretrained_vectors" / "generated_dickens_real_tools"
                / "dickens_fasttext_sg50.bin")
_TOKEN = re.compile(r"[a-z]+")
MIN_WORDS = 100_000


def largest_set(home: Path = WORKSPACE) -> Path | None:
    """The store of a preferred >= 100k-word workspace set, else of the largest one."""
    from embedkit.store import open_h5

    sizes = {}
    for store in sorted(home.glob("*/vectors.h5")):
        try:
            with open_h5(store) as h5:
                sizes[store] = int(h5.attrs["size"])
        except Exception:  # noqa: BLE001 - a set being written by someone else
            continue
    big = {p: n for p, n in sizes.items() if n >= MIN_WORDS and p.parent.name != FASTTEXT_SET}
    for name in PREFERRED_SETS:
        for store in big:
            if store.parent.name == name:
                return store
    return max(big, key=big.get) if big else None


def corpus_tokens(min_count: int = 1) -> collections.Counter:
    """``[a-z]+`` token counts (lower-cased) over the IMDB reviews and the Dickens novels."""
    import gzip

    counts: collections.Counter = collections.Counter()
    for archive in sorted((SHARED_DATA / "imdb_aclImdb").glob("*.tar.gz")):
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".txt") and "/urls_" not in member.name:
                    text = tar.extractfile(member).read().decode("utf-8", "replace")
                    counts.update(_TOKEN.findall(text.replace("<br />", " ").lower()))
    for book in sorted((SHARED_DATA / "corpus_dickens").glob("*.txt.gz")):
        with gzip.open(book, "rt", encoding="utf-8", errors="replace") as f:
            counts.update(_TOKEN.findall(f.read().lower()))
    return collections.Counter({w: c for w, c in counts.items() if c >= min_count})


def fasttext_oov_set(home: Path = WORKSPACE) -> Path:
    """Make (once) the ``bench-fasttext-oov50`` workspace set described in the module doc."""
    from embedkit.formats import read_vectors
    from embedkit.store import save
    from embedkit.vectors import Vectors

    target = home / FASTTEXT_SET / "vectors.h5"
    if target.exists():
        return target
    trained = read_vectors(FASTTEXT_BIN)
    counts = corpus_tokens()
    known = set(trained.words)
    extra = sorted((w for w in counts if w not in known), key=lambda w: (-counts[w], w))
    log.info("%d trained words + %d corpus words through fastText subwords",
             len(trained), len(extra))
    matrix = np.vstack([trained.matrix, subword_vectors(trained.subwords, extra)])
    words = list(trained.words) + extra
    word_counts = np.array([counts.get(w, 0) for w in trained.words] +
                           [counts[w] for w in extra], dtype=np.int64)
    meta = {
        "source": str(FASTTEXT_BIN),
        "builder": "import",
        "params": {"oov_words_from": "IMDB aclImdb (labelled + unsup) and corpus_dickens, "
                   "[a-z]+ lower-cased tokens",
                   "oov_vectors": "fastText subword mean (minn, maxn, bucket from the .bin)"},
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    save(Vectors(words, matrix, word_counts, meta), target)
    return target


def set_store(set_name: str | None = None, home: Path = WORKSPACE) -> Path:
    """The store of workspace set ``set_name`` (``--set``), else of the largest real set
    (:func:`largest_set`, or the fastText set made once by :func:`fasttext_oov_set`)."""
    if set_name is None:
        return largest_set(home) or fasttext_oov_set(home)
    store = home / set_name / "vectors.h5"
    if not store.is_file():
        known = ", ".join(sorted(p.parent.name for p in home.glob("*/vectors.h5"))) or "none"
        raise NotFoundError(f"--set {set_name}: no set of that name in {home} (sets there: "
                            f"{known}); make it with `embedkit import` or `embedkit build`")
    return store


def subword_vectors(subwords: Any, words: list[str]) -> np.ndarray:
    """fastText vectors of unknown ``words``: the mean of their n-gram rows, vectorised."""
    hashes = [subwords.hashes(w) for w in words]
    lengths = np.array([len(h) for h in hashes])
    flat = np.fromiter((h for hs in hashes for h in hs), dtype=np.int64, count=int(lengths.sum()))
    table = np.asarray(subwords.ngram_vectors, dtype=np.float32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sums = np.add.reduceat(table[flat], starts, axis=0)
    return (sums / np.maximum(lengths, 1)[:, None]).astype(np.float32)


def run(quick: bool = False, set_name: str | None = None) -> dict:
    """The index suite on the largest real set, or on workspace set ``set_name``
    (``quick``: gensim's lee_fasttext.vec). Writes ``results/bench_index/<set>/`` and the
    summary ``results/bench_index.{json,md}`` (``bench_index_<set>`` for a set other than
    the preferred one, ``bench_index_quick`` for the quick run)."""
    from embedkit.bench import bench_index
    from embedkit.formats import read_vectors
    from embedkit.store import load

    if quick:
        import gensim

        lee = Path(gensim.__file__).parent / "test" / "test_data" / "lee_fasttext.vec"
        name, vectors = "lee_fasttext", read_vectors(lee)
        settings: dict[str, Any] = {"queries": 200, "sizes": (500, None), "quick": True}
        summary = "bench_index_quick"
    else:
        store = set_store(set_name)
        name, vectors = store.parent.name, load(store)
        sizes = (10_000, 30_000, 100_000, None) if len(vectors) > 110_000 else (
            10_000, 30_000, None)
        settings = {"queries": 1000, "sizes": sizes}
        summary = ("bench_index" if set_name is None or store == largest_set()
                   else f"bench_index_{name}")
    out = RESULTS / "bench_index" / name
    results = bench_index(vectors, out_dir=out, dataset=name, **settings)
    table = (out / "results.md").read_text("utf-8").split("\n", 2)[2]
    write_results(summary,
                  {key: results[key] for key in ("dataset", "summary", "targets", "skipped")} |
                  {"details": str(out.relative_to(REPO))}, table)
    return results


VARIANTS = ("HNSW32", "HNSW16", "HNSW48", "HNSW32_SQ8", "HNSW32_SQfp16", "NSG32",
            "IVF{nlist},PQ{half}x4fs,RFlat")  # half: dim / 2 sub-quantisers of 2 dims


def hnsw_variants(set_name: str | None = None, queries: int = 1000, k: int = 10,
                  only: tuple[str, ...] = ()) -> dict:
    """Single-thread recall/QPS of FAISS structures that could replace embedkit's HNSW default,
    called on raw FAISS (no embedkit wrapper) beside hnswlib M=32, on the same held-out words.

    Writes ``results/bench_index_variants.{json,md}``: for each, the best single-thread QPS
    at recall@k >= 0.95 and its search parameter (efSearch, search_L, nprobe x k_factor).
    """
    import time

    from embedkit.bench import split_queries, threads_limited
    from embedkit.store import load
    from embedkit.tune import recall_at

    store = set_store(set_name)
    split = split_queries(load(store).matrix, queries, k)
    rows = []
    from embedkit.index import default_nlist

    fill = {"half": split.base.shape[1] // 2, "nlist": default_nlist(len(split.base))}
    names = [v.format(**fill) for v in VARIANTS] + ["hnswlib"]
    for name in [n for n in names if not only or n.split(",")[0].rstrip("0123456789") in only]:
        start = time.perf_counter()
        search, grid = _variant(name, split.base)
        build = time.perf_counter() - start
        best = None
        with threads_limited(1):
            for setting in grid:
                t0 = time.thread_time()  # CPU time of this thread: robust on a shared machine
                found = np.vstack([search(q[None], k, setting) for q in split.queries])
                qps = len(split.queries) / (time.thread_time() - t0)
                rec = recall_at(found, split.truth, k)
                log.info("%s %s: recall %.3f, %.0f q/s", name, setting, rec, qps)
                if rec >= 0.95 and (best is None or qps > best["qps_single"]):
                    best = {"setting": str(setting), "recall": rec, "qps_single": qps}
        rows.append({"structure": name, "build_seconds": build, "best_at_0.95": best})
    ref = next((r["best_at_0.95"] for r in rows if r["structure"] == "hnswlib"), None)
    table = ["| structure | build s | setting | recall@10 | QPS (1 thread) | vs hnswlib |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        b = r["best_at_0.95"]
        if b is None:
            table.append(f"| {r['structure']} | {r['build_seconds']:.1f} | never >= 0.95 "
                         "| - | - | - |")
            continue
        ratio = f"{b['qps_single'] / ref['qps_single']:.2f}x" if ref else "-"
        table.append(f"| {r['structure']} | {r['build_seconds']:.1f} | {b['setting']} | "
                     f"{b['recall']:.3f} | {b['qps_single']:,.0f} | {ratio} |")
    data = {"dataset": store.parent.name, "queries": queries, "k": k, "rows": rows}
    write_results(f"bench_index_variants_{store.parent.name}", data, "\n".join(table) + "\n")
    return data


def _variant(name: str, base: np.ndarray):
    """(search(q, k, setting) -> ids, settings to sweep) for one structure, built on all cores."""
    import faiss

    if name == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=base.shape[1])
        index.init_index(len(base), M=32, ef_construction=200, random_seed=0)
        index.add_items(base, num_threads=-1)

        def search(q, k, ef):
            index.set_ef(max(ef, k))
            return index.knn_query(q, k, num_threads=1)[0][0]
        return search, (16, 24, 32, 48, 64, 96, 128, 192, 256)
    # NSG builds an L2 graph; on unit rows L2 and inner product rank alike
    metric = faiss.METRIC_L2 if name.startswith("NSG") else faiss.METRIC_INNER_PRODUCT
    index = faiss.index_factory(base.shape[1], name, metric)
    hnsw = faiss.downcast_index(index)
    if isinstance(hnsw, faiss.IndexHNSW):
        hnsw.hnsw.efConstruction = 200
    if not index.is_trained:
        index.train(base)
    index.add(base)
    if name.startswith("HNSW"):
        def search(q, k, ef):
            return index.search(q, k, params=faiss.SearchParametersHNSW(efSearch=ef))[1][0]
        return search, (16, 24, 32, 48, 64, 96, 128, 192, 256)
    if name.startswith("NSG"):
        nsg = faiss.downcast_index(index)

        def search(q, k, L):
            nsg.nsg.search_L = L
            return index.search(q, k)[1][0]
        return search, (16, 24, 32, 48, 64, 96, 128, 192, 256)
    refine = faiss.downcast_index(index)
    ivf = faiss.extract_index_ivf(index)

    def search(q, k, setting):
        ivf.nprobe, refine.k_factor = setting
        return index.search(q, k)[1][0]
    return search, [(p, f) for p in (8, 16, 32, 64) for f in (2, 4, 8)]


def tune_check(set_name: str | None = None, queries: int = 1000, k: int = 10) -> dict:
    """What ``embedkit index --target-recall 0.95`` picks for the default HNSW and IVF builds,
    measured on the benchmark's held-out queries (same split as :func:`run`); writes
    ``results/bench_index_tune_<set>.{json,md}``."""
    import tempfile

    from embedkit.bench import _tuned_point, build_method, split_queries
    from embedkit.bench_methods import cpu_count, faiss_methods
    from embedkit.store import load

    store = set_store(set_name)
    split = split_queries(load(store).matrix, queries, k)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind in ("hnsw", "ivf"):
            method = faiss_methods(kind, len(split.base))[0]
            built = build_method(method, split.base, cpu_count(), Path(scratch))
            rows.append({"method": method.name, **built,
                         **_tuned_point(method, split, k, cpu_count(), 2.0)})
            log.info("%s", rows[-1])
    lines = ["| index | picked | recall on tuning queries | held-out recall@10 | QPS 1 thread |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['param']}={r['value']} | {r['tune_recall']:.3f} | "
              f"{r[f'recall{k}']:.3f} | {r['qps_single']:,.0f} |" for r in rows if "value" in r]
    data = {"dataset": store.parent.name, "queries": queries, "k": k, "rows": rows}
    write_results(f"bench_index_tune_{store.parent.name}", data, "\n".join(lines) + "\n")
    return data


def head_to_head(set_name: str | None = None, queries: int = 1000, k: int = 10,
                 rounds: int = 3) -> dict:
    """The HNSW target, measured interleaved: embedkit's default HNSW (``Index.search``), the
    same FAISS index called directly, and hnswlib M=32/efC=200, one thread, the same held-out
    queries; at each efSearch the three alternate for ``rounds`` rounds and each keeps its
    best thread-CPU time, so a change in machine load hits all three alike. Writes
    ``results/bench_index_h2h_<set>.{json,md}``."""
    import time

    import faiss

    from embedkit.bench import split_queries, threads_limited
    from embedkit.bench_methods import EF_VALUES, HnswlibMethod, cpu_count
    from embedkit.index import Index
    from embedkit.store import load
    from embedkit.tune import recall_at

    store = set_store(set_name)
    split = split_queries(load(store).matrix, queries, k)
    ours = Index.build(split.base, "hnsw")
    theirs = HnswlibMethod("hnswlib", "hnswlib", {"M": 32, "ef_construction": 200})
    theirs.build(split.base, cpu_count())
    contenders = {
        "embedkit": lambda q, ef: ours.search(q, k, ef=ef).ids[0],
        "faiss-raw": lambda q, ef: ours.faiss_index.search(
            q[None], k, params=faiss.SearchParametersHNSW(efSearch=ef))[1][0],
        "hnswlib": lambda q, ef: theirs.single(q, k, ef),
    }
    rows = []
    with threads_limited(1):
        for ef in (v for v in EF_VALUES if 24 <= v <= 256):
            best = dict.fromkeys(contenders, float("inf"))
            recalls = {}
            for _ in range(rounds):
                for name, search in contenders.items():
                    start = time.thread_time()
                    found = np.vstack([search(q, ef) for q in split.queries])
                    best[name] = min(best[name], time.thread_time() - start)
                    recalls[name] = recall_at(found, split.truth, k)
            rows.append({"ef": ef, **{f"{n}_recall": recalls[n] for n in contenders},
                         **{f"{n}_qps": len(split.queries) / best[n] for n in contenders}})
            log.info("%s", rows[-1])
    at = {n: max((r[f"{n}_qps"] for r in rows if r[f"{n}_recall"] >= 0.95), default=None)
          for n in contenders}
    data = {"dataset": store.parent.name, "queries": queries, "k": k, "rounds": rounds,
            "rows": rows, "best_qps_at_0.95": at,
            "ratio_embedkit_vs_hnswlib": at["embedkit"] / at["hnswlib"],
            "ratio_faiss_raw_vs_hnswlib": at["faiss-raw"] / at["hnswlib"]}
    lines = ["| efSearch / ef | embedkit recall | QPS | faiss raw recall | QPS | hnswlib recall "
             "| QPS |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['ef']} | " + " | ".join(f"{r[f'{n}_recall']:.3f} | {r[f'{n}_qps']:,.0f}"
                                             for n in contenders) + " |" for r in rows]
    lines += ["", f"Best single-thread QPS at recall@{k} >= 0.95: "
              + ", ".join(f"{n} {v:,.0f}" for n, v in at.items() if v) +
              f"; embedkit / hnswlib = {data['ratio_embedkit_vs_hnswlib']:.2f}x, "
              f"raw FAISS / hnswlib = {data['ratio_faiss_raw_vs_hnswlib']:.2f}x"]
    write_results(f"bench_index_h2h_{store.parent.name}", data, "\n".join(lines) + "\n")
    return data


def fastscan_head_to_head(set_name: str | None = None, queries: int = 1000, k: int = 10,
                          rounds: int = 3) -> dict:
    """Fast-scan 4-bit PQ with exact re-ranking (``IVF<nlist>,PQ<dim/2>x4fs,RFlat``) through
    embedkit's ``Index.search`` (nprobe, k_factor), the same FAISS index called directly,
    and hnswlib M=32/efC=200: one thread, the same held-out queries, every setting of every
    contender once per round, rounds interleaved, best thread-CPU time kept. Writes
    ``results/bench_index_fastscan_<set>.{json,md}``."""
    import time

    import faiss

    from embedkit.bench import split_queries, threads_limited
    from embedkit.bench_methods import HnswlibMethod, cpu_count
    from embedkit.index import Index, default_nlist
    from embedkit.store import load
    from embedkit.tune import recall_at

    store = set_store(set_name)
    split = split_queries(load(store).matrix, queries, k)
    factory = f"IVF{default_nlist(len(split.base))},PQ{split.base.shape[1] // 2}x4fs,RFlat"
    ours = Index.build(split.base, factory)
    refine, ivf = faiss.downcast_index(ours.faiss_index), faiss.extract_index_ivf(ours.faiss_index)
    theirs = HnswlibMethod("hnswlib", "hnswlib", {"M": 32, "ef_construction": 200})
    theirs.build(split.base, cpu_count())

    def raw(q, setting):
        ivf.nprobe, refine.k_factor = setting
        return ours.faiss_index.search(q[None], k)[1][0]

    pairs = [(p, f) for p in (8, 16, 32, 64, 128, 256, 512) for f in (4, 8, 16, 32)]
    contenders = {
        "embedkit": (lambda q, s: ours.search(q, k, nprobe=s[0], k_factor=s[1]).ids[0], pairs),
        "faiss-raw": (raw, pairs),
        "hnswlib": (lambda q, ef: theirs.single(q, k, ef), (16, 24, 32, 48, 64, 96, 128, 192)),
    }
    seconds: dict[tuple[str, Any], float] = {}
    recalls: dict[tuple[str, Any], float] = {}
    with threads_limited(1):
        for _ in range(rounds):
            for name, (search, grid) in contenders.items():
                for setting in grid:
                    start = time.thread_time()
                    found = np.vstack([search(q, setting) for q in split.queries])
                    took = time.thread_time() - start
                    seconds[name, setting] = min(seconds.get((name, setting), took), took)
                    recalls[name, setting] = recall_at(found, split.truth, k)
    rows = [{"contender": n, "setting": str(s), "recall": recalls[n, s],
             "qps_single": len(split.queries) / seconds[n, s]} for n, s in seconds]
    best = {n: max((r for r in rows if r["contender"] == n and r["recall"] >= 0.95),
                   key=lambda r: r["qps_single"], default=None) for n in contenders}
    ref = best["hnswlib"]
    data = {"dataset": store.parent.name, "factory": factory, "queries": queries, "k": k,
            "rounds": rounds, "rows": rows, "best_at_0.95": best}
    lines = [f"{factory} on {store.parent.name} ({len(split.base):,} x {split.base.shape[1]}), "
             f"{queries} held-out queries, one thread, best of {rounds} interleaved rounds.", "",
             "| contender | setting (nprobe, k_factor / ef) | recall@10 | QPS (1 thread) | "
             "vs hnswlib |", "|---|---|---|---|---|"]
    for name, b in best.items():
        ratio = f"{b['qps_single'] / ref['qps_single']:.2f}x" if b and ref else "-"
        lines.append(f"| {name} | {b['setting']} | {b['recall']:.3f} | {b['qps_single']:,.0f} | "
                     f"{ratio} |" if b else f"| {name} | never >= 0.95 | - | - | - |")
    write_results(f"bench_index_fastscan_{store.parent.name}", data, "\n".join(lines) + "\n")
    return data


def _set_arg() -> str | None:
    """``--set NAME`` on the command line: a workspace set instead of the largest one."""
    return sys.argv[sys.argv.index("--set") + 1] if "--set" in sys.argv else None


def _main() -> None:
    if "--prepare" in sys.argv:
        print(fasttext_oov_set())
    elif "--head-to-head" in sys.argv:
        head_to_head(_set_arg())
    elif "--fastscan" in sys.argv:
        fastscan_head_to_head(_set_arg())
    elif "--tune-check" in sys.argv:
        tune_check(_set_arg())
    elif "--variants" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else ()
        hnsw_variants(_set_arg(), only=tuple(only))
    else:
        run(quick="--quick" in sys.argv, set_name=_set_arg())


if __name__ == "__main__":
    help_and_exit(__doc__, {"--set": 1, "--prepare": 0, "--head-to-head": 0, "--fastscan": 0,
                            "--tune-check": 0, "--variants": 0, "--only": 1})
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    logging.getLogger("gensim").setLevel(logging.WARNING)
    try:
        _main()
    except EmbedkitError as err:  # a missing --set, a bad store: one line, no traceback
        sys.stderr.write(f"Error: {err}\n")
        raise SystemExit(err.exit_code) from None
