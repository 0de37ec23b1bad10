"""The fastText ``.bin`` reader, through gensim's loader, keeping the subword tables.

A ``.bin`` holds the full model: word vectors, word counts and the n-gram bucket matrix
(minn, maxn, bucket). gensim's ``load_facebook_vectors`` reads it (any fastText version,
with or without the magic number); embedkit keeps ``kv.vectors`` as the rows, the counts,
and ``kv.vectors_ngrams`` as :class:`~embedkit.subwords.Subwords`, so a word outside the
vocabulary gets the same vector as gensim's ``FastTextKeyedVectors.get_vector``.
"""

from __future__ import annotations

import logging
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from embedkit.errors import InputFormatError
from embedkit.formats.blocks import RawBlock
from embedkit.formats.detect import FASTTEXT_MAGIC, is_fasttext_bin
from embedkit.formats.source import SourceFile
from embedkit.subwords import Subwords

_BLOCK_ROWS = 65536
log = logging.getLogger("embedkit.formats")


class _CountDecodeErrors(logging.Handler):
    """Counts gensim's 'failed to decode invalid unicode bytes' reports (one per word)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage():
            self.count += 1


class FastTextBinReader:
    """Word vectors, counts and subword tables of a fastText model binary."""

    unit = "row"

    def __init__(self, source: SourceFile, limit: int | None = None, encoding: str = "utf-8"):
        self.source = source
        self.path = source.path
        self.limit = limit
        if not is_fasttext_bin(source.head):
            raise InputFormatError(
                "not a fastText .bin model (no fastText header at the start); leave out "
                "--format to detect the format", source.path)
        _refuse_supervised(source)
        kv, self.invalid_words = _load(source, encoding)
        end = len(kv.index_to_key) if limit is None else min(limit, len(kv.index_to_key))
        self._words = list(kv.index_to_key[:end])
        self._vectors = kv.vectors
        self.dim = int(kv.vector_size)
        self.expected_rows = end
        counts = kv.expandos.get("count") if hasattr(kv, "expandos") else None
        self.counts = None if counts is None else np.asarray(counts[:end], dtype=np.int64)
        self.subwords = (
            Subwords(np.asarray(kv.vectors_ngrams, np.float32), int(kv.min_n), int(kv.max_n),
                     int(kv.bucket))
            if kv.bucket else None
        )

    def blocks(self) -> Iterator[RawBlock]:
        for start in range(0, len(self._words), _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, len(self._words))
            yield RawBlock(self._words[start:stop], self._vectors[start:stop],
                           np.arange(start + 1, stop + 1))


def _load(source: SourceFile, encoding: str):
    from gensim.models.fasttext import load_facebook_vectors

    log.info("%s: loading the fastText model with gensim", source.path)
    counter = _CountDecodeErrors()
    logger = logging.getLogger("gensim.models._fasttext_bin")
    logger.addHandler(counter)
    try:
        with _plain_copy(source) as plain:
            kv = load_facebook_vectors(str(plain), encoding=encoding)
    except NotImplementedError as err:
        raise InputFormatError(f"{err}; import the model's .vec file instead",
                               source.path) from None
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - gensim reports corrupt files in many ways
        raise InputFormatError(
            f"not a readable fastText .bin model ({type(err).__name__}: {str(err)[:120]}); "
            "the file may be truncated or corrupt",
            source.path,
        ) from None
    finally:
        logger.removeHandler(counter)
    return kv, counter.count


@contextmanager
def _plain_copy(source: SourceFile) -> Iterator[Path]:
    """The model file itself, or a decompressed temporary copy of a compressed one.

    gensim would guess compression from the file name only; the copy makes any name work.
    """
    if source.compression is None:
        yield source.path
        return
    with tempfile.NamedTemporaryFile(suffix=".bin") as tmp:
        while chunk := source.read(1 << 22):
            tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name)


def _refuse_supervised(source: SourceFile) -> None:
    """gensim reads only unsupervised models; say so before it spends time loading."""
    head = source.head
    if len(head) >= 56 and struct.unpack("<i", head[:4])[0] == FASTTEXT_MAGIC:
        # magic, version, then int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model
        model = struct.unpack("<12i", head[8:56])[7]
        if model == 3:  # fastText's model_name::sup
            raise InputFormatError(
                "a supervised fastText model (a text classifier), not word vectors; "
                "embedkit imports unsupervised (cbow/skipgram) .bin models or .vec files",
                source.path,
            )
