"""Pieces of decoded text → documents → tokens: the work :class:`embedkit.corpus.Corpus`
hands to its worker processes.

The reader (main process) cuts files into *pieces* ``(mode, text)`` of whole lines or whole
documents; :func:`split_piece` turns a piece into documents (lines, paragraphs, sentences,
wiki markup removed, HTML leftovers cleaned) and :func:`tokenize_pieces` tokenises a batch
of pieces into one compact string. :func:`ordered_map` runs that in a process pool and
returns the results in input order. The worker-side functions are pure and picklable.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import re
import signal
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from embedkit import markup
from embedkit.errors import EmbedkitError
from embedkit.tokens import TokenizerConfig, split_sentences, tokenize

_PARAGRAPH = re.compile(r"\n[ \t\r]*\n")


def split_piece(mode: str, text: str, clean: bool, sentences: bool) -> list[str]:
    """Documents of one piece: modes ``doc`` (one clean document), ``text`` (one document,
    leftovers cleaned), ``lines``, ``paragraphs`` (several), ``wiki`` (wiki markup)."""
    if "\r" in text and mode in ("lines", "paragraphs"):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if mode == "lines":
        docs = text.split("\n")
    elif mode == "paragraphs":
        docs = _PARAGRAPH.split(text)
    elif mode == "wiki":
        docs = [markup.wiki_text(text)]
    else:
        docs = [text]
    if clean and mode in ("text", "lines", "paragraphs"):
        docs = [markup.clean_leftovers(d) for d in docs]
    if sentences:
        docs = [s for d in docs for s in split_sentences(d)]
    return [d for d in docs if not d.isspace() and d]


def tokenize_pieces(pieces: list[tuple[str, str]], tokenizer: TokenizerConfig, clean: bool,
                    sentences: bool) -> str:
    """Tokenise a batch of pieces (runs in a worker process).

    Returns one string: documents separated by ``\\n``, tokens by a space (tokens never
    contain whitespace), which pickles far faster than nested lists.
    """
    lines = []
    for mode, text in pieces:
        for doc in split_piece(mode, text, clean, sentences):
            tokens = tokenize(doc, tokenizer)
            if tokens:
                lines.append(" ".join(tokens))
    return "\n".join(lines)


def batched(pieces: Iterator[tuple[str, str]], batch_bytes: int) -> Iterator[list]:
    """Consecutive pieces grouped until they hold at least ``batch_bytes`` characters."""
    batch: list[tuple[str, str]] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece[1])
        if size >= batch_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def ordered_map(job: Callable[[Any], str], batches: Iterator[list], workers: int
                ) -> Iterator[str]:
    """``map(job, batches)`` in a process pool, in order, with a bounded number in flight.

    A single batch (a small corpus) is run here: starting processes would cost more.
    """
    first = next(batches, None)
    second = next(batches, None) if first is not None else None
    if second is None:
        if first is not None:
            yield job(first)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_worker_signals)
    pending: deque[Future] = deque()
    try:
        for batch in itertools.chain((first, second), batches):
            pending.append(pool.submit(job, batch))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise EmbedkitError("a tokenising worker process died (out of memory or killed); "
                            "retry with fewer workers or a smaller batch size") from None
    except BaseException:  # Ctrl-C, SIGTERM, or the consumer stopped: end the workers now
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the main process (which stops them) and die on SIGTERM;
    otherwise each would print its own KeyboardInterrupt traceback, or hang the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()


def chunks(blocks: Iterator[str], limit: int, cut: str) -> Iterator[str]:
    """Re-block text into pieces of at most about ``limit`` characters, cut after ``cut``
    (else after a line break, else after a space)."""
    rest = ""
    for block in blocks:
        text = rest + block if rest else block
        start = 0
        while len(text) - start >= limit:
            end = cut_point(text, cut, start, start + limit)
            yield text[start:end]
            start = end
        rest = text[start:]
    if rest:
        yield rest


def cut_point(text: str, cut: str, start: int, stop: int) -> int:
    """Index just after the last ``cut`` in ``text[start:stop]`` (else line break, space, stop)."""
    for sep in (cut, "\n\r\n" if cut == "\n\n" else cut, "\n", " "):  # CRLF blank lines too
        end = text.rfind(sep, start, stop)
        if end > start:
            return end + len(sep)
    return stop
