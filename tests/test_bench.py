"""The index benchmark suite and `--target-recall`, on real vectors shipped with gensim.

Structure only, never speed: the files exist, every method has points, the exact methods
(FAISS flat, numpy, gensim most_similar) agree with the ground truth, recall is a fraction,
the table has the thresholds. The tuning tests check the chosen efSearch/nprobe on fresh
held-out words that the index never saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedkit import bench
from embedkit.bench import bench_index, split_queries
from embedkit.bench_methods import PEERS
from embedkit.errors import EmbedkitError, InputFormatError, UsageError
from embedkit.formats import read_vectors
from embedkit.index import Index
from embedkit.tune import recall_at, tune_search_params
from tests.cli_helpers import run_cli

REPO = Path(__file__).resolve().parents[1]

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lee(gensim_data):
    """1,762 x 10 fastText vectors trained on the Lee corpus."""
    return read_vectors(gensim_data / "lee_fasttext.vec")


@pytest.fixture(scope="module")
def polarity(gensim_data):
    """1,694 x 100 fastText vectors trained on Pang & Lee's movie-review polarity data."""
    return read_vectors(gensim_data / "pang_lee_polarity_fasttext.vec")


@pytest.fixture(scope="module")
def smoke(lee, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results = bench_index(lee, queries=150, k=10, types=("flat", "hnsw", "ivf"), peers=PEERS,
                          out_dir=out, sizes=(500, None), quick=True, threads=1, dataset="lee")
    return results, out


def test_split_holds_queries_out_and_truth_is_exact(lee):
    split = split_queries(lee.matrix, 100, 10, seed=3)
    unit = lee.unit_matrix()
    assert len(split.base) == len(lee) - 100 - int((~unit.any(axis=1)).sum())
    # no query is an indexed point
    assert not (split.queries @ split.base.T > 1 - 1e-6).any()
    # ground truth against a dense numpy ranking of every indexed row
    sims = split.queries @ split.base.T
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    same = np.take_along_axis(sims, split.truth, 1) >= np.take_along_axis(sims, expected, 1) - 1e-6
    assert same.all()


def test_smoke_outputs(smoke):
    results, out = smoke
    for name in ("results.json", "results.md"):
        assert (out / name).stat().st_size > 0
    for name in ("recall_qps.png", "scaling.png"):
        assert (out / name).read_bytes()[:8] == PNG
    saved = json.loads((out / "results.json").read_text())
    keys = {"dataset", "machine", "methods", "summary", "targets", "skipped", "scaling"}
    assert keys <= set(saved)
    assert saved["dataset"]["queries"] == 150 and saved["dataset"]["k"] == 10
    assert saved["machine"]["threads_single"] == 1 and "faiss" in saved["machine"]


def test_every_method_has_valid_points(smoke):
    results, _ = smoke
    names = {run["method"] for run in results["methods"]}
    assert {"faiss-flat", "faiss-hnsw", "faiss-ivf", "hnswlib", "annoy",
            "gensim-most_similar", "numpy-bruteforce"} <= names
    for run in results["methods"]:
        assert run["points"], run["label"]
        assert run["build_seconds"] >= 0 and run["disk_bytes"] > 0
        for point in run["points"]:
            assert 0.0 <= point["recall1"] <= 1.0 and 0.0 <= point["recall10"] <= 1.0
            assert point["qps_single"] > 0 and point["qps_batch"] > 0
    exact = [r for r in results["methods"] if r["method"] in
             ("faiss-flat", "numpy-bruteforce", "gensim-most_similar")]
    for run in exact:  # three independent exact searches agree with the ground truth
        assert run["points"][0]["recall10"] > 0.999, run["label"]
    swept = next(r for r in results["methods"] if r["method"] == "faiss-ivf")["points"]
    assert [p["value"] for p in swept] == sorted(p["value"] for p in swept)
    assert swept[-1]["recall10"] > swept[0]["recall10"]  # more lists visited, more recall


def test_table_and_targets(smoke):
    results, out = smoke
    table = (out / "results.md").read_text()
    for threshold in ("0.90", "0.95", "0.99"):
        assert f"R@10>={threshold}" in table
    for row in results["summary"]:
        assert f"| {row['method']} |" in table
    assert results["targets"]["exact_batch_vs_gensim"]["ratio"] > 0
    assert "hnsw_vs_hnswlib_default" in results["targets"]
    assert {row["size"] for row in results["scaling"]} == {500, results["dataset"]["indexed"]}


def test_missing_peer_is_skipped_with_a_note(lee, tmp_path, monkeypatch):
    real = bench.peer_available
    monkeypatch.setattr(bench, "peer_available", lambda peer: peer != "annoy" and real(peer))
    results = bench_index(lee, queries=50, types=("flat",), peers=("annoy", "numpy"),
                          out_dir=tmp_path, sizes=None, quick=True, threads=1)
    assert [s["peer"] for s in results["skipped"]] == ["annoy"]
    assert {r["method"] for r in results["methods"]} == {"faiss-flat", "numpy-bruteforce"}
    assert "skipped annoy" in (tmp_path / "results.md").read_text()


def test_bad_arguments(lee, tmp_path):
    with pytest.raises(UsageError, match="unknown peer"):
        bench_index(lee, peers=("faiss2",), out_dir=tmp_path, sizes=None)
    with pytest.raises(UsageError, match="too few"):
        bench_index(lee, queries=len(lee), out_dir=tmp_path, sizes=None)
    with pytest.raises(UsageError, match=rf"k={len(lee)} .* smaller -k \(at most "
                                         rf"{len(lee) - 2}\)"):
        split_queries(lee.matrix, 10, len(lee))
    with pytest.raises(InputFormatError, match="2 non-zero rows: too few to benchmark"):
        split_queries(lee.matrix[:2], 1, 1)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        bench_index(lee, out_dir=tmp_path / "afile", sizes=None)


def _held_out(vectors, n, seed=1):
    """Index all but ``n`` random words; their vectors are fresh queries."""
    rng = np.random.default_rng(seed)
    held = rng.choice(len(vectors), n, replace=False)
    keep = np.setdiff1d(np.arange(len(vectors)), held)
    matrix = vectors.matrix
    return matrix[keep], matrix[held]


@pytest.mark.parametrize("kind, params, param", [
    ("hnsw", {"M": 8, "ef_construction": 20}, "ef_search"),
    ("ivf", {}, "nprobe"),
])
def test_target_recall_holds_on_fresh_held_out_words(polarity, kind, params, param):
    base, fresh = _held_out(polarity, 300)
    index = Index.build(base, kind, threads=1, **params)
    point = tune_search_params(index, base, 0.95, k=10, queries=600)
    assert point["param"] == param and point["recall"] >= 0.95
    tried = {t["value"]: t["recall"] for t in point["tried"]}
    assert all(r < 0.95 for v, r in tried.items() if v < point["value"])  # the smallest
    assert min(tried.values()) < 0.95  # the target was not met trivially
    assert index.manifest["query_params"][param] == point["value"]
    unit = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
    q = fresh / np.linalg.norm(fresh, axis=1, keepdims=True)
    truth = np.argsort(-(q @ unit.T), axis=1, kind="stable")[:, :10]
    found = index.search(fresh, 10).ids  # the stored default is now the tuned value
    assert recall_at(found, truth, 10) >= 0.95 - 0.03


def test_target_recall_raises_k_factor_of_a_refine_index(polarity):
    base, fresh = _held_out(polarity, 300)
    index = Index.build(base, "IVF16,PQ50x4fs,RFlat", threads=1, k_factor=1)
    point = tune_search_params(index, base, 0.95, k=10, queries=600)
    assert point["recall"] >= 0.95 and point["k_factor"] > 1  # 1 only re-sorts PQ answers
    assert index.manifest["query_params"] == {"nprobe": point["value"],
                                              "k_factor": point["k_factor"]}
    unit = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
    q = fresh / np.linalg.norm(fresh, axis=1, keepdims=True)
    truth = np.argsort(-(q @ unit.T), axis=1, kind="stable")[:, :10]
    assert recall_at(index.search(fresh, 10).ids, truth, 10) >= 0.95 - 0.03
    half = recall_at(index.search(fresh, 10, k_factor=max(1, point["k_factor"] // 4)).ids,
                     truth, 10)
    assert half < recall_at(index.search(fresh, 10).ids, truth, 10)


def test_refine_type_gives_one_curve_per_k_factor(polarity, tmp_path):
    results = bench_index(polarity, queries=150, k=10, types=("IVF16,PQ50x4fs,RFlat",),
                          peers=(), out_dir=tmp_path, sizes=None, threads=1)
    methods = results["methods"]
    assert [m["build_params"] for m in methods] == [{"k_factor": f} for f in (4, 8, 16, 32)]
    best = [max(p["recall10"] for p in m["points"]) for m in methods]
    assert best[0] < best[-1] and best[-1] >= 0.95  # deeper re-ranking: higher ceiling


@pytest.mark.parametrize("text, types", [
    ("flat,hnsw,ivf,ivfpq,sq8", ["flat", "hnsw", "ivf", "ivfpq", "sq8"]),
    ("flat,IVF64,PQ8x4fs,RFlat,hnsw", ["flat", "IVF64,PQ8x4fs,RFlat", "hnsw"]),
    ("IVF64,Flat,IVF32,PQ4,SQ8", ["IVF64,Flat", "IVF32,PQ4", "SQ8"]),
    ("OPQ16,IVF64,PQ16,HNSW32,RFlat", ["OPQ16,IVF64,PQ16", "HNSW32,RFlat"]),
    ("factory:IVF64,Flat,hnsw", ["factory:IVF64,Flat", "hnsw"]),
    ("PCA32,IVF16,SQ8; HNSW32", ["PCA32,IVF16,SQ8", "HNSW32"]),
    ("HNSW32,SQ8,flat", ["HNSW32,SQ8", "flat"]),  # a graph over SQ8 codes is one index
])
def test_types_option_keeps_factory_strings_whole(text, types):
    from embedkit.cli.bench_cmds import _types

    assert _types(text) == types


def test_results_record_seed_and_date_and_usage_errors_leave_no_folder(lee, tmp_path):
    results = bench_index(lee, queries=50, k=5, types=("HNSW16,Flat",), peers=(),
                          out_dir=tmp_path / "out", sizes=None, quick=True, threads=1, seed=3)
    assert results["dataset"]["seed"] == 3 and results["dataset"]["date"]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["dataset"]["seed"] == 3
    graph = results["methods"][0]
    assert graph["param"] == "ef" and min(p["value"] for p in graph["points"]) >= 10
    for bad in ({"types": ("bogus",)}, {"queries": 10**6}, {"types": ("HNSW0",)}):
        with pytest.raises(UsageError):
            bench_index(lee, out_dir=tmp_path / "never", sizes=None, **bad)
        assert not (tmp_path / "never").exists()


def test_unreachable_target_and_untunable_index(polarity):
    base = polarity.matrix
    pq = Index.build(base, "ivfpq", threads=1)
    with pytest.raises(EmbedkitError, match="below the target"):
        tune_search_params(pq, base, 0.999, queries=200)
    with pytest.raises(UsageError, match="no search parameter"):
        tune_search_params(Index.build(base, "flat"), base, 0.9)


@pytest.mark.parametrize("kind", ["flat", "sq8", "factory:PQ10"])
def test_target_recall_on_an_untunable_index_is_refused_before_building(gensim_data, home,
                                                                        monkeypatch, kind):
    vec = gensim_data / "pang_lee_polarity_fasttext.vec"
    assert run_cli("-q", "import", vec, "--name", "pl").exit_code == 0

    def no_build(*args, **kwargs):
        raise AssertionError("built an index only to refuse it")

    monkeypatch.setattr(Index, "build", no_build)
    args = ["--type", "factory", "--factory", kind[8:]] if ":" in kind else ["--type", kind]
    refused = run_cli("index", "pl", *args, "--target-recall", "0.9")
    assert refused.exit_code == 2 and "no search parameter to tune" in refused.stderr


def test_cli_target_recall_and_bench(gensim_data, home, tmp_path):
    vec = gensim_data / "pang_lee_polarity_fasttext.vec"
    assert run_cli("-q", "import", vec, "--name", "pl").exit_code == 0
    made = run_cli("index", "pl", "--type", "hnsw", "--M", "8", "--ef-construction", "20",
                   "--target-recall", "0.9", "--json")
    assert made.exit_code == 0, made.stderr
    manifest = json.loads(made.stdout)
    point = manifest["operating_point"]
    assert point["param"] == "ef_search" and point["recall"] >= 0.9 and point["k"] == 10
    saved = Index.load(home / "pl", "hnsw")  # later queries use the tuned value by default
    assert saved.manifest["query_params"]["ef_search"] == point["value"]
    assert saved.manifest["operating_point"]["queries"] == 169  # a tenth of the 1,694 rows

    bad = run_cli("index", "pl", "--type", "hnsw", "--index-name", "x", "--target-recall", "2")
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --target-recall")
    flat = run_cli("index", "pl", "--type", "flat", "--target-recall", "0.9")
    assert flat.exit_code == 2 and "no search parameter" in flat.stderr

    out = tmp_path / "b"
    out.mkdir()
    (out / "scaling.png").write_bytes(b"a plot from an earlier run over several sizes")
    ran = run_cli("bench", "index", "pl", "--queries", "100", "--types", "flat,hnsw",
                  "--peers", "numpy", "--sizes", "none", "--quick", "--threads", "1",
                  "-o", out, "--json")
    assert ran.exit_code == 0, ran.stderr
    summary = json.loads(ran.stdout)["summary"]
    assert [row["method"] for row in summary] == ["faiss-flat", "faiss-hnsw", "numpy-bruteforce"]
    assert (out / "recall_qps.png").exists() and not (out / "scaling.png").exists()
    table = run_cli("bench", "index", "pl", "--queries", "100", "--types", "flat",
                    "--peers", "numpy", "--sizes", "none", "--quick", "--threads", "1",
                    "-o", out).stdout.splitlines()
    flat_row = next(line.split() for line in table if line.startswith("faiss-flat"))
    assert flat_row[1].isdigit() and flat_row[4].isdigit()  # whole queries per second
    wrong = run_cli("bench", "index", "pl", "--peers", "nope", "-o", out)
    assert wrong.exit_code == 2 and "unknown peer 'nope'" in wrong.stderr


def test_suite_skips_missing_scripts_and_refuses_unknown_names():
    from embedkit.bench_suite import available, run_one, run_suite

    assert "index" in available()
    done = run_suite(names=["no_such_benchmark"])
    assert done == [{"name": "no_such_benchmark", "status": "skipped",
                     "note": "benchmarks/bench_no_such_benchmark.py does not exist yet"}]
    with pytest.raises(UsageError, match="no benchmark named 'nope'"):
        run_one("nope")


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "benchmarks").glob("bench_*.py")))
def test_benchmark_scripts_run_as_files_or_modules(script, tmp_path):
    """``python benchmarks/bench_x.py --help`` (from any folder) and ``python -m`` both print
    the script's description and stop, without starting a run."""
    path = REPO / "benchmarks" / script
    first_line = path.read_text().split('"""')[1].strip().splitlines()[0]
    for args, cwd in (([str(path)], tmp_path), (["-m", f"benchmarks.{path.stem}"], REPO)):
        done = subprocess.run([sys.executable, *args, "--help"], cwd=cwd, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-500:]
        assert first_line in done.stdout
    # a misspelt mode is refused: it used to fall through to the full run (which overwrites
    # the stored results)
    typo = subprocess.run([sys.executable, str(path), "--head-to-heda"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert typo.returncode == 2 and typo.stdout == ""
    assert typo.stderr.startswith("Error: unknown option '--head-to-heda'; this script takes")
    assert "--quick" in typo.stderr


def test_ivf_sweep_reaches_every_list_on_a_small_set(lee):
    """The quick sweep (nprobe 1, 8, 64, 512) on a set with 7 lists kept nprobe 1 only:
    the curve must end at nprobe = nlist (exact), where IVF's recall is complete."""
    from embedkit.bench_methods import faiss_methods, nprobe_sweep

    method = faiss_methods("ivf", 300, quick=True)[0]
    method.build(lee.unit_matrix()[:300], 1)
    nlist = method.index.manifest["params"]["nlist"]
    assert nlist < 8 and method.values == (1, nlist)
    assert nprobe_sweep((1, 8, 64, 512), 1000) == (1, 8, 64, 512)
    assert nprobe_sweep((1, 8, 64, 512), 64) == (1, 8, 64)


def test_exact_methods_keep_full_recall_when_vectors_are_duplicated(lee, tmp_path):
    """Duplicate rows tie; which copy an exact method returns first must not cost recall
    (it dropped numpy/gensim below 0.999 and with them the exact-vs-gensim target)."""
    matrix = lee.matrix[:400].copy()
    matrix[200:260] = np.repeat(matrix[:30], 2, axis=0)  # 30 words, each twice more
    results = bench_index(matrix, queries=60, k=10, types=("flat",), peers=("gensim", "numpy"),
                          out_dir=tmp_path, sizes=(), quick=True, threads=1)
    for run in results["methods"]:
        assert run["points"][0]["recall10"] == 1.0, run["label"]
    assert "exact_batch_vs_gensim" in results["targets"]


def test_tie_recall_counts_an_equal_copy_and_nothing_worse():
    base = np.array([[1, 0], [1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    split = bench.Split(base, np.array([[1, 0]], np.float32), np.array([[0, 1]]), np.array([9]))
    assert bench.tie_recall(np.array([[1, 0]]), split, 2) == 1.0
    assert bench.tie_recall(np.array([[0, 2]]), split, 2) == 0.5
    assert bench.tie_recall(np.array([[0, -1]]), split, 2) == 0.5


def test_scaling_size_below_k_is_refused_before_the_run(lee, tmp_path, monkeypatch):
    """`--sizes 5` with k=10 failed only after the whole main run, leaving an empty folder."""
    monkeypatch.setattr(bench, "run_method", lambda *a, **k: pytest.fail("ran before checking"))
    with pytest.raises(UsageError, match=r"--sizes 5: .*k=10"):
        bench_index(lee, queries=50, k=10, types=("flat",), peers=("numpy",),
                    out_dir=tmp_path / "out", sizes=(5, None), quick=True, threads=1)
    assert not (tmp_path / "out").exists()
    import embedkit

    store = embedkit.save(lee, tmp_path / "lee.h5")
    result = run_cli("bench", "index", str(store), "-o", str(tmp_path / "cli"),
                     "--sizes", "5", "--types", "flat", "--peers", "numpy")
    assert result.exit_code == 2 and result.stderr.count("Error:") == 1
    assert "--sizes 5" in result.stderr
    assert not (tmp_path / "cli").exists()


def test_interrupted_report_leaves_the_previous_results_whole(lee, tmp_path, monkeypatch):
    """Ctrl-C while the plots render used to leave a new results.json and results.md beside
    the previous run's plots: every file is now rendered before any is written."""
    from matplotlib.figure import Figure

    out = tmp_path / "out"
    kwargs = dict(queries=50, k=5, types=("flat",), peers=("numpy",), out_dir=out,
                  sizes=(100, None), quick=True, threads=1)
    bench_index(lee, seed=1, **kwargs)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"results.json", "results.md", "recall_qps.png", "scaling.png"}

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench_index(lee, seed=2, **kwargs)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_benchmark_results_are_written_whole_or_not_at_all(tmp_path):
    """A benchmark script's .json and .md were plain writes, the .json first: an error or
    Ctrl-C before the .md was written left a new .json beside the previous run's table."""
    from benchmarks.common import write_results

    write_results("bench_x", {"n": 1}, "| a |\n", out_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    class Interrupting:
        def __format__(self, spec):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_results("bench_x", {"n": 2}, Interrupting(), out_dir=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    write_results("bench_x", {"n": 2}, "| b |\n", out_dir=tmp_path)
    assert json.loads((tmp_path / "bench_x.json").read_text())["n"] == 2
    assert (tmp_path / "bench_x.md").read_text() == "# bench_x\n\n| b |\n"


def test_benchmark_script_names_a_missing_set_in_one_line():
    """`python -m benchmarks.bench_index --set TYPO` printed a traceback (and first made the
    fastText set when the workspace had no large set: minutes of work before failing)."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_index", "--head-to-head",
                           "--set", "no-such-set-here"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: --set no-such-set-here: ")


def test_suite_copy_takes_this_runs_files_inside_result_folders(tmp_path, monkeypatch):
    """`bench all -o DIR` skipped `bench_index/<set>/` (results.md, the plots) whenever the
    folder already existed: its own mtime does not change when files in it are rewritten."""
    import os
    import time

    from embedkit import bench_suite

    results = tmp_path / "benchmarks" / "results"
    folder = results / "bench_index" / "lee"
    folder.mkdir(parents=True)
    (folder / "old.md").write_text("an earlier run")
    os.utime(folder / "old.md", (0, 0))
    since = time.time()
    (folder / "recall_qps.png").write_bytes(PNG)
    (results / "bench_index_quick.json").write_text("{}")
    for old in (folder, folder.parent):  # folders made by an earlier run
        os.utime(old, (0, 0))
    monkeypatch.setattr(bench_suite, "benchmarks_dir", lambda: tmp_path / "benchmarks")
    bench_suite._copy_results(tmp_path / "out", ["index"], since)
    copied = tmp_path / "out" / "bench_index" / "lee"
    assert (copied / "recall_qps.png").read_bytes() == PNG
    assert not (copied / "old.md").exists()
    assert (tmp_path / "out" / "bench_index_quick.json").exists()


def test_exact_vs_gensim_ratio_takes_gensim_at_its_best_thread_count():
    """gensim has no batch call, so its 'batched' figure is one word per call with every
    core allowed; its BLAS threads made that 2x (stored fastText run: 35 vs 68 QPS) to 30x
    slower than one thread, and the exact-vs-gensim ratio was inflated by as much."""
    from embedkit.bench_report import targets

    def run(method, single_wall, batch):
        point = {"param": None, "value": None, "recall1": 1.0, "recall10": 1.0,
                 "qps_single": single_wall, "qps_single_wall": single_wall, "qps_batch": batch}
        return {"method": method, "label": method, "default": True, "points": [point],
                "build_seconds": 0.0, "memory_bytes": 0, "disk_bytes": 0}

    results = {"dataset": {"k": 10}, "methods": [run("faiss-flat", 500, 1450),
                                                 run("gensim-most_similar", 680, 350)]}
    found = targets(results)["exact_batch_vs_gensim"]
    assert found["gensim_per_word_qps"] == 680 and found["gensim_threads"] == 1
    assert found["ratio"] == pytest.approx(1450 / 680)
    results["methods"][1] = run("gensim-most_similar", 300, 350)
    found = targets(results)["exact_batch_vs_gensim"]
    assert found["gensim_per_word_qps"] == 350 and found["gensim_threads"] == "all"


def test_an_interrupted_suite_lists_what_its_scripts_replaced(tmp_path, monkeypatch):
    """The scripts write in their own processes, so an interrupted `bench all` said
    'nothing was changed' after replacing result files and workspace sets."""
    from embedkit import bench_suite

    repo = tmp_path / "repo"
    (repo / "benchmarks" / "results").mkdir(parents=True)
    old = repo / "benchmarks" / "results" / "bench_old.json"
    old.write_text("{}")
    os.utime(old, (1, 1))  # written long before the run: not listed
    monkeypatch.setattr(bench_suite, "REPO", repo)
    monkeypatch.setattr(bench_suite, "benchmarks_dir", lambda: repo / "benchmarks")
    monkeypatch.setattr(bench_suite, "available", lambda: ["first", "second"])

    def run_one(name, quick=False):
        if name == "second":
            raise KeyboardInterrupt
        (repo / "benchmarks" / "results" / "bench_first.json").write_text("{}")
        (repo / "indexes" / "s").mkdir(parents=True)
        (repo / "indexes" / "s" / "vectors.h5").write_bytes(b"x")
        (repo / "indexes" / "s" / ".vectors.h5.k3j.tmp").write_bytes(b"x")  # killed midway
        return {"name": name, "status": "ok"}

    monkeypatch.setattr(bench_suite, "run_one", run_one)
    result = run_cli("bench", "all")
    assert result.exit_code == 130
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: interrupted after writing ") and "nothing" not in line
    assert "bench_first.json" in line and "vectors.h5" in line and "bench_old" not in line
    assert ".tmp" not in line
