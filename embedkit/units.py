"""Human-readable sizes for tables and logs."""

from __future__ import annotations


def human_bytes(n: int | None, missing: str = "") -> str:
    """``1536`` -> ``'1.5 KiB'``; ``missing`` for None (and 0 when it is not ``''``)."""
    if n is None or (not n and missing):
        return missing
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def plural(n: int, noun: str) -> str:
    """``plural(1, "shard")`` -> ``'1 shard'``; ``plural(3, "shard")`` -> ``'3 shards'``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
