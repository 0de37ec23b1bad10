"""Import benchmark: embedkit vs gensim on a 400,000 x 100 GloVe-format text file.

Side by side in one run, each measurement in a fresh child process (honest peak memory,
nothing cached in Python between them; the file itself is warm in the page cache for all):

- text import: ``embedkit.formats.import_vectors`` (parse + write the HDF5 store) vs gensim
  ``KeyedVectors.load_word2vec_format(no_header=True)`` (parse only), target >= 3x;
- opening the stored set and fetching one word's vector vs gensim's text load, target >= 50x;
- peak RSS of the embedkit import vs the float32 matrix + the vocabulary, target <= 1.5x;
- word2vec binary: embedkit import vs gensim ``load_word2vec_format(binary=True)``.

The file has distinct random words and normal random values with the spread of real GloVe
6B 100-d vectors, printed with 5 significant digits like GloVe's own files. Both loaders
must return the same vector for a probe word. ``run(quick=True)`` uses 5,000 words.
Run: ``python -m benchmarks.bench_import [--quick]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

if not __package__:  # run as a file (python benchmarks/bench_x.py): import from the repo
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import PEAK_RSS_SNIPPET as PEAK_SNIPPET
from benchmarks.common import help_and_exit, markdown_table, run_measured, write_results
from embedkit.formats import export_vectors
from embedkit.vectors import Vectors

DIM = 100
GLOVE_STD = 0.40  # spread of the values in glove.6B.100d (measured on the shared sample)

_HEADER = "import json, sys, time\n"
_FOOTER = PEAK_SNIPPET + "\nprint(json.dumps({'seconds': seconds, 'rows': rows, " \
    "'probe': [float(x) for x in probe], 'peak_rss_bytes': _peak}))\n"
EMBEDKIT_IMPORT = _HEADER + """
from embedkit.formats import import_vectors
start = time.perf_counter()
vectors = import_vectors(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
rows, probe = len(vectors), vectors[sys.argv[3]]
""" + _FOOTER
EMBEDKIT_OPEN = _HEADER + """
import embedkit
start = time.perf_counter()
vectors = embedkit.load(sys.argv[1])
probe = vectors[sys.argv[2]]
seconds = time.perf_counter() - start
rows = len(vectors)
""" + _FOOTER
GENSIM_LOAD = _HEADER + """
from gensim.models import KeyedVectors
start = time.perf_counter()
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=sys.argv[2] == "binary",
                                       no_header=sys.argv[2] == "glove")
seconds = time.perf_counter() - start
rows, probe = len(kv), kv[sys.argv[3]]
""" + _FOOTER
BASELINE = _HEADER + "import embedkit.formats\nseconds, rows, probe = 0.0, 0, []\n" + _FOOTER


def make_words(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct lowercase pseudo-words of 3 to 12 letters."""
    rng = np.random.default_rng(seed)
    letters = rng.integers(ord("a"), ord("z") + 1, size=(n, 12), dtype=np.uint8)
    lengths = rng.integers(3, 13, size=n)
    words = [row[:size].tobytes().decode() for row, size in zip(letters, lengths, strict=True)]
    seen: set[str] = set()
    out = []
    for i, word in enumerate(words):
        word = word if word not in seen else f"{word}{i}"
        seen.add(word)
        out.append(word)
    return out


def make_glove_file(path: Path, n: int) -> list[str]:
    """Write an ``n`` x 100 GloVe-format file (5 significant digits) unless it exists."""
    words = make_words(n)
    if not path.exists():
        rng = np.random.default_rng(1)
        matrix = rng.normal(0.0, GLOVE_STD, size=(n, DIM)).astype(np.float32)
        export_vectors(Vectors(words, matrix), path, "glove", precision=5)
    return words


def vocabulary_bytes(words: list[str]) -> int:
    """Memory of the words as Python strings plus one list slot each."""
    return sum(sys.getsizeof(w) for w in words) + 8 * len(words)


