"""Progress bars on stderr, off unless the caller (the CLI) turns them on.

Library code reports progress through :func:`task` and :func:`track`; it never prints.
The CLI calls :func:`enable` so long work (imports, counting, SVD, index builds) shows a
bar on stderr, leaving stdout for data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_enabled = False


def enable(on: bool = True) -> None:
    """Turn progress bars on (CLI) or off (library default, tests)."""
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


class _Task:
    def __init__(self, progress, task_id):
        self._progress = progress
        self._id = task_id

    def advance(self, n: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._id, n)

    def update(self, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        if self._progress is not None:
            self._progress.update(self._id, completed=completed, total=total,
                                  description=description)


@contextmanager
def task(description: str, total: float | None = None) -> Iterator[_Task]:
    """A progress bar for one stage; ``advance(n)`` moves it. No output when disabled."""
    if not _enabled:
        yield _Task(None, None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr)
    columns = [TextColumn("{task.description}"), BarColumn()]
    columns += [MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        yield _Task(progress, progress.add_task(description, total=total))


def track(items: Iterable[T], description: str, total: float | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (one step per item)."""
    with task(description, total) as bar:
        for item in items:
            yield item
            bar.advance(1)
