"""What every reader yields: blocks of raw rows, and the errors that point at them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.errors import InputFormatError

BLOCK_BYTES = 1 << 23  # 8 MiB of file per block: big enough to amortise numpy calls


@dataclass
class RawBlock:
    """Rows read from a file: words (bytes until decoded), float32 values, where they were.

    ``places`` holds the 1-based line numbers (text files) or row numbers (binary files)
    of the rows, for error messages.
    """

    words: list[bytes] | list[str]
    rows: np.ndarray
    places: np.ndarray


def format_error(path: Path, unit: str, place: int | None, message: str) -> InputFormatError:
    """An :class:`InputFormatError` at ``path:LINE`` (text) or ``path: row N`` (binary)."""
    if unit == "line":
        return InputFormatError(message, path, place)
    where = f"row {place}: " if place is not None else ""
    return InputFormatError(where + message, path)
