"""Index: every type against exact numpy search on real vectors, persistence, staleness."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from embedkit import store, workspace
from embedkit.errors import (
    DimensionMismatchError,
    NameExistsError,
    StaleIndexError,
    StoreError,
    UsageError,
)
from embedkit.index import Index, factory_string
from embedkit.vectors import Vectors, unit_rows
from tests.search_fixtures import DICKENS, as_vectors, exact_top, keyed_vectors, perturbed, recall


@pytest.fixture(scope="module")
def lee(gensim_data) -> Vectors:
    return as_vectors(keyed_vectors(str(gensim_data / "lee_fasttext.vec")))


@pytest.fixture(scope="module")
def dickens(shared_data) -> Vectors:
    return as_vectors(keyed_vectors(str(shared_data / DICKENS)))


@pytest.fixture(scope="module")
def dickens_index(dickens):
    """Indexes over the Dickens set with default parameters, built once per type."""
    built: dict[str, Index] = {}

    def get(kind: str) -> Index:
        if kind not in built:
            built[kind] = Index.build(dickens, kind)
        return built[kind]

    return get


@pytest.fixture(scope="module")
def dickens_queries(dickens):
    """Indexed words and perturbed (held-out-like) queries with their exact top-10."""
    unit = unit_rows(dickens.matrix)
    rng = np.random.default_rng(1)
    queries = np.vstack([unit[rng.choice(len(unit), 300, replace=False)], perturbed(unit, 300)])
    return queries, exact_top(unit, queries, 10)


def test_exact_index_equals_numpy_on_every_lee_word(lee):
    unit = unit_rows(lee.matrix)
    found = Index.build(lee, "flat").search(lee.matrix, 10)
    truth = exact_top(unit, unit, 10)
    assert np.array_equal(found.ids, truth)
    expected = np.take_along_axis(unit @ unit.T, truth, 1)
    np.testing.assert_allclose(found.scores, expected, rtol=1e-5, atol=1e-6)


def test_exact_index_equals_numpy_and_faiss_on_dickens(dickens, dickens_index, dickens_queries):
    queries, truth = dickens_queries
    found = dickens_index("flat").search(queries, 10)
    assert np.array_equal(found.ids, truth)
    reference = faiss.IndexFlatIP(dickens.dim)  # faiss's own exact search, an independent path
    reference.add(unit_rows(dickens.matrix))
    _, faiss_ids = reference.search(queries, 10)
    assert recall(found.ids, faiss_ids) == 1.0


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_defaults_reach_recall_95_on_dickens(dickens_index, dickens_queries, kind):
    queries, truth = dickens_queries
    index = dickens_index(kind)
    assert recall(index.search(queries[:300], 10).ids, truth[:300]) >= 0.95  # indexed words
    assert recall(index.search(queries[300:], 10).ids, truth[300:]) >= 0.95  # perturbed


@pytest.mark.parametrize("kind, params, floor", [
    ("hnsw", {}, 0.95), ("ivf", {}, 0.95), ("sq8", {}, 0.9), ("factory:IVF16,Flat", {}, 0.95),
    ("ivfpq", {}, 0.25),  # 2 sub-quantisers of 5 bits for 10 dims: coarse, but far from random
    ("ivfpq", {"pq_m": 10, "nbits": 6}, 0.8),  # 6 bits per dimension: much closer
])
def test_every_type_against_numpy_on_lee(lee, kind, params, floor):
    unit = unit_rows(lee.matrix)
    queries = np.vstack([unit[::4], perturbed(unit, 200)])
    index = Index.build(lee, kind, **params)
    assert recall(index.search(queries, 10).ids, exact_top(unit, queries, 10)) >= floor


def test_search_parameters_trade_recall_for_work(dickens, dickens_queries):
    queries, truth = dickens_queries
    ivf = Index.build(dickens, "ivf", nlist=128)
    low = recall(ivf.search(queries, 10, nprobe=1).ids, truth)
    high = recall(ivf.search(queries, 10, nprobe=128).ids, truth)
    assert low < 0.9 and high == 1.0  # nprobe = nlist visits every list: exact
    assert ivf.manifest["params"]["nlist"] == 128


def test_refine_k_factor_trades_work_for_recall_and_is_stored(dickens, dickens_queries, home):
    queries, truth = dickens_queries
    unit = unit_rows(dickens.matrix)
    index = Index.build(dickens, "IVF64,PQ25x4fs,RFlat", nprobe=64)  # every list: PQ limits
    assert index.manifest["query_params"] == {"nprobe": 64, "k_factor": 4}
    one = recall(index.search(queries, 10, k_factor=1).ids, truth)
    many = index.search(queries, 10, k_factor=32)
    assert one < 0.8 and recall(many.ids, truth) >= 0.95 and not index.is_approximate_scores
    exact = np.take_along_axis(queries @ unit.T, many.ids, 1)  # re-ranked: true cosines
    np.testing.assert_allclose(many.scores, exact, rtol=1e-5, atol=1e-6)
    default = recall(index.search(queries, 10).ids, truth)
    assert one < default <= recall(many.ids, truth)  # the stored 4 lies in between
    restricted = index.search(queries, 10, k_factor=32, restrict=2000)
    assert recall(restricted.ids, exact_top(unit[:2000], queries, 10)) >= 0.95
    stored = Index.build(dickens, "IVF64,PQ25x4fs,RFlat", nprobe=64, k_factor=32)
    stored.save(home, "rflat")
    again = Index.load(home, "rflat")
    assert again.manifest["query_params"]["k_factor"] == 32
    np.testing.assert_array_equal(again.search(queries, 10).ids, many.ids)
    with pytest.raises(UsageError, match="refine"):
        Index.build(dickens, "ivf", nlist=16).search(queries, 10, k_factor=2)
    with pytest.raises(UsageError, match="k_factor"):
        index.search(queries, 10, k_factor=0)


def test_k_above_the_search_beam_still_gives_k_answers(dickens, caplog):
    queries = unit_rows(dickens.matrix[:20])
    hnsw = Index.build(dickens, "hnsw", ef_search=16)
    found = hnsw.search(queries, 200)
    assert (found.ids >= 0).all()  # the beam is widened to k
    ivf = Index.build(dickens, "ivf", nlist=256)
    with caplog.at_level("WARNING", logger="embedkit.index"):
        short = ivf.search(queries, 200, nprobe=1)
    assert (short.ids[:, -1] < 0).any() and "fewer than 200 neighbours" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="embedkit.index"):
        ivf.search(queries, 10, nprobe=64)
    assert "fewer than" not in caplog.text


def test_short_neighbour_lists_are_counted_in_the_words_asked_for(dickens, caplog):
    """neighbors() searches k + 1 rows (the word itself is dropped), or more to re-rank a
    quantised index; its warning speaks of the k neighbours asked for, per query word."""
    from embedkit.query import neighbors

    words = dickens.words[:20]
    for kind, options in (("ivf", {"nlist": 256}), ("ivfpq", {"nlist": 256, "pq_m": 10})):
        index = Index.build(dickens, kind, **options)
        caplog.clear()
        with caplog.at_level("WARNING", logger="embedkit"):
            found = neighbors(dickens, words, k=200, index=index, nprobe=1)
        short = sum(len(answer) < 200 for answer in found.values())
        assert short and f"{short} of 20 query words got fewer than 200 neighbours" in caplog.text
        assert "fewer than 201" not in caplog.text and "2000" not in caplog.text
        assert index.warn_short  # switched back on
        caplog.clear()
        with caplog.at_level("WARNING", logger="embedkit"):
            complete = neighbors(dickens, words, k=10, index=index, nprobe=256)
        assert all(len(answer) == 10 for answer in complete.values())
        assert "fewer than" not in caplog.text


@pytest.mark.parametrize("restrict", [300, 2000])
def test_restrict_searches_only_the_most_frequent_rows(dickens, dickens_index, dickens_queries,
                                                       restrict):
    queries, _ = dickens_queries
    unit = unit_rows(dickens.matrix)
    truth = exact_top(unit[:restrict], queries, 10)
    exact = dickens_index("flat").search(queries, 10, restrict=restrict)
    assert np.array_equal(exact.ids, truth)
    for kind in ("hnsw", "ivf", "sq8"):
        found = dickens_index(kind).search(queries, 10, restrict=restrict)
        assert found.ids.max() < restrict and (found.ids >= 0).all()
        assert recall(found.ids, truth) >= 0.95


def test_batched_exact_search_over_many_blocks_equals_numpy(lee, monkeypatch):
    """Query chunks and row blocks (made small here) join into the dense answer, with
    blocked rows, a subset's id map, and k up to the number of rows."""
    import embedkit.index as index_module

    monkeypatch.setattr(index_module, "_QUERY_CHUNK", 40)
    monkeypatch.setattr(index_module, "_SCORE_BYTES", 40 * 1024 * 4)  # 1,024-row blocks
    unit = unit_rows(lee.matrix)
    rows = np.arange(0, len(unit), 2)  # a subset: ids map back to the full set
    blocked = np.array([0, 2, 1000, 1001])
    queries = unit[:150]
    dense = queries @ unit[rows].T
    dense[:, np.isin(rows, blocked)] = -np.inf
    for k in (10, len(rows)):
        found = index_module.exact_search(unit[rows], queries, k, blocked, rows)
        order = np.lexsort((np.broadcast_to(np.arange(len(rows)), dense.shape), -dense))[:, :k]
        expected = np.where(np.isfinite(np.take_along_axis(dense, order, 1)), rows[order], -1)
        assert np.array_equal(found.ids, expected)
        np.testing.assert_allclose(found.scores[expected >= 0],
                                   np.take_along_axis(dense, order, 1)[expected >= 0],
                                   rtol=1e-5, atol=1e-6)
        assert np.isneginf(found.scores[expected < 0]).all()


