"""Index parameters: friendly index types, FAISS factory strings and size-aware defaults.

Pure Python (no FAISS import), so the CLI can name and validate an index cheaply. The
defaults are what :class:`embedkit.index.Index` builds when a parameter is not given.
"""

from __future__ import annotations

import math
import os
import re

from embedkit.errors import UsageError

TYPES = ("flat", "hnsw", "ivf", "ivfpq", "sq8", "factory")
DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 200
DEFAULT_EF_SEARCH = 128
DEFAULT_K_FACTOR = 4  # refine indexes (RFlat): exact re-ranking of 4k candidates


def factory_string(kind: str, size: int, dim: int, *, M: int | None = None,
                   nlist: int | None = None, pq_m: int | None = None,
                   nbits: int | None = None, factory: str | None = None) -> str:
    """The FAISS index-factory string for a friendly index type.

    ``kind`` is one of :data:`TYPES`, ``factory:<string>``, or a factory string itself
    (``"Flat"``, ``"HNSW32"``, ``"IVF1024,Flat"``, ``"IVF1024,PQ16"``, ``"SQ8"``, ...).
    Unset parameters get defaults that suit ``size``.
    """
    kind = kind.strip()
    low = kind.lower()
    _check_structure_options(low, M=M, nlist=nlist, pq_m=pq_m, nbits=nbits)
    if low.startswith("factory:"):
        factory, low = kind.split(":", 1)[1], "factory"
    if low == "factory":
        if not factory:
            raise UsageError("index type 'factory' needs a factory string "
                             "(--factory 'IVF256,Flat')")
        return _check_factory_numbers(factory)
    if low not in TYPES:
        if kind[:1].isupper():  # a FAISS factory string such as "HNSW32" or "IVF1024,Flat"
            return _check_factory_numbers(kind)
        raise UsageError(f"unknown index type {kind!r}; choose one of {', '.join(TYPES)}, "
                         "or pass a FAISS factory string")
    if low == "flat":
        return "Flat"
    if low == "sq8":
        return "SQ8"
    if low == "hnsw":
        links = positive("M", M or DEFAULT_M)
        if links < _LEAST["HNSW"]:  # FAISS's HNSW crashes the process with one link per node
            raise UsageError(f"M must be at least {_LEAST['HNSW']} graph links per node, "
                             f"got {links}")
        return f"HNSW{links}"
    nlist = positive("nlist", nlist or default_nlist(size))
    if low == "ivf":
        return f"IVF{nlist},Flat"
    pq_m = positive("pq_m", pq_m or default_pq_m(dim))
    if dim % pq_m:
        raise UsageError(f"PQ m={pq_m} must divide the dimension {dim}; try {default_pq_m(dim)}")
    nbits = positive("nbits", nbits or default_nbits(size))
    return f"IVF{nlist},PQ{pq_m}x{nbits}"


# Below these, FAISS crashes or never returns: HNSW1 (also as an IVF coarse quantiser,
# IVF4_HNSW1) is a segmentation fault, HNSW0 an abort, NSG1-NSG4 build forever.
_LEAST = {"HNSW": 2, "NSG": 5}


def _check_factory_numbers(fstring: str) -> str:
    """A number too small for graph links, lists or sub-quantisers would crash FAISS, hang
    it, or fail after the build: refuse it first (also after ``_``, as in IVF4_HNSW1)."""
    for part, number in re.findall(r"(?<![A-Za-z])(HNSW|NSG|IVF|IMI2x|PQ|OPQ)(\d+)", fstring):
        least = _LEAST.get(part, 1)
        if int(number) < least:
            raise UsageError(f"{part}{number} in factory string {fstring!r}: the number must "
                             f"be at least {least}")
    return fstring


_STRUCTURE = {"hnsw": ("M",), "ivf": ("nlist",), "ivfpq": ("nlist", "pq_m", "nbits"),
              "flat": (), "sq8": ()}
_OPTION = {"M": "--M", "nlist": "--nlist", "pq_m": "--pq-m", "nbits": "--nbits"}


def _check_structure_options(low: str, **given: int | None) -> None:
    """Given structure parameters must be positive and belong to the index type (a
    factory string spells its own)."""
    given = {k: v for k, v in given.items() if v is not None}
    for what, value in given.items():
        positive(what, value)
    allowed = _STRUCTURE.get(low, ())
    stray = [k for k in given if k not in allowed]
    if not stray:
        return
    options = ", ".join(_OPTION[k] for k in stray)
    if low in _STRUCTURE:
        uses = ", ".join(_OPTION[k] for k in allowed) or "none of these options"
        raise UsageError(f"{options} does not apply to --type {low} (it takes {uses})")
    raise UsageError(f"{options} does not apply to a factory string: write the value into "
                     "the string (e.g. HNSW16, IVF256,Flat, IVF256,PQ16x8)")


def default_nlist(size: int) -> int:
    """About 4 sqrt(n) lists, with at least 39 training points per list (faiss's floor)."""
    return max(1, min(int(4 * math.sqrt(size)), size // 39))


def default_pq_m(dim: int) -> int:
    """The divisor of ``dim`` closest to dim/4 (4 dimensions per sub-quantiser)."""
    return min(divisors(dim), key=lambda m: (abs(m - dim / 4), -m))


def divisors(n: int) -> list[int]:
    """The divisors of ``n``, ascending."""
    return [m for m in range(1, n + 1) if n % m == 0]


def default_nbits(size: int) -> int:
    """8 bits per code, fewer on sets too small to train 256 centroids."""
    return int(max(1, min(8, math.floor(math.log2(max(2, size // 39))))))


def build_threads() -> int:
    """All cores, less those already busy (1-minute load average).

    OpenMP threads spin at barriers: on the 2-core development machine, with other
    processes keeping the cores busy (load 8), an HNSW build with 2 threads ran 2.5x
    slower than with 1, and IVF training 7x slower. So builds use the cores that are free.
    """
    cores = os.cpu_count() or 1
    try:
        busy = int(round(os.getloadavg()[0]))
    except OSError:
        busy = 0
    return max(1, min(cores, cores - busy))


def default_nprobe(nlist: int) -> int:
    """Lists visited per query: enough for recall@10 >= 0.95 on word vectors."""
    return max(1, min(nlist, max(16, nlist // 8)))


def default_name(fstring: str, kind: str | None = None) -> str:
    """The default file stem: the friendly type (``hnsw``, ``ivf``) when one was given,
    else one made from the factory string (``hnsw32``, ``ivf1024_pq16x8``)."""
    if kind and kind.strip().lower() in TYPES[:-1]:
        return kind.strip().lower()
    stem = "".join(c if c.isalnum() else "_" for c in fstring.lower()).strip("_")
    return stem or "index"


def positive(what: str, value: int) -> int:
    if int(value) <= 0:
        raise UsageError(f"{what} must be positive, got {value} (--{what.replace('_', '-')})")
    return int(value)
