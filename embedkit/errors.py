"""Errors a user can act on.

Every error embedkit raises for bad input is an :class:`EmbedkitError`. Its message is one
line that says what is wrong, where (file and line, word, index) and what to do. The CLI
prints it as ``Error: <message>`` on stderr and exits with :attr:`EmbedkitError.exit_code`
(1 for bad data or a failed run, 2 for bad usage), never with a traceback.
"""

from __future__ import annotations


class EmbedkitError(Exception):
    """Base class: a problem the user can fix, reported in one line."""

    exit_code = 1


class UsageError(EmbedkitError):
    """Bad arguments or option values (exit code 2)."""

    exit_code = 2


class InputFormatError(EmbedkitError):
    """A data file that cannot be read as the format it claims to be.

    ``path`` and ``line`` (1-based) say where; both appear in the message.
    """

    def __init__(self, message: str, path: object = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class StoreError(EmbedkitError):
    """A file that is not a (readable) embedkit store."""


class UnknownWordError(EmbedkitError, KeyError):
    """A word that is not in the vocabulary (and has no subword vector)."""

    def __init__(self, word: str, suggestions: list[str] | None = None, where: str = ""):
        self.word = word
        self.suggestions = list(suggestions or [])
        msg = f"unknown word {word!r}" + (f" in {where}" if where else "")
        if self.suggestions:
            msg += "; close spellings: " + ", ".join(self.suggestions)
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


class DimensionMismatchError(EmbedkitError):
    """Vectors or queries whose dimension disagrees with what they are used with."""


class StaleIndexError(EmbedkitError):
    """An index built from another version of its embedding set."""


class NameExistsError(EmbedkitError):
    """A workspace name that is taken (use --force to replace it)."""


class NotFoundError(EmbedkitError):
    """A workspace name, index or file that does not exist."""


class DimensionOptionError(DimensionMismatchError, UsageError):
    """A dimension given as an option that disagrees with the vectors (exit code 2)."""