def test_zero_rows_never_match(lee):
    matrix = lee.matrix.copy()
    matrix[[3, 50, 700]] = 0
    vectors = Vectors(lee.words, matrix)
    queries = unit_rows(lee.matrix[:100])
    for kind in ("flat", "hnsw", "ivf", "sq8"):
        index = Index.build(vectors, kind)
        ids = index.search(queries, 20).ids
        assert not np.isin(ids, [3, 50, 700]).any(), kind
        assert index.manifest["zero_rows"] == [3, 50, 700]


def test_info_counts_an_index_zero_rows_instead_of_listing_them(lee, tmp_path):
    from embedkit import store, workspace

    matrix = lee.matrix.copy()
    matrix[[3, 50, 700]] = 0
    path = store.save(Vectors(lee.words, matrix), workspace.target_path("z", tmp_path))
    Index.build(store.load(path), "flat").save(path.parent, "flat")
    (described,) = workspace.describe("z", tmp_path)["indexes"]
    assert described["zero_rows"] == 3
    assert Index.load(path.parent, "flat").manifest["zero_rows"] == [3, 50, 700]  # kept


def test_k_equal_to_size_pads_nothing_and_restrict_pads(lee):
    index = Index.build(lee, "flat")
    full = index.search(lee.matrix[:2], len(lee))
    assert (full.ids >= 0).all() and sorted(full.ids[0]) == list(range(len(lee)))
    small = index.search(lee.matrix[:2], 8, restrict=5)
    assert (small.ids[:, 5:] == -1).all() and np.isneginf(small.scores[:, 5:]).all()


