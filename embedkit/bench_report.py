"""Reading a benchmark run: best QPS per recall threshold, the issue's target ratios, the
Markdown table and the recall-QPS and scaling plots (matplotlib, Agg backend).

results (from :func:`embedkit.bench.bench_index`) ──► summary rows + targets
──► results.json, results.md, recall_qps.png, scaling.png (each written atomically)
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embedkit.atomic import deferred_signals
from embedkit.index import atomic_write_bytes
from embedkit.units import human_bytes as _human_bytes


def best_point(methods: list[dict], name: str, threshold: float, k: int,
               qps: str = "qps_single", only_default: bool = False) -> dict | None:
    """The fastest point (by ``qps``) of method ``name`` with recall@k >= threshold."""
    best = None
    for run in methods:
        if run["method"] != name or (only_default and not run["default"]):
            continue
        for point in run["points"]:
            if point[f"recall{k}"] >= threshold and (best is None or point[qps] > best[qps]):
                best = dict(point, label=run["label"], build_seconds=run["build_seconds"],
                            memory_bytes=run["memory_bytes"], disk_bytes=run["disk_bytes"])
    return best


def summary(results: dict, thresholds: Sequence[float]) -> list[dict]:
    """One row per method: best single-thread QPS at each recall@k threshold, and the
    batched QPS, build time and bytes of the configuration that is best at the middle one."""
    k = results["dataset"]["k"]
    methods = results["methods"]
    rows = []
    for name in dict.fromkeys(run["method"] for run in methods):
        row: dict[str, Any] = {"method": name}
        for t in thresholds:
            point = best_point(methods, name, t, k)
            row[f"qps@{t:.2f}"] = point["qps_single"] if point else None
        middle = thresholds[len(thresholds) // 2]
        chosen = best_point(methods, name, middle, k) or _default_run(methods, name)
        batch = best_point(methods, name, middle, k, "qps_batch")
        row.update(batch_qps=batch["qps_batch"] if batch else None,
                   config=_config(chosen), build_seconds=chosen["build_seconds"],
                   memory_bytes=chosen["memory_bytes"], disk_bytes=chosen["disk_bytes"],
                   max_recall=max(p[f"recall{k}"] for run in methods if run["method"] == name
                                  for p in run["points"]))
        rows.append(row)
    return rows


def _default_run(methods: list[dict], name: str) -> dict:
    runs = [run for run in methods if run["method"] == name]
    return next((run for run in runs if run["default"]), runs[0])


def _config(entry: dict) -> str:
    label = entry["label"]
    if entry.get("param") and entry.get("value") is not None:
        return f"{label} {entry['param']}={entry['value']}"
    return label


def targets(results: dict, recall_target: float = 0.95) -> dict[str, Any]:
    """The issue's ratios: FAISS HNSW (embedkit's default build) vs hnswlib, single-threaded
    at recall@k >= 0.95; exact batched search vs gensim ``most_similar`` per word."""
    k = results["dataset"]["k"]
    methods = results["methods"]
    out: dict[str, Any] = {}
    ours = best_point(methods, "faiss-hnsw", recall_target, k, only_default=True)
    for key, only_default in (("hnsw_vs_hnswlib_default", True), ("hnsw_vs_hnswlib_best", False)):
        theirs = best_point(methods, "hnswlib", recall_target, k, only_default=only_default)
        if ours and theirs:
            out[key] = {"faiss_hnsw": _brief(ours, k), "hnswlib": _brief(theirs, k),
                        "ratio": ours["qps_single"] / theirs["qps_single"]}
    tuned = next((run["tuned"] for run in methods if run["method"] == "faiss-hnsw"
                  and run["default"] and run.get("tuned") and "value" in run["tuned"]), None)
    theirs = best_point(methods, "hnswlib", recall_target, k, only_default=True)
    if tuned and theirs:
        out["hnsw_tuned_vs_hnswlib_default"] = {
            "faiss_hnsw": {"config": f"faiss-hnsw ef={tuned['value']} (--target-recall "
                                     f"{tuned['target_recall']})",
                           "recall": tuned[f"recall{k}"], "qps_single": tuned["qps_single"]},
            "hnswlib": _brief(theirs, k), "ratio": tuned["qps_single"] / theirs["qps_single"]}
    exact = best_point(methods, "faiss-flat", 0.999, k, "qps_batch")
    gensim = best_point(methods, "gensim-most_similar", 0.999, k, "qps_batch")
    if exact and gensim:
        # gensim per word at its best: with all cores allowed its BLAS threads can make it
        # slower than with one (on a busy machine, many times slower), which is not its speed
        per_word = max(gensim["qps_batch"], gensim["qps_single_wall"])
        out["exact_batch_vs_gensim"] = {
            "exact_batch_qps": exact["qps_batch"], "gensim_per_word_qps": per_word,
            "gensim_threads": "all" if per_word == gensim["qps_batch"] else 1,
            "ratio": exact["qps_batch"] / per_word}
    return out


def _brief(point: dict, k: int) -> dict:
    return {"config": _config(point), "recall": point[f"recall{k}"],
            "qps_single": point["qps_single"]}


def markdown(results: dict, rows: list[dict], thresholds: Sequence[float]) -> str:
    """results.md: the data set, the table, the target ratios and the skipped peers."""
    data, k = results["dataset"], results["dataset"]["k"]
    cpu = results["machine"].get("cpu", "?")
    lines = [f"# Index benchmark: {data['name']} ({data['indexed']:,} indexed x {data['dim']}d)",
             "", f"{data['queries']:,} queries ({data['protocol']}), k={k}; "
             f"{cpu}, {results['machine']['cpus']} cores. QPS columns: best single-threaded "
             f"queries per second at recall@{k} >= threshold over all configurations and "
             "parameter values; batch QPS: all queries in one call on all cores (per query "
             "for annoy and gensim), at the middle threshold.", ""]
    header = ["method"] + [f"QPS @ R@{k}>={t:.2f}" for t in thresholds] + [
        "batch QPS", "max R@k", "build s", "memory", "disk", "configuration"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["method"]] + [_num(row[f"qps@{t:.2f}"]) for t in thresholds] + [
            _num(row["batch_qps"]), f"{row['max_recall']:.3f}", f"{row['build_seconds']:.2f}",
            human_bytes(row["memory_bytes"]), human_bytes(row["disk_bytes"]), row["config"]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Targets", ""] + _target_lines(results.get("targets", {}), k)
    for note in results.get("skipped", []):
        lines.append(f"- skipped {note['peer']}: {note['reason']}")
    return "\n".join(lines) + "\n"


def _target_lines(found: dict, k: int) -> list[str]:
    lines = []
    for key, what in (("hnsw_vs_hnswlib_default", "hnswlib M=32"),
                      ("hnsw_vs_hnswlib_best", "hnswlib, best configuration"),
                      ("hnsw_tuned_vs_hnswlib_default", "hnswlib M=32 (FAISS at the efSearch "
                       "`--target-recall 0.95` picks)")):
        if key in found:
            t = found[key]
            ours, theirs = t["faiss_hnsw"], t["hnswlib"]
            short = [name for name, side in (("FAISS", ours), ("hnswlib", theirs))
                     if side["recall"] < 0.95]
            note = (f" (below the 0.95 target: {' and '.join(short)}; the ratio is not a "
                    "like-for-like comparison)") if short else ""
            lines.append(f"- FAISS HNSW (embedkit default build) vs {what}, single-threaded at "
                         f"recall@{k} >= 0.95: {ours['qps_single']:,.0f} QPS (recall "
                         f"{ours['recall']:.3f}) vs {theirs['qps_single']:,.0f} QPS (recall "
                         f"{theirs['recall']:.3f}) = **{t['ratio']:.2f}x** ({ours['config']} vs "
                         f"{theirs['config']}){note}")
    if "exact_batch_vs_gensim" in found:
        t = found["exact_batch_vs_gensim"]
        threads = ("1 thread" if t.get("gensim_threads") == 1 else "all cores")
        lines.append(f"- exact batched search vs gensim most_similar per word: "
                     f"{t['exact_batch_qps']:,.0f} vs {t['gensim_per_word_qps']:,.0f} QPS = "
                     f"**{t['ratio']:.1f}x** (gensim on {threads}, its faster setting here)")
    return lines or ["- (the methods the targets compare were not all run)"]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def human_bytes(n: int | None) -> str:
    return _human_bytes(n, missing="-")


def plot_recall_qps(results: dict, path: Path) -> Path:
    """Recall@k vs QPS (log scale), single-threaded and batched, one Pareto curve per method."""
    return atomic_write_bytes(path, recall_qps_png(results))


def recall_qps_png(results: dict) -> bytes:
    """The PNG of :func:`plot_recall_qps`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = results["dataset"]["k"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharex=True)
    for ax, qps, title in ((axes[0], "qps_single", "one query at a time, 1 thread"),
                           (axes[1], "qps_batch", "batched, all cores")):
        for name in dict.fromkeys(run["method"] for run in results["methods"]):
            points = [(p[f"recall{k}"], p[qps]) for run in results["methods"]
                      if run["method"] == name for p in run["points"]]
            xs, ys = zip(*pareto(points), strict=True)
            ax.plot(xs, ys, marker="o", markersize=3, label=name)
        ax.set(yscale="log", xlabel=f"recall@{k}", ylabel="queries per second", title=title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    data = results["dataset"]
    fig.suptitle(f"{data['name']}: {data['indexed']:,} x {data['dim']}d, "
                 f"{data['queries']:,} held-out queries")
    return _png(fig)


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats in both recall and QPS, by increasing recall."""
    front, best = [], -1.0
    for recall_, qps in sorted(points, key=lambda p: (-p[0], -p[1])):
        if qps > best:
            front.append((recall_, qps))
            best = qps
    return sorted(front)


def plot_scaling(results: dict, path: Path) -> Path:
    """Build time and single-threaded query time against the number of indexed rows."""
    return atomic_write_bytes(path, scaling_png(results))


def scaling_png(results: dict) -> bytes:
    """The PNG of :func:`plot_scaling`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["scaling"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = sorted((r for r in rows if r["method"] == name), key=lambda r: r["size"])
        sizes = [r["size"] for r in mine]
        axes[0].plot(sizes, [r["build_seconds"] for r in mine], marker="o", label=name)
        axes[1].plot(sizes, [1000 / r["qps_single"] for r in mine], marker="o", label=name)
    axes[0].set(xscale="log", yscale="log", xlabel="indexed words", ylabel="build seconds",
                title="build time (all cores)")
    axes[1].set(xscale="log", yscale="log", xlabel="indexed words",
                ylabel="milliseconds per query", title="query time (1 thread, default parameters)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    return _png(fig)


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def write(results: dict, out: Path, thresholds: Sequence[float]) -> None:
    """Add ``summary`` and ``targets`` to ``results`` and write every output file.

    Every file is rendered first, then all are written with signals deferred, so an
    interrupt leaves the folder with the previous run's set or this one's, never a mix."""
    rows = summary(results, thresholds)
    results["summary"] = rows
    results["targets"] = targets(results)
    files = {"results.json": (json.dumps(results, indent=2, default=_json_default) + "\n"
                              ).encode("utf-8"),
             "results.md": markdown(results, rows, thresholds).encode("utf-8"),
             "recall_qps.png": recall_qps_png(results)}
    if results.get("scaling"):
        files["scaling.png"] = scaling_png(results)
    with deferred_signals():
        for name, data in files.items():
            atomic_write_bytes(out / name, data)
        if "scaling.png" not in files:  # a folder reused from a run over several sizes
            (out / "scaling.png").unlink(missing_ok=True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)
