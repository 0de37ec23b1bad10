"""The Dask builder against the single-machine builder on real text (one shared LocalCluster).

Reference: embedkit.build (read_tokens, Vocabulary, count_cooccurrences, weight,
build_ppmi_svd) run in this process on the same corpus and parameters.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg as sl

from embedkit import build
from embedkit import distributed as dist
from embedkit.cooccur import CountConfig, count_cooccurrences
from embedkit.corpus import Corpus, CorpusConfig
from embedkit.errors import EmbedkitError, NotFoundError, UsageError
from embedkit.pmi import PMIConfig, weight
from embedkit.store import extra_arrays, load
from embedkit.tokens import TokenizerConfig
from tests.cli_helpers import run_cli

distributed = pytest.importorskip("distributed")
TOKENS = TokenizerConfig()
DIM = 30


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster, set_as_default=False) as connected:
        yield connected


@pytest.fixture(scope="module")
def lee(gensim_data):
    return Corpus([gensim_data / "lee_background.cor"], CorpusConfig(format="lines"))


def single_machine_counts(corpus, config, min_count=5):
    read = build.read_tokens(corpus, TOKENS, workers=1)
    vocab = read.vocabulary(min_count, None)
    keep = vocab.keep_probabilities(config.subsample) if config.subsample else None
    return vocab, count_cooccurrences(read.id_docs(vocab), len(vocab), config, keep)


def cluster_counts(client, corpus, config, shard_bytes, min_count=5):
    shards = dist.tokenize_distributed(client, corpus, TOKENS, shard_bytes)
    vocab_f, vocab, _ = dist.vocabulary_distributed(client, shards, min_count, None)
    counts = dist.count_distributed(client, shards, vocab_f, len(vocab), config).result()
    return shards, vocab, counts


def assert_identical(a, b):
    assert a.shape == b.shape
    a, b = a.tocsr(), b.tocsr()
    a.sort_indices()
    b.sort_indices()
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


def assert_same_space(single, cluster, rtol=1e-4):
    assert single.words == cluster.words
    s1 = single.metadata["_arrays"]["singular_values"]
    s2 = cluster.metadata["_arrays"]["singular_values"]
    np.testing.assert_allclose(s2, s1, rtol=rtol)
    angles = sl.subspace_angles(single.matrix.astype(np.float64),
                                cluster.matrix.astype(np.float64))
    assert angles.max() < 1e-3


@pytest.fixture(scope="module")
def single_lee(lee):
    """The single-machine build that every cluster build is compared with."""
    return build.build_ppmi_svd(lee, dim=DIM, workers=1)


@pytest.fixture()
def svd_log():
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("embedkit.distributed")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield messages
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_byte_range_shards_give_identical_counts_ppmi_and_vectors(client, lee, single_lee,
                                                                   svd_log):
    config = CountConfig(window=2, workers=1)
    shards, vocab, counts = cluster_counts(client, lee, config, shard_bytes=40_000)
    assert len(shards.shards) >= 8 and all(s.byte_range for s in shards.shards)
    ref_vocab, ref_counts = single_machine_counts(lee, config)
    assert vocab.words == ref_vocab.words
    np.testing.assert_array_equal(vocab.counts, ref_vocab.counts)
    assert counts.nnz > 50_000
    assert_identical(counts, ref_counts)
    assert_identical(weight(counts, PMIConfig()), weight(ref_counts, PMIConfig()))

    cluster = dist.build_ppmi_svd_distributed(lee, client=client, dim=DIM, shard_bytes="40K")
    assert cluster.metadata["params"]["distributed"]["shard_bytes"] == 40 << 10
    stats = cluster.metadata["stats"]
    assert stats["svd_stage"] == "local"  # small: gathered, the single-machine SVD
    assert any("gathering" in m and "within" in m for m in svd_log)
    assert stats["tokens"] == single_lee.metadata["stats"]["tokens"]
    assert stats["documents"] == single_lee.metadata["stats"]["documents"] == 300
    assert stats["nonzero_counts"] == single_lee.metadata["stats"]["nonzero_counts"]
    assert stats["matrix_shape"] == single_lee.metadata["stats"]["matrix_shape"]
    size = Path(lee.paths[0]).stat().st_size  # the byte ranges add up to the file
    assert stats["input_bytes"] == single_lee.metadata["stats"]["input_bytes"] == size
    assert_same_space(single_lee, cluster)
    np.testing.assert_array_equal(cluster.matrix, single_lee.matrix)


def test_byte_ranges_start_after_line_breaks(lee):
    path = lee.files[0].path
    with open(path, "rb") as f:
        data = f.read()
    shards = dist.plan_shards(lee, 50_000)
    ranges = [s.byte_range for s in shards]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data) and len(ranges) >= 7
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert end == start and data[start - 1:start] == b"\n"


def test_document_context_and_whole_files(client, gensim_data):
    files = [gensim_data / "lee_background.cor", gensim_data / "lee.cor"]
    corpus = Corpus(files, CorpusConfig(format="lines"))
    config = CountConfig(context="document", workers=1)
    shards, vocab, counts = cluster_counts(client, corpus, config, shard_bytes=30_000)
    assert len(shards.shards) > 3
    ref_vocab, ref_counts = single_machine_counts(corpus, config)
    assert vocab.words == ref_vocab.words
    assert counts.shape[1] == ref_counts.shape[1] > 300  # one column per document
    assert_identical(counts, ref_counts)


@pytest.mark.parametrize("svd", ["local", "cluster"])
def test_too_few_documents_for_dim_names_the_documents(client, gensim_data, svd):
    corpus = Corpus([gensim_data / "lee.cor"], CorpusConfig(format="text"))  # one document
    with pytest.raises(EmbedkitError) as raised:
        dist.build_ppmi_svd_distributed(corpus, client=client, context="document", dim=20,
                                        min_count=1, svd=svd)
    single = str(pytest.raises(EmbedkitError, build.build_ppmi_svd, corpus,
                               context="document", dim=20, min_count=1).value)
    assert str(raised.value) == single  # the single-machine message, naming the documents
    assert "1 document (--context document)" in single


def test_imdb_archive_member_groups(client, shared_data):
    archive = shared_data / "imdb_aclImdb" / "aclImdb_v1_labelled.tar.gz"
    corpus = Corpus([archive], CorpusConfig(glob="train/pos/1??_*.txt"))
    config = CountConfig(window=3, weighting="harmonic", workers=1)
    shards, vocab, counts = cluster_counts(client, corpus, config, shard_bytes=6 << 20,
                                           min_count=3)
    assert len(shards.shards) >= 4 and all(s.members for s in shards.shards)
    ref_vocab, ref_counts = single_machine_counts(corpus, config, min_count=3)
    assert vocab.words == ref_vocab.words and len(vocab) > 500
    assert sum(s["documents"] for s in shards.summaries) == 100
    np.testing.assert_array_equal(counts.indptr, ref_counts.indptr)
    np.testing.assert_array_equal(counts.indices, ref_counts.indices)
    assert counts.dtype == ref_counts.dtype == np.float32
    # float32 sums of 1/d weights added in another order: equal to rounding only
    np.testing.assert_allclose(counts.data, ref_counts.data, rtol=1e-6)


def test_subsampling_does_not_depend_on_sharding(client, lee):
    config = CountConfig(window=2, subsample=1e-3, seed=7, workers=1)
    _, _, few = cluster_counts(client, lee, config, shard_bytes=200_000)
    _, vocab, many = cluster_counts(client, lee, config, shard_bytes=20_000)
    assert_identical(few, many)
    _, full = single_machine_counts(lee, CountConfig(window=2, workers=1))
    assert 0.3 * full.sum() < many.sum() < 0.95 * full.sum()  # some pairs were dropped


def test_svd_on_the_cluster_when_over_budget(client, lee, single_lee, svd_log):
    cluster = dist.build_ppmi_svd_distributed(lee, client=client, dim=DIM, shard_bytes=90_000,
                                              svd_memory="1M", algorithm="arpack")
    assert cluster.metadata["stats"]["svd_stage"] == "cluster"
    assert cluster.metadata["stats"]["matrix_shape"] == \
        single_lee.metadata["stats"]["matrix_shape"]
    assert cluster.metadata["params"]["svd"]["algorithm"] == "randomized"  # as it ran
    assert any("on the cluster" in m and "over" in m for m in svd_log)
    assert_same_space(single_lee, cluster)
    estimate = cluster.metadata["stats"]["svd_estimate_bytes"]
    assert 1 << 20 < estimate < 64 << 20
    assert dist.choose_svd((1826, 1826), 10**6, DIM, 20, estimate)[0] == "cluster"
    assert dist.choose_svd((10, 10), 50, 2, 0, estimate)[0] == "local"
    assert dist.choose_svd((10, 10), 50, 2, 0, estimate, "cluster")[0] == "cluster"


def test_killed_worker_tasks_are_rerun_and_counts_unchanged(client, lee):
    config = CountConfig(window=2, workers=1)
    shards = dist.tokenize_distributed(client, lee, TOKENS, shard_bytes=8_000)
    held = client.who_has(shards.tokens)
    pids = client.run(os.getpid)
    victim = next(iter(pids))
    lost = [key for key, where in held.items() if list(where) == [victim]]
    assert lost, "the victim holds the only copy of some tokenised shards"
    os.kill(pids[victim], signal.SIGKILL)  # mid-build: between tokenising and counting
    deadline = time.time() + 20
    while victim in client.scheduler_info()["workers"] and time.time() < deadline:
        time.sleep(0.1)
    assert victim not in client.scheduler_info()["workers"]
    vocab_f, vocab, _ = dist.vocabulary_distributed(client, shards, 5, None)
    counts = dist.count_distributed(client, shards, vocab_f, len(vocab), config).result()
    ref_vocab, ref_counts = single_machine_counts(lee, config)
    assert vocab.words == ref_vocab.words
    assert_identical(counts, ref_counts)
    client.wait_for_workers(2, timeout=30)  # the nanny restarts it for the next tests


class KillAfterFirstCount(distributed.WorkerPlugin):
    """SIGKILLs its worker (once, on ``victim``) when the first counting task has finished."""

    def __init__(self, victim: str, marker: str) -> None:
        self.victim, self.marker = victim, marker

    def setup(self, worker) -> None:
        self.worker = worker

    def transition(self, key, start, finish, **kwargs) -> None:
        if (finish == "memory" and str(key).startswith("embedkit-count-")
                and str(self.worker.name) == self.victim and not os.path.exists(self.marker)):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_during_the_counting_tasks(client, lee, single_lee, tmp_path):
    marker = tmp_path / "killed"
    victim = str(next(iter(client.scheduler_info()["workers"].values()))["name"])
    client.register_plugin(KillAfterFirstCount(victim, str(marker)), name="kill-once")
    try:
        cluster = dist.build_ppmi_svd_distributed(lee, client=client, dim=DIM,
                                                  shard_bytes=12_000)
    finally:
        client.unregister_worker_plugin("kill-once")
    assert marker.exists()  # the victim died after its first counting task
    assert cluster.metadata["stats"]["nonzero_counts"] == \
        single_lee.metadata["stats"]["nonzero_counts"]
    assert cluster.metadata["stats"]["matrix_shape"] == \
        single_lee.metadata["stats"]["matrix_shape"]
    np.testing.assert_array_equal(cluster.metadata["_arrays"]["singular_values"],
                                  single_lee.metadata["_arrays"]["singular_values"])
    client.wait_for_workers(2, timeout=30)


def test_cli_scheduler_builds_the_same_set(client, lee, single_lee, home):
    path = lee.files[0].path
    result = run_cli("build", "ppmi", path, "--name", "lee", "--format", "lines", "--dim",
                     str(DIM), "--scheduler", client.scheduler.address, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["svd_stage"] == "local"
    stored = load(home / "lee" / "vectors.h5")
    assert stored.words == single_lee.words
    np.testing.assert_array_equal(extra_arrays(stored)["singular_values"],
                                  single_lee.metadata["_arrays"]["singular_values"])


def test_cli_build_records_how_it_read_the_corpus(client, lee, home):
    path = lee.files[0].path
    result = run_cli("build", "ppmi", path, "--name", "p", "--format", "lines", "--dim",
                     str(DIM), "--scheduler", client.scheduler.address, "--json")
    assert result.exit_code == 0, result.stderr
    meta = load(home / "p" / "vectors.h5").metadata
    assert meta["params"]["preset"] == "embedkit"  # the default, as the single machine says
    assert meta["params"]["corpus"]["format"] == "lines"
    assert meta["files"][0]["path"] == os.path.abspath(path)


def test_default_shards_give_every_worker_work(tmp_path):
    for i in range(8):
        (tmp_path / f"f{i}.txt").write_text("word " * 120_000)  # 600 KB each
    corpus = Corpus([tmp_path])
    size = dist._auto_shard_bytes(corpus, 2)
    assert (1 << 20) <= size < dist.DEFAULT_SHARD_BYTES
    assert len(dist.plan_shards(corpus, size)) >= 4  # two per worker, not one for all


def test_a_scheduler_without_workers_is_an_error_not_a_hang(lee):
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        start = time.perf_counter()
        with pytest.raises(EmbedkitError, match="has no workers"):
            dist.build_ppmi_svd_distributed(lee, dim=5, scheduler=empty.scheduler_address,
                                            timeout=1)
        assert time.perf_counter() - start < 30


def test_cli_local_cluster(gensim_data, home):
    path = gensim_data / "lee.cor"
    result = run_cli("build", "ppmi", path, "--name", "small", "--format", "lines", "--dim",
                     "10", "--min-count", "2", "--cluster", "local:1", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["workers"] == 1 and summary["shards"] == 1
    single = build.build_ppmi_svd(Corpus([path], CorpusConfig(format="lines")), dim=10,
                                  min_count=2, workers=1)
    stored = load(home / "small" / "vectors.h5")
    assert stored.words == single.words
    np.testing.assert_array_equal(stored.matrix, single.matrix)


@pytest.mark.parametrize("args, code, text", [
    (["--scheduler", "tcp://127.0.0.1:1"], 1, "cannot reach the Dask scheduler"),
    (["--scheduler", "no-port"], 2, "tcp://HOST:PORT"),
    (["--scheduler", "http://127.0.0.1:8787"], 2, "unknown protocol http://"),
    (["--cluster", "local:0"], 2, "local:N"),
    (["--cluster", "four"], 2, "local:N"),
    (["--cluster", "local:2", "--scheduler", "tcp://127.0.0.1:1"], 2, "both were given"),
    (["--cluster", "local:2", "--workers", "4"], 2, "--workers applies only to a build on"),
])
def test_cli_bad_cluster_options(lee, home, args, code, text):
    result = run_cli("build", "ppmi", lee.files[0].path, "--name", "x", *args)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and text in lines[0]
    assert not (home / "x" / "vectors.h5").exists()


@pytest.mark.parametrize("shard_bytes, message", [
    (0, "shard_bytes must be >= 1 byte"), ("lots", "cannot read memory size 'lots'")])
def test_bad_shard_sizes_are_usage_errors_before_connecting(lee, shard_bytes, message):
    with pytest.raises(UsageError, match=message):  # the address would refuse: not reached
        dist.build_ppmi_svd_distributed(lee, scheduler="tcp://127.0.0.1:1",
                                        shard_bytes=shard_bytes)


def test_missing_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(EmbedkitError, match=r"pip install .* -e '\.\[distributed\]'"):
        dist.require_dask()


def test_token_lists_are_refused(client):
    with pytest.raises(EmbedkitError, match="reads files on the workers"):
        dist.build_ppmi_svd_distributed([["a", "b"]], client=client, dim=2)


def test_a_file_the_workers_cannot_see_is_an_error(client, tmp_path):
    path = tmp_path / "gone.txt"
    path.write_text("words the workers will never read\n")
    corpus = Corpus([path], CorpusConfig(format="lines"))
    path.unlink()  # planned here, missing when the worker reads it
    with pytest.raises(NotFoundError, match="same path"):
        dist.tokenize_distributed(client, corpus, TOKENS)


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archive_member_groups_from_gensim_texts(client, gensim_data, tmp_path, kind):
    import tarfile
    import zipfile

    names = ["lee.cor", "lee_background.cor", "pang_lee_polarity.cor", "alldata-id-10.txt",
             "para2para_text1.txt", "para2para_text2.txt", "crime-and-punishment.txt",
             "varembed_lee_subcorpus.cor"]
    archive = tmp_path / f"texts.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for name in names:
                out.write(gensim_data / name, f"texts/{name}")
    else:
        with tarfile.open(archive, "w:gz") as out:
            for name in names:
                out.add(gensim_data / name, f"texts/{name}")
    corpus = Corpus([archive], CorpusConfig())  # auto: each member one document
    config = CountConfig(window=4, weighting="dynamic", workers=1)
    shards, vocab, counts = cluster_counts(client, corpus, config, shard_bytes=20_000)
    assert len(shards.shards) >= 4 and all(s.members for s in shards.shards)
    assert sum(s["documents"] for s in shards.summaries) == len(names)
    ref_vocab, ref_counts = single_machine_counts(corpus, config)
    assert vocab.words == ref_vocab.words
    assert_identical(counts, ref_counts)
    summed = dist._summed_stats(shards)  # the member groups add up to the archive
    assert summed["members"] == corpus.stats.members == len(names)
    assert summed["input_bytes"] == corpus.stats.input_bytes > 0.95 * archive.stat().st_size


def test_a_corpus_without_words_names_its_files_and_what_to_check(client, tmp_path):
    """The cluster said only 'the corpus holds no tokens (empty files or nothing but
    markup?)': no file named, no hint, unlike the single-machine builder."""
    from embedkit.errors import InputFormatError

    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for build_with in (build.build_ppmi_svd, lambda *a, **k: dist.build_ppmi_svd_distributed(
            *a, client=client, **k)):
        with pytest.raises(InputFormatError) as err:
            build_with([empty], dim=2)
        assert str(empty) in str(err.value) and "--glob and --format" in str(err.value)


def test_an_unused_document_tag_is_said_on_a_cluster_too(client, gensim_data, caplog):
    """The workers' own warning goes nowhere (their logs are quiet): the client says it,
    as the single-machine build does."""
    corpus = Corpus([gensim_data / "lee.cor"], CorpusConfig(document_tag="doc"))
    with caplog.at_level("WARNING", logger="embedkit"):
        dist.build_ppmi_svd_distributed(corpus, client=client, dim=2, min_count=5)
    said = [r.getMessage() for r in caplog.records if "was not used" in r.getMessage()]
    assert said == ["document tag <doc> (--document-tag) was not used: no file was read as "
                    "XML or SGML (read as text); give --format xml or sgml if they are"]
