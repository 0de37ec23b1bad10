"""Small UTF-8 text files a user names (query words, benchmark lists): one clear error.

gzip, bz2 and xz files are decompressed first (recognised by their bytes), as gensim's
evaluators read them.
"""

from __future__ import annotations

import io
import lzma
import zlib
from pathlib import Path

from embedkit.errors import InputFormatError, NotFoundError
from embedkit.sources import compression_of


def read_utf8(path: str | Path, what: str = "file") -> str:
    """The text of ``path`` (a UTF-8 byte order mark dropped); a missing file or bytes that
    are not UTF-8 raise a one-line error naming the file."""
    path = Path(path)
    if path.is_dir():
        raise InputFormatError(f"is a folder, not a {what}; name a file in it", path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such {what}")
    try:
        return _decompressed(path).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputFormatError(f"not UTF-8 text ({err.reason} at byte {err.start}); save it "
                               "as UTF-8", path) from None


def _decompressed(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with a gzip, bz2 or xz signature."""
    data = path.read_bytes()
    found = compression_of(data)
    if found is None:
        return data
    try:
        return found[1](io.BytesIO(data)).read()
    except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as err:
        raise InputFormatError(f"corrupt or truncated {found[0]} data ({err}); "
                               "re-download the file", path) from None
