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
from dataclasses import dataclass
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
            header = _Header.read(plain)
            header.check_size(source.path)
            # no numpy warnings from a corrupt model: its NaN rows are refused afterwards
            with np.errstate(over="ignore", invalid="ignore"):
                kv = load_facebook_vectors(str(plain), encoding=encoding)
            header.check_output_matrix(plain, source.path)
    except InputFormatError:
        raise
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
    A pipe (not a regular file) is copied too: gensim cannot read it again from the start.
    """
    if source.compression is None and source.path.is_file():
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


@dataclass(frozen=True)
class _Header:
    """The sizes a fastText .bin header declares, and the file's size."""

    new_format: bool
    dim: int
    bucket: int
    vocab_size: int
    nwords: int
    file_size: int

    @classmethod
    def read(cls, plain: Path) -> _Header:
        with open(plain, "rb") as f:
            head = f.read(76).ljust(76, b"\0")
            size = f.seek(0, 2)
        ints = struct.unpack("<19i", head)
        if ints[0] == FASTTEXT_MAGIC:  # magic, version, dim, ..., bucket; vocab at byte 64
            return cls(True, ints[2], ints[10], ints[16], ints[17], size)
        return cls(False, ints[0], ints[8], ints[14], ints[15], size)  # vocab at byte 56

    def check_size(self, shown: Path) -> None:
        """Refuse counts the file cannot hold (gensim would loop over them for hours).

        Each vocabulary entry takes at least 10 bytes (a NUL-ended word, int64 count, int8
        type); the input matrix holds (nwords + bucket) x dim float32.
        """
        need = 10 * self.vocab_size + 4 * (self.nwords + self.bucket) * self.dim
        if min(self.dim, self.bucket, self.vocab_size, self.nwords) < 0 or need > self.file_size:
            raise InputFormatError(
                f"not a readable fastText .bin model (its header declares {self.vocab_size} "
                f"words, {self.bucket} buckets and {self.dim} dimensions, more than its "
                f"{self.file_size} bytes can hold); the file may be truncated or corrupt", shown)

    def check_output_matrix(self, plain: Path, shown: Path) -> None:
        """Warn when the model's last block, the nwords x dim output matrix, is cut short.

        gensim stops reading after the input (word + subword) matrix, so a file truncated
        inside the output matrix loads silently. The output matrix fills the end of the
        file: [quantisation flag (new format only)] int64 rows, int64 cols, float32 rows.
        """
        start = self.file_size - (16 + 4 * self.nwords * self.dim)
        if start >= int(self.new_format):
            with open(plain, "rb") as f:
                f.seek(start)
                if struct.unpack("<2q", f.read(16)) == (self.nwords, self.dim):
                    return
        log.warning("%s: the file ends inside or before the model's output matrix (the last "
                    "%d x %d block): truncated or corrupt; the word and subword vectors are "
                    "complete and were read, but re-download the model to have it whole",
                    shown, self.nwords, self.dim)
