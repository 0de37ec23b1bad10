"""Small UTF-8 text files a user names (query words, benchmark lists): one clear error."""

from __future__ import annotations

from pathlib import Path

from embedkit.errors import InputFormatError, NotFoundError


def read_utf8(path: str | Path, what: str = "file") -> str:
    """The text of ``path`` (a UTF-8 byte order mark dropped); a missing file or bytes that
    are not UTF-8 raise a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such {what}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputFormatError(f"not UTF-8 text ({err.reason} at byte {err.start}); save it "
                               "as UTF-8", path) from None
