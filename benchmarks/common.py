"""Helpers shared by the benchmark scripts: timing, peak memory, machine info, result files."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from embedkit import atomic
from embedkit.atomic import deferred_signals

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(os.environ.get("EMBEDKIT_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))


def machine() -> dict[str, Any]:
    """Where a result was measured: CPU, cores, Python and library versions."""
    import numpy

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    for mod, dist in (("faiss", "faiss-cpu"), ("gensim", "gensim"), ("scipy", "scipy"),
                      ("h5py", "h5py"), ("hnswlib", "hnswlib"), ("annoy", "annoy"),
                      ("torch", "torch")):
        with suppress(ImportError):
            version = getattr(__import__(mod), "__version__", None)
            with suppress(importlib.metadata.PackageNotFoundError):
                version = version or importlib.metadata.version(dist)  # hnswlib, annoy
            info[mod] = version or "?"
    try:
        import embedkit

        info["embedkit"] = embedkit.__version__
    except ImportError:
        pass
    return info


@contextmanager
def timer() -> Any:
    """``with timer() as t: ...`` then ``t()`` gives the elapsed seconds."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The smallest wall time of ``repeat`` calls (noise only ever adds time)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run_measured(code: str, *args: str) -> dict[str, Any]:
    """Run Python ``code`` in a fresh process and return the JSON of its last stdout line.

    A separate process gives an honest peak-memory figure: the child measures its own
    peak RSS (VmHWM, see :data:`PEAK_RSS_SNIPPET`) and reports it as ``peak_rss_bytes``.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{stderr[-2000:]}")
    out = json.loads(stdout.strip().splitlines()[-1])
    return out


# The child's own peak RSS. Not ru_maxrss: Linux carries that across fork + exec, so a
# child started by a big parent would report the parent's size; VmHWM is reset by exec.
PEAK_RSS_SNIPPET = (
    "_peak = next(int(line.split()[1]) for line in open('/proc/self/status') "
    "if line.startswith('VmHWM:')) * 1024"
)
"""Append to child code and put ``_peak`` in its JSON to report the child's own peak RSS."""


def markdown_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def help_and_exit(doc: str | None, options: dict[str, int] | None = None) -> None:
    """``-h``/``--help`` on a script's command line: print its docstring and stop, so asking
    for help never starts a long run that overwrites the stored results.

    ``options`` maps each option the script reads to the number of values it takes
    (``--quick`` is always known); anything else on the command line is an error (exit 2):
    a misspelt mode must not fall through to the full run."""
    if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
        print((doc or "").strip())
        raise SystemExit(0)
    known = {"--quick": 0, **(options or {})}
    args = sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg not in known:
            _usage_error(f"unknown option {arg!r}; this script takes "
                         f"{', '.join(sorted(known))} (see --help)")
        if len(args) < known[arg]:
            _usage_error(f"{arg} needs {known[arg]} value(s) (see --help)")
        del args[:known[arg]]


def _usage_error(message: str) -> None:
    sys.stderr.write(f"Error: {message}\n")
    raise SystemExit(2)


def write_results(name: str, data: dict[str, Any], table_md: str, out_dir: Path = RESULTS) -> Path:
    """Write ``<name>.json`` (data + machine) and ``<name>.md`` (the readable table)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), **data}
    files = {f"{name}.json": json.dumps(data, indent=2, default=str) + "\n",
             f"{name}.md": f"# {name}\n\n{table_md}"}
    with deferred_signals():  # each atomically, and both or neither on Ctrl-C
        for file, text in files.items():
            atomic.write_text(out_dir / file, text)
    return out_dir / f"{name}.json"
