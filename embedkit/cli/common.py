"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from embedkit.units import human_bytes  # noqa: F401 - re-exported for the commands

HOME_HELP = "Workspace folder holding the named sets [default: $EMBEDKIT_HOME, else ./indexes]."


def report(message: str) -> None:
    """A summary line on stderr (what was written, where); `-q` silences it like the logs."""
    logging.getLogger("embedkit").info(message)


def not_empty(value: Any) -> Any:
    """Option/argument callback: an empty path or name is a usage error (an empty string
    would otherwise mean the current folder, or be ignored as if not given)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    if any(v is not None and not str(v).strip() for v in values):
        raise typer.BadParameter("is empty; give a path")
    return value


def home_option() -> Any:
    return typer.Option(None, "--home", help=HOME_HELP, show_default=False, callback=not_empty)


def json_option() -> Any:
    return typer.Option(False, "--json", help="Print JSON on stdout instead of the table or "
                        "tab-separated lines.")


def emit_json(data: Any) -> None:
    """One valid JSON document on stdout (NaN and infinities, which JSON lacks, as null)."""
    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, default=_default,
                      allow_nan=False)
    sys.stdout.write(text + "\n")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite number (Python or numpy) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return _finite(value.item())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)


def emit_table(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> None:
    """An aligned plain-text table on stdout (numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in rows]
    if header:
        cells.insert(0, list(header))
    if not cells:
        return
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    numeric = [all(_is_number(row[i]) or row[i] is None for row in rows)  # None: blank
               and any(_is_number(row[i]) for row in rows) for i in range(len(widths))]
    for n, row in enumerate(cells):
        parts = [
            v.rjust(w) if numeric[i] and not (header and n == 0) else v.ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        sys.stdout.write("  ".join(parts).rstrip() + "\n")


def emit_tsv(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> None:
    if header:
        sys.stdout.write("\t".join(header) + "\n")
    for row in rows:
        sys.stdout.write("\t".join(_cell(v) for v in row) + "\n")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)