def run(quick: bool = False) -> dict[str, Any]:
    n = 5_000 if quick else 400_000
    work = Path(tempfile.gettempdir()) / "embedkit_bench_import"
    work.mkdir(exist_ok=True)
    text = work / f"glove_{n}x{DIM}.txt"
    words = make_glove_file(text, n)
    probe = words[n // 2]
    _warm_page_cache(text)
    store, binary = work / f"glove_{n}.h5", work / f"glove_{n}.bin"

    # other work on the machine slows every contender; the ratios are what to compare
    results: dict[str, Any] = {"words": n, "dim": DIM, "text_bytes": text.stat().st_size,
                               "load_average_at_start": os.getloadavg()}
    results["embedkit_text"] = run_measured(EMBEDKIT_IMPORT, str(text), str(store), probe)
    results["gensim_text"] = run_measured(GENSIM_LOAD, str(text), "glove", probe)
    results["embedkit_open"] = run_measured(EMBEDKIT_OPEN, str(store), probe)
    start = time.perf_counter()
    import embedkit

    with embedkit.load(store) as stored:
        export_vectors(stored, binary, "word2vec-binary")
    results["export_binary_seconds"] = time.perf_counter() - start
    results["embedkit_binary"] = run_measured(EMBEDKIT_IMPORT, str(binary), str(store), probe)
    results["gensim_binary"] = run_measured(GENSIM_LOAD, str(binary), "binary", probe)
    results["baseline"] = run_measured(BASELINE)
    _check_same_vectors(results)
    results["load_average_at_end"] = os.getloadavg()
    results.update(_ratios(results, n * DIM * 4 + vocabulary_bytes(words)))
    write_results("bench_import" + ("_quick" if quick else ""), results, _table(results))
    print(_table(results))
    return results


def _warm_page_cache(path: Path) -> None:
    """Read the file once so every contender finds it in the page cache alike."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def _check_same_vectors(results: dict[str, Any]) -> None:
    probes = {k: v["probe"] for k, v in results.items() if isinstance(v, dict) and v["probe"]}
    reference = probes["gensim_text"]
    for name, probe in probes.items():
        if not np.array_equal(np.float32(probe), np.float32(reference)):
            raise AssertionError(f"{name} returned another vector for the probe word")


def _ratios(r: dict[str, Any], budget_bytes: int) -> dict[str, Any]:
    peak = r["embedkit_text"]["peak_rss_bytes"]
    return {
        "text_speedup": r["gensim_text"]["seconds"] / r["embedkit_text"]["seconds"],
        "open_speedup": r["gensim_text"]["seconds"] / r["embedkit_open"]["seconds"],
        "binary_speedup": r["gensim_binary"]["seconds"] / r["embedkit_binary"]["seconds"],
        "matrix_plus_vocab_bytes": budget_bytes,
        "peak_ratio": peak / budget_bytes,
        "peak_ratio_above_baseline":
            (peak - r["baseline"]["peak_rss_bytes"]) / budget_bytes,
    }


def _table(r: dict[str, Any]) -> str:
    mib = 1 << 20
    rows = [
        ["GloVe text import (s)", r["embedkit_text"]["seconds"], r["gensim_text"]["seconds"],
         _speed(r['text_speedup'], 1), ">= 3x"],
        ["open store + 1 vector vs gensim text load (s)", r["embedkit_open"]["seconds"],
         r["gensim_text"]["seconds"], _speed(r['open_speedup'], 0), ">= 50x"],
        ["word2vec binary import (s)", r["embedkit_binary"]["seconds"],
         r["gensim_binary"]["seconds"], _speed(r['binary_speedup'], 1), ""],
        ["peak RSS of the text import (MiB)", r["embedkit_text"]["peak_rss_bytes"] / mib,
         r["gensim_text"]["peak_rss_bytes"] / mib,
         f"{r['peak_ratio']:.2f}x matrix+vocab ({r['matrix_plus_vocab_bytes'] / mib:.0f} MiB); "
         f"{r['peak_ratio_above_baseline']:.2f}x above the "
         f"{r['baseline']['peak_rss_bytes'] / mib:.0f} MiB interpreter", "<= 1.5x"],
    ]
    load = r["load_average_at_start"][0], r["load_average_at_end"][0]
    title = (f"{r['words']:,} words x {r['dim']} dims, GloVe text "
             f"{r['text_bytes'] / mib:.0f} MiB; 1-minute load average {load[0]:.1f} at the "
             f"start, {load[1]:.1f} at the end (2 cores)\n\n")
    return title + markdown_table(rows, ["measure", "embedkit", "gensim", "result", "target"])


def _speed(ratio: float, digits: int) -> str:
    """gensim's time / embedkit's, in words: '8.3x faster' or '1.6x slower'."""
    if ratio >= 1:
        return f"{ratio:.{digits}f}x faster"
    return f"{1 / ratio:.1f}x slower"


if __name__ == "__main__":
    help_and_exit(__doc__)
    run(quick="--quick" in sys.argv)  # the table is printed; every number is in the JSON file