def test_friendly_names_map_to_factory_strings():
    assert factory_string("flat", 10_000, 300) == "Flat"
    assert factory_string("hnsw", 10_000, 300, M=16) == "HNSW16"
    assert factory_string("ivf", 10_000, 300) == "IVF256,Flat"  # 10_000 // 39 caps 4*sqrt(n)
    assert factory_string("ivf", 1_000_000, 300) == "IVF4000,Flat"
    assert factory_string("ivfpq", 1_000_000, 300) == "IVF4000,PQ75x8"
    assert factory_string("ivfpq", 1_000_000, 300, pq_m=30, nbits=6) == "IVF4000,PQ30x6"
    assert factory_string("factory:OPQ16,IVF64,PQ16", 1000, 64) == "OPQ16,IVF64,PQ16"
    assert factory_string("IVF1024,PQ16", 1000, 64) == "IVF1024,PQ16"


@pytest.mark.parametrize("call, error", [
    (lambda idx: idx.search(np.zeros((2, 7), np.float32), 5), DimensionMismatchError),
    (lambda idx: idx.search(np.zeros((0, 10), np.float32), 5), UsageError),
    (lambda idx: idx.search(np.ones((1, 10), np.float32), 0), UsageError),
    (lambda idx: idx.search(np.ones((1, 10), np.float32), 10_000), UsageError),
    (lambda idx: idx.search(np.ones((1, 10), np.float32), 3, restrict=0), UsageError),
])
def test_bad_queries_raise_clear_errors(lee, call, error):
    with pytest.raises(error) as info:
        call(Index.build(lee, "flat"))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "sq8"])
