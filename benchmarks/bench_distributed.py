"""Distributed counting benchmark: Dask LocalCluster vs the single-machine builder, 2 cores.

Side by side, in one run, on the same corpus and parameters (window 2, min_count 5):

- the single-machine builder's read + tokenise + vocabulary + count (2 tokenising
  processes, 2 counting threads) against the same stages as Dask tasks on a LocalCluster
  of 2 worker processes x 1 thread (counts gathered to the client), and their ratio
  (the overhead of running distributed on the same 2 cores), best of 2 alternated runs
  each; cluster start-up apart;
- per-shard costs measured serially on one core: tokenising, counting, the size of the
  partial count matrix, the cost of merging partials (bytes/s);
- how the number of nonzero counts grows with the number of tokens (a power-law fit
  over corpus prefixes), and the SVD's time on the gathered matrix;
- from those measurements, a paper estimate of a 3-billion-token build on 32 workers
  (assumptions listed in the results).

Full run: Charles Dickens' 14 novels (gzip files from ../shared/data, one shard per file);
``run(quick=True)`` uses gensim's Lee corpus cut into byte ranges, in seconds.
Run: ``python -m benchmarks.bench_distributed [--quick]``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if not __package__:  # run as a file (python benchmarks/bench_x.py): import from the repo
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED_DATA, help_and_exit, markdown_table, write_results
from embedkit import build
from embedkit import distributed as dist
from embedkit.cooccur import CountConfig, count_cooccurrences, csr_bytes, merge
from embedkit.corpus import Corpus, CorpusConfig
from embedkit.pmi import PMIConfig, weight
from embedkit.svd import SVDConfig, truncated_svd
from embedkit.tokens import TokenizerConfig
from embedkit.vocab import Vocabulary

GENSIM_DATA = Path(__import__("gensim").__file__).parent / "test" / "test_data"
TOKENS = TokenizerConfig()
MIN_COUNT = 5
TARGET_TOKENS = 3e9
TARGET_WORKERS = 32
NETWORK_BYTES_S = 1.25e9  # 10 GbE
SHARD_BYTES = dist.DEFAULT_SHARD_BYTES
REPEAT = 2


def corpus_for(quick: bool) -> tuple[Corpus, int, str]:
    if quick:
        lee = GENSIM_DATA / "lee_background.cor"
        return Corpus([lee], CorpusConfig(format="lines")), 30_000, "Lee background (lines)"
    books = sorted((SHARED_DATA / "corpus_dickens").glob("*.txt.gz"))
    return Corpus(books, CorpusConfig()), 1, "Dickens, 14 novels (gzip)"


def single_machine(corpus: Corpus, config: CountConfig) -> dict[str, Any]:
    start = time.perf_counter()
    read = build.read_tokens(corpus, TOKENS, workers=2)
    vocab = read.vocabulary(MIN_COUNT, None)
    counts = count_cooccurrences(read.id_docs(vocab), len(vocab), config)
    return {"seconds": time.perf_counter() - start, "tokens": read.tokens,
            "vocabulary": len(vocab), "nnz": int(counts.nnz), "counts": counts}


def on_cluster(client: Any, corpus: Corpus, config: CountConfig, shard_bytes: int
               ) -> dict[str, Any]:
    start = time.perf_counter()
    shards = dist.tokenize_distributed(client, corpus, TOKENS, shard_bytes)
    vocab_f, vocab, _ = dist.vocabulary_distributed(client, shards, MIN_COUNT, None)
    counts = dist.count_distributed(client, shards, vocab_f, len(vocab), config).result()
    return {"seconds": time.perf_counter() - start, "shards": len(shards.shards),
            "nnz": int(counts.nnz), "counts": counts}


def per_shard_costs(corpus: Corpus, config: CountConfig, shard_bytes: int) -> dict[str, Any]:
    """Tokenise and count every shard serially on one core; merge partials pairwise."""
    shards = dist.plan_shards(corpus, shard_bytes)
    tokenized, tok_s = [], []
    for shard in shards:
        start = time.perf_counter()
        tokenized.append(dist.tokenize_shard(shard, corpus.config, TOKENS))
        tok_s.append(time.perf_counter() - start)
    vocab = Vocabulary.from_counts(dist.add_word_counts(
        [dist.shard_word_counts(t) for t in tokenized]), MIN_COUNT, None)
    partials, count_s = [], []
    for t in tokenized:
        start = time.perf_counter()
        partials.append(dist.count_shard(t, vocab, config))
        count_s.append(time.perf_counter() - start)
    tokens = np.array([t.ids.size for t in tokenized], dtype=np.float64)
    merge_bytes, merge_s, prefix = 0, 0.0, []
    total = partials[0]
    for part, seen in zip(partials[1:], np.cumsum(tokens)[1:], strict=True):
        start = time.perf_counter()
        merge_bytes += csr_bytes(total) + csr_bytes(part)
        total = merge([total, part])
        merge_s += time.perf_counter() - start
        prefix.append((float(seen), int(total.nnz)))
    return {"shards": len(shards), "tokens": tokens, "tokenize_s": np.array(tok_s),
            "count_s": np.array(count_s),
            "partial_bytes": np.array([csr_bytes(p) for p in partials], dtype=np.float64),
            "merge_bytes_per_s": merge_bytes / max(merge_s, 1e-9), "prefix_nnz": prefix,
            "bytes_per_token": sum(s.size for s in shards) / tokens.sum()}


def svd_cost(counts: Any, quick: bool) -> dict[str, Any]:
    config = SVDConfig(dim=min(50 if quick else 300, counts.shape[0] // 4))
    weighted = weight(counts, PMIConfig())
    start = time.perf_counter()
    truncated_svd(weighted, config.dim, "randomized", 0, config.oversample, config.power_iters)
    return {"seconds": time.perf_counter() - start, "dim": config.dim,
            "nnz": int(weighted.nnz), "rows": int(weighted.shape[0])}


def growth_exponent(prefix: list[tuple[float, int]]) -> float:
    """beta in nnz ~ tokens^beta, fitted on the corpus prefixes (1 if too few points)."""
    if len(prefix) < 2:
        return 1.0
    x, y = np.log([p[0] for p in prefix]), np.log([p[1] for p in prefix])
    return float(np.clip(np.polyfit(x, y, 1)[0], 0.1, 1.0))


def estimate(costs: dict[str, Any], svd: dict[str, Any], efficiency: float,
             final_nnz: int) -> dict[str, Any]:
    """Seconds for TARGET_TOKENS on TARGET_WORKERS workers, stage by stage."""
    tokens = costs["tokens"].sum()
    per_token_s = (costs["tokenize_s"].sum() + costs["count_s"].sum()) / tokens
    beta = growth_exponent(costs["prefix_nnz"])
    nnz_3b = final_nnz * (TARGET_TOKENS / tokens) ** beta
    matrix_bytes = nnz_3b * 12
    shard_tokens = SHARD_BYTES / costs["bytes_per_token"]
    n_shards = math.ceil(TARGET_TOKENS / shard_tokens)
    partial_nnz = final_nnz * (shard_tokens / tokens) ** beta
    map_s = TARGET_TOKENS * per_token_s / TARGET_WORKERS / efficiency
    worker_nnz = final_nnz * (TARGET_TOKENS / TARGET_WORKERS / tokens) ** beta
    local_merge_s = (n_shards / TARGET_WORKERS) * (partial_nnz + worker_nnz) * 12 \
        / costs["merge_bytes_per_s"]
    depth = math.ceil(math.log2(TARGET_WORKERS))
    reduce_s = depth * matrix_bytes * (1 / costs["merge_bytes_per_s"] + 1 / NETWORK_BYTES_S)
    width = 300 + 20
    passes = 2 * (4 + 1) + 1
    svd_cluster_s = svd["seconds"] * (nnz_3b / svd["nnz"]) * (width / (svd["dim"] + 20)) \
        / TARGET_WORKERS + passes * 2 * 200_000 * width * 8 / NETWORK_BYTES_S
    total = map_s + local_merge_s + reduce_s + svd_cluster_s
    return {"per_worker_tokens_per_s": 1 / per_token_s, "nnz_growth_beta": beta,
            "estimated_nnz": nnz_3b, "estimated_count_matrix_gib": matrix_bytes / 2**30,
            "shards": n_shards, "tree_depth": depth, "map_s": map_s,
            "local_merge_s": local_merge_s, "reduce_s": reduce_s, "svd_s": svd_cluster_s,
            "total_s": total, "total_h": total / 3600}


ASSUMPTIONS = [
    f"{TARGET_WORKERS} workers, 1 core each, as fast as one core here; the tokenise+count cost "
    "per token is the serial per-shard measurement, divided by the parallel efficiency "
    "measured on the 2-worker LocalCluster",
    "nonzero counts grow as tokens^beta (beta fitted on prefixes of the benchmark corpus, "
    "same vocabulary); a 3B-token corpus has a larger vocabulary, so this is optimistic "
    "unless --max-vocab caps it",
    "each worker first sums its own shards' partials; then a pairwise tree of depth "
    f"ceil(log2({TARGET_WORKERS})) merges and ships matrices no larger than the final one, "
    f"at the measured merge rate and {NETWORK_BYTES_S / 1e9:.2f} GB/s (10 GbE)",
    "SVD: 300 dims, randomized with 4 power passes, sparse products spread over the "
    "workers (cost scaled by nnz from the measured single-machine SVD), dense "
    "200,000 x 320 blocks shipped each pass",
    "not counted: cluster start-up, scheduler overhead per task (about 1 ms), reading "
    "from a shared filesystem slower than local disk",
]


def run(quick: bool = False) -> dict[str, Any]:
    import distributed

    corpus, shard_bytes, name = corpus_for(quick)
    config = CountConfig(window=2, workers=2)
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        startup_s = time.perf_counter() - start
        runs = []  # alternated, best of REPEAT each: the 2 cores are shared with other work
        for _ in range(1 if quick else REPEAT):
            runs.append((single_machine(corpus, config),
                         on_cluster(client, corpus, CountConfig(window=2, workers=1),
                                    shard_bytes)))
    single = min((r[0] for r in runs), key=lambda r: r["seconds"])
    cluster_run = min((r[1] for r in runs), key=lambda r: r["seconds"])
    identical = (single["counts"] != cluster_run["counts"]).nnz == 0
    costs = per_shard_costs(corpus, CountConfig(window=2, workers=1), shard_bytes)
    svd = svd_cost(single["counts"], quick)
    serial_s = costs["tokenize_s"].sum() + costs["count_s"].sum()
    efficiency = min(1.0, serial_s / 2 / cluster_run["seconds"])
    paper = estimate(costs, svd, efficiency, single["nnz"])
    measured = {
        "corpus": name, "tokens": single["tokens"], "vocabulary": single["vocabulary"],
        "nnz": single["nnz"], "counts_identical": bool(identical),
        "single_machine_s": single["seconds"], "cluster_s": cluster_run["seconds"],
        "cluster_startup_s": startup_s, "overhead_ratio": cluster_run["seconds"] /
        single["seconds"], "shards": cluster_run["shards"],
        "single_tokens_per_s": single["tokens"] / single["seconds"],
        "cluster_tokens_per_s": single["tokens"] / cluster_run["seconds"],
        "serial_per_shard_s": serial_s, "parallel_efficiency": efficiency,
        "tokenize_s_per_mtoken": costs["tokenize_s"].sum() / costs["tokens"].sum() * 1e6,
        "count_s_per_mtoken": costs["count_s"].sum() / costs["tokens"].sum() * 1e6,
        "partial_mib_per_shard": float(costs["partial_bytes"].mean() / 2**20),
        "merge_mib_per_s": costs["merge_bytes_per_s"] / 2**20,
        "svd_s": svd["seconds"], "svd_dim": svd["dim"],
        "load_average_1min": os.getloadavg()[0],  # other work on the same 2 cores
    }
    data = {"quick": quick, "measured": measured, "estimate_3b_tokens_32_workers": paper,
            "assumptions": ASSUMPTIONS}
    write_results("bench_distributed" + ("_quick" if quick else ""), data, _tables(data))
    print(_tables(data))
    return data


def _tables(data: dict[str, Any]) -> str:
    m, e = data["measured"], data["estimate_3b_tokens_32_workers"]
    first = markdown_table([
        ["single machine (2 processes/threads)", m["single_machine_s"],
         m["single_tokens_per_s"], 1.0],
        [f"Dask LocalCluster 2 x 1 thread, {m['shards']} shards", m["cluster_s"],
         m["cluster_tokens_per_s"], m["overhead_ratio"]],
    ], ["read + tokenise + vocabulary + count", "seconds", "tokens/s", "time ratio"])
    costs = markdown_table([
        ["tokenise (s per M tokens, 1 core)", m["tokenize_s_per_mtoken"]],
        ["count (s per M tokens, 1 core)", m["count_s_per_mtoken"]],
        ["partial count matrix per shard (MiB)", m["partial_mib_per_shard"]],
        ["merge rate (MiB/s)", m["merge_mib_per_s"]],
        ["parallel efficiency on 2 workers", m["parallel_efficiency"]],
        ["cluster start-up (s)", m["cluster_startup_s"]],
    ], ["per-shard cost", "value"])
    paper = markdown_table([
        ["tokenise + count (map)", e["map_s"]], ["per-worker merges", e["local_merge_s"]],
        [f"tree reduction (depth {e['tree_depth']})", e["reduce_s"]], ["SVD", e["svd_s"]],
        ["total (hours)", e["total_h"]],
    ], ["3e9 tokens on 32 workers (paper estimate)", "seconds"])
    return (f"Corpus: {m['corpus']}, {m['tokens']:,} tokens, vocabulary {m['vocabulary']:,}, "
            f"{m['nnz']:,} nonzero counts; counts identical: {m['counts_identical']}; "
            f"load average {m['load_average_1min']:.1f} on 2 cores\n\n"
            + first + "\n" + costs + "\n" + paper)


if __name__ == "__main__":
    help_and_exit(__doc__)
    run(quick="--quick" in sys.argv)
