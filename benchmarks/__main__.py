"""``python -m benchmarks all [--quick]`` or ``python -m benchmarks NAME [NAME ...] [--quick]``.

Runs the benchmark scripts (``benchmarks/bench_<name>.py``: import, corpus, build, search,
classify, index, distributed; those that exist, each in its own process) and writes
``benchmarks/results/<name>.json`` + ``.md``. A missing script is skipped with a note.
"""

from __future__ import annotations

import argparse
import logging
import sys

from embedkit.bench_suite import NAMES, available, run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0],
        epilog="Example: python -m benchmarks all --quick")
    parser.add_argument("names", nargs="+", metavar="NAME",
                        help=f"'all', or some of: {', '.join(NAMES)}")
    parser.add_argument("--quick", action="store_true",
                        help="tiny data, seconds per benchmark (the CI smoke run)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    present = available()
    names = None if args.names == ["all"] else args.names
    unknown = [n for n in names or [] if n not in NAMES and n not in present]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from "
                     f"all, {', '.join(dict.fromkeys(list(NAMES) + present))}")
    done = run_suite(quick=args.quick, names=names)
    for row in done:
        note = f"  ({row['note']})" if row.get("note") else ""
        seconds = f"{row['seconds']:>7.1f} s" if "seconds" in row else " " * 9
        print(f"{row['name']:<12} {row['status']:<8} {seconds}{note}")
    return 1 if any(row["status"] == "failed" for row in done) else 0


if __name__ == "__main__":
    sys.exit(main())