def test_non_finite_or_badly_shaped_queries_are_refused(lee, kind):
    """A NaN or infinite query came back as 'no neighbours' (-1 ids; NaN scores from the flat
    index, against the -inf contract; a 'visit more lists' warning from the others), and a
    3-D array was reported as 'dimension 10, index built with dimension 10'."""
    index = Index.build(lee, kind)
    queries = unit_rows(lee.matrix[:3])
    for bad in (np.nan, np.inf):
        queries[1, 4] = bad
        with pytest.raises(UsageError, match="query 1 holds NaN or infinite values"):
            index.search(queries, 3)
    with pytest.raises(DimensionMismatchError, match=r"shape \(1, 2, 10\)"):
        index.search(lee.matrix[None, :2], 3)


@pytest.mark.parametrize("kind, params", [("bogus", {}), ("ivfpq", {"pq_m": 3}),
                                          ("hnsw", {"M": -1}), ("factory:NotAnIndex", {})])
def test_bad_index_specs_raise_usage_errors(lee, kind, params):
    with pytest.raises(UsageError):
        Index.build(lee, kind, **params)


@pytest.mark.parametrize("kind, params, message", [
    ("hnsw", {"M": 1}, "M must be at least 2"),
    ("HNSW1", {}, "HNSW1 in factory string"),
    ("HNSW1_SQ8", {}, "HNSW1 in factory string"),
    ("IVF4_HNSW1,Flat", {}, "HNSW1 in factory string"),  # the coarse quantiser, after '_'
    ("IVF4_HNSW0,Flat", {}, "HNSW0 in factory string"),
    ("NSG4,Flat", {}, "NSG4 in factory string 'NSG4,Flat': the number must be at least 5"),
])
def test_graph_sizes_that_crash_or_hang_faiss_are_refused(kind, params, message):
    """FAISS segfaults on HNSW with one link per node (--M 1, HNSW1, IVF4_HNSW1) and never
    finishes an NSG graph of degree 4 or less; these are refused before FAISS sees them."""
    with pytest.raises(UsageError, match=message):
        factory_string(kind, 1000, 10, **params)


def test_graph_sizes_just_large_enough_build(lee):
    for kind in ("HNSW2", "IVF4_HNSW2,Flat", "NSG5,Flat"):
        found = Index.build(lee, kind).search(lee.matrix[:2], 3).ids
        assert (found >= 0).all(), kind


def _saved_set(home, vectors: Vectors, name: str = "lee") -> Vectors:
    store.save(vectors, workspace.target_path(name, home, force=True))
    return workspace.open_set(name, home)


