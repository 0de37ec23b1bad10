"""Run every benchmark script of a source checkout (``benchmarks/bench_<name>.py``).

Each script has ``run(quick: bool = False) -> dict`` and writes
``benchmarks/results/bench_<name>[_quick].json`` + ``.md``; this module runs those that
exist, each in its own Python process (a crash or a memory peak in one cannot spoil the
next), and says which were missing. Used by ``python -m benchmarks`` and ``embedkit bench all``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from embedkit import atomic
from embedkit.errors import NotFoundError, UsageError

log = logging.getLogger("embedkit.bench")

NAMES = ("import", "corpus", "build", "search", "classify", "index", "distributed")
REPO = Path(__file__).resolve().parents[1]


def benchmarks_dir() -> Path:
    """The ``benchmarks/`` folder of the checkout embedkit runs from."""
    folder = REPO / "benchmarks"
    if not (folder / "common.py").exists():
        raise NotFoundError(f"no benchmarks folder at {folder}; the benchmarks ship with the "
                            "source checkout (git clone, then pip install -e .)")
    return folder


def available() -> list[str]:
    """Names of the benchmark scripts present, in suite order (known names first)."""
    found = {p.stem.removeprefix("bench_") for p in benchmarks_dir().glob("bench_*.py")}
    return [n for n in NAMES if n in found] + sorted(found - set(NAMES))


def run_one(name: str, quick: bool = False) -> dict[str, Any]:
    """Run ``benchmarks/bench_<name>.py``'s ``run(quick)`` in a fresh process."""
    if name not in available():
        known = ", ".join(available()) or "none"
        raise UsageError(f"no benchmark named {name!r}; available: {known}")
    code = f"from benchmarks.bench_{name} import run; run(quick={bool(quick)})"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(),
                          capture_output=True, text=True)
    seconds = round(time.perf_counter() - start, 1)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        log.warning("benchmark %s failed: %s", name, last)
        return {"name": name, "status": "failed", "seconds": seconds, "note": last[:200]}
    return {"name": name, "status": "ok", "seconds": seconds}


def run_suite(quick: bool = False, names: list[str] | None = None,
              out_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Run the given benchmarks (default: every name in :data:`NAMES`); missing ones are
    reported as skipped. Results are in ``benchmarks/results`` (and copied to ``out_dir``)."""
    present = set(available())
    started = time.time()
    done = []
    try:
        for name in names or list(NAMES) + sorted(present - set(NAMES)):
            if name not in present:
                done.append({"name": name, "status": "skipped",
                             "note": f"benchmarks/bench_{name}.py does not exist yet"})
                continue
            log.info("running benchmark %s%s", name, " (quick)" if quick else "")
            done.append(run_one(name, quick))
    except KeyboardInterrupt:  # the scripts wrote in their own processes: say what changed
        atomic.COMMITTED.extend(written_since(started))
        raise
    if out_dir is not None:
        _copy_results(Path(out_dir), [d["name"] for d in done if d["status"] == "ok"], started)
    return done


def written_since(since: float) -> list[Path]:
    """Result files and workspace stores (``indexes/``) of the repository changed since
    ``since``: what benchmark scripts wrote in their own processes."""
    roots = [benchmarks_dir() / "results", REPO / "indexes"]
    return [file for root in roots if root.is_dir() for file in sorted(root.rglob("*"))
            if file.is_file() and file.stat().st_mtime >= since - 1
            and not file.name.endswith(".tmp")]  # a killed script's unfinished temp file


def _copy_results(out: Path, names: list[str], since: float) -> None:
    """The result files this run wrote (modified after ``since``), not older ones, also
    inside result folders (``bench_index/<set>/``: a folder's own time changes only when
    an entry is added, so it says nothing about the files rewritten in it)."""
    results = benchmarks_dir() / "results"
    if out.resolve() == results.resolve():
        return
    out.mkdir(parents=True, exist_ok=True)
    prefixes = tuple(f"bench_{name}" for name in names)
    for file in written_since(since):
        if file.is_relative_to(results) and file.relative_to(results).parts[0].startswith(
                prefixes):
            target = out / file.relative_to(results)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env