def test_round_trip_keeps_results_and_writes_manifest(home, lee):
    stored = _saved_set(home, lee)
    folder = home / "lee"
    queries = perturbed(unit_rows(lee.matrix), 50)
    for kind in ("flat", "hnsw", "ivfpq"):
        built = Index.build(stored, kind, **({"ef_search": 64} if kind == "hnsw" else {}))
        path = built.save(folder)
        loaded = Index.load(folder, kind, vectors=stored)
        again, before = loaded.search(queries, 5), built.search(queries, 5)
        assert np.array_equal(again.ids, before.ids)
        np.testing.assert_allclose(again.scores, before.scores, rtol=1e-6)
        manifest = json.loads(path.with_suffix(".json").read_text())
        assert manifest["fingerprint"] == stored.metadata["fingerprint"]
        assert manifest["size"] == len(lee) and manifest["dim"] == lee.dim
        assert manifest["bytes"] == path.stat().st_size
    assert Index.load(folder, "hnsw").manifest["query_params"] == {"ef_search": 64}
    listed = {i["name"]: i for i in workspace.describe("lee", home)["indexes"]}
    assert set(listed) == {"flat", "hnsw", "ivfpq"}
    assert not any(i["stale"] for i in listed.values())
    assert not list(folder.glob(".*.tmp"))


def test_existing_index_is_kept_unless_overwritten(home, lee, monkeypatch):
    stored = _saved_set(home, lee)
    Index.build(stored, "flat").save(home / "lee")
    with pytest.raises(NameExistsError):
        Index.build(stored, "flat").save(home / "lee", overwrite=False)
    before = (home / "lee" / "flat.faiss").read_bytes()

    def broken(_index, path):
        Path(path).write_bytes(b"half an index")
        raise MemoryError("simulated crash while writing")

    monkeypatch.setattr(faiss, "write_index", broken)
    with pytest.raises(MemoryError):
        Index.build(stored, "hnsw", name="flat").save(home / "lee")
    assert (home / "lee" / "flat.faiss").read_bytes() == before
    assert not list((home / "lee").glob(".*.tmp"))


def test_ctrl_c_while_saving_never_splits_index_and_manifest(home, lee, monkeypatch):
    """A Ctrl-C landing after the .faiss was renamed but before the .json was left the new
    index beside the old manifest: the existing index then failed to load as 'corrupt'."""
    import os
    import signal

    from embedkit import atomic
    from embedkit.cli import _on_signal

    stored = _saved_set(home, lee)
    Index.build(stored, "hnsw").save(home / "lee")
    fsync = atomic.fsync_path

    def ctrl_c_at_the_manifest(path):
        if ".hnsw.json." in str(path):
            os.kill(os.getpid(), signal.SIGINT)
        fsync(path)

    monkeypatch.setattr(atomic, "fsync_path", ctrl_c_at_the_manifest)
    previous = signal.signal(signal.SIGINT, _on_signal)  # the CLI's handler
    try:
        with pytest.raises(KeyboardInterrupt):
            Index.build(stored, "hnsw", M=8).save(home / "lee")
    finally:
        signal.signal(signal.SIGINT, previous)
    loaded = Index.load(home / "lee", "hnsw", vectors=stored)  # old or new, but whole
    assert loaded.manifest["params"]["M"] == hnsw_m_of(loaded)
    assert not list((home / "lee").glob(".*.tmp"))


def hnsw_m_of(index: Index) -> int:
    return faiss.downcast_index(index.faiss_index).hnsw.nb_neighbors(1)


def test_stale_index_is_refused_after_the_set_changes(home, lee):
    stored = _saved_set(home, lee)
    Index.build(stored, "hnsw").save(home / "lee")
    changed = Vectors(lee.words, lee.matrix * np.float32(1.5) + np.float32(0.01))
    fresh = _saved_set(home, changed)  # re-save the set: new fingerprint
    for call in (lambda: Index.load(home / "lee", "hnsw"),
                 lambda: Index.load(home / "lee", "hnsw", vectors=fresh)):
        with pytest.raises(StaleIndexError, match="rebuild with `embedkit index lee"):
            call()
    assert workspace.describe("lee", home)["indexes"][0]["stale"] is True


def test_an_index_of_a_derived_set_is_not_taken_for_the_whole_set(home, lee):
    """top/subset copied the store's fingerprint, so an index of 100 rows loaded silently
    against the whole set and answered with wrong words."""
    stored = _saved_set(home, lee)
    small = stored.top(100)
    assert "fingerprint" not in small.metadata
    Index.build(small, "flat").save(home / "small")
    with pytest.raises(StaleIndexError, match="holds 100 x .* the set given has 1762"):
        Index.load(home / "small", "flat", vectors=stored)
    assert len(Index.load(home / "small", "flat", vectors=small)) == 100
    # the same size, other words or rows, no fingerprint on either side: the sampled
    # words and rows tell them apart
    reordered = stored.subset(list(stored.words)[::-1])
    Index.build(reordered, "flat").save(home / "reordered")
    with pytest.raises(StaleIndexError, match="built from another set of 1762 words"):
        Index.load(home / "reordered", "flat", vectors=stored)
    assert len(Index.load(home / "reordered", "flat", vectors=reordered.normalized())) == 1762


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_index_file_gives_a_clear_error(home, lee, damage):
    stored = _saved_set(home, lee)
    path = Index.build(stored, "ivf").save(home / "lee")
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not an index" * 100,
                      "empty": b""}[damage])
    with pytest.raises(StoreError, match="truncated or corrupt.*rebuild"):
        Index.load(home / "lee", "ivf")


def test_missing_index_lists_the_ones_there(home, lee):
    stored = _saved_set(home, lee)
    Index.build(stored, "flat").save(home / "lee")
    with pytest.raises(Exception, match="no index 'hnsw'.*flat"):
        Index.load(home / "lee", "hnsw")


def test_index_replaced_by_another_of_the_same_shape_is_refused(home, lee):
    """An IVF file copied over an HNSW index holds as many rows of the same dimension: only
    its size tells it from the file the manifest describes."""
    stored = _saved_set(home, lee)
    hnsw = Index.build(stored, "hnsw").save(home / "lee")
    ivf = Index.build(stored, "ivf").save(home / "lee")
    hnsw.write_bytes(ivf.read_bytes())
    with pytest.raises(StoreError, match="truncated or corrupt.*manifest says.*rebuild"):
        Index.load(home / "lee", "hnsw")
    assert Index.load(home / "lee", "ivf").factory.startswith("IVF")


def test_factory_string_that_refuses_plain_add_is_a_usage_error(lee):
    with pytest.raises(UsageError, match="IDMap,Flat.*add_with_ids.*without IDMap"):
        Index.build(lee, "IDMap,Flat")


def test_training_warnings_are_ours_and_only_when_they_help(lee, capfd, caplog):
    """FAISS prints its own 'WARNING clustering' line per PQ sub-quantiser; embedkit says it
    once in its log. One IVF list (the default on a tiny set) needs no warning at all."""
    with caplog.at_level("WARNING", logger="embedkit"):
        Index.build(lee.matrix[:20], "ivf")
    assert "IVF lists" not in caplog.text
    with caplog.at_level("WARNING", logger="embedkit"):
        Index.build(lee.matrix[:300], "IVF4,PQ5x6")
    assert "WARNING clustering" not in capfd.readouterr().err
    assert caplog.text.count("PQ codebooks of 64 centroids on 300 vectors") == 1


def test_plain_pq_index_skips_polysemous_training(lee):
    """FAISS's IndexPQ trains a polysemous code ordering by default (for Hamming filtering,
    never used here): seconds to minutes of a build for nothing."""
    index = Index.build(lee, "PQ5x4")
    assert faiss.downcast_index(index.faiss_index).do_polysemous_training is False
