"""`Vectors`: the one object users hold: words, their float32 rows, counts and provenance.

Built sets (PPMI-SVD, word2vec, fastText) and imported ones (word2vec, GloVe, fastText files)
are the same type. A set opened from a store reads its rows lazily (one row, a few rows, or
the whole matrix in one contiguous read); a set made in memory holds a numpy array.
Exact cosine search here is plain numpy: it needs no index, and it is the reference every
FAISS index is tested against.
"""

from __future__ import annotations

import difflib
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from embedkit.errors import DimensionMismatchError, StoreError, UnknownWordError, UsageError


class MatrixSource(Protocol):
    """Where a lazily opened set's rows come from (see :mod:`embedkit.store`)."""

    shape: tuple[int, int]

    def rows(self, ids: np.ndarray) -> np.ndarray: ...

    def read_all(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Coverage:
    """How many words of a vocabulary an embedding set covers."""

    found: int
    total: int
    subword: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return (self.found + self.subword) / self.total if self.total else 0.0


class Vectors:
    """Words and their vectors.

    Parameters
    ----------
    words : sequence of str
        The vocabulary, in row order (by default the most frequent first).
    matrix : ndarray (n, dim) float32, or a :class:`MatrixSource` for lazy rows.
    counts : ndarray (n,) int64, optional
        Corpus frequencies where known.
    metadata : dict, optional
        Provenance: ``source``, ``source_sha256``, ``builder``, ``params``, ``stats``, ...
    subwords : :class:`embedkit.subwords.Subwords`, optional
        fastText n-gram tables; they give vectors to words outside the vocabulary.
    """

    def __init__(
        self,
        words: Sequence[str],
        matrix: np.ndarray | MatrixSource,
        counts: np.ndarray | None = None,
        metadata: Mapping[str, Any] | None = None,
        subwords: Any = None,
    ):
        self.words: list[str] = list(words)
        self.key_to_index: dict[str, int] = {}
        for i, word in enumerate(self.words):
            self.key_to_index.setdefault(word, i)
        if isinstance(matrix, np.ndarray):
            if matrix.ndim != 2:
                raise DimensionMismatchError(f"vectors must be 2-D, got shape {matrix.shape}")
            matrix = np.ascontiguousarray(matrix, dtype=np.float32)
            self._matrix: np.ndarray | None = matrix
            self._source: MatrixSource | None = None
            shape = matrix.shape
        else:
            self._matrix = None
            self._source = matrix
            shape = tuple(matrix.shape)
        if shape[0] != len(self.words):
            raise DimensionMismatchError(f"{len(self.words)} words but {shape[0]} vector rows")
        self._shape = (int(shape[0]), int(shape[1]))
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(self.words),):
                raise DimensionMismatchError(f"{len(self.words)} words but {counts.size} counts")
        self.counts: np.ndarray | None = counts
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.subwords = subwords
        self._unit: np.ndarray | None = None

    # -- basic protocol -------------------------------------------------------------
    def close(self) -> None:
        """Close the store file behind a lazily opened set. A matrix loaded before
        (:attr:`matrix`) stays usable; reading rows from the closed file is an error."""
        h5 = getattr(self, "_h5", None)
        if h5 is not None:
            h5.close()
            self._h5 = None
            self._closed = True

    def __enter__(self) -> Vectors:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._shape[0]

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __iter__(self):
        return iter(self.words)

    def __getitem__(self, word: str) -> np.ndarray:
        """``vectors[word]``: as :meth:`vector` (subword vector for an unknown word of a
        fastText set; else :class:`UnknownWordError`)."""
        return self.vector(word)

    def __repr__(self) -> str:
        source = self.metadata.get("source", "memory")
        return f"Vectors({len(self)} words x {self.dim} dims, source={source!r})"

    @property
    def dim(self) -> int:
        return self._shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def matrix(self) -> np.ndarray:
        """The whole (n, dim) float32 matrix; a lazily opened set reads it in one go."""
        if self._matrix is None:
            assert self._source is not None
            self._check_open()
            self._matrix = np.ascontiguousarray(self._source.read_all(), dtype=np.float32)
        return self._matrix

    def _check_open(self) -> None:
        if getattr(self, "_closed", False):
            where = self.metadata.get("path", "its store")
            raise StoreError(f"the set's store ({where}) was closed; load it again "
                             "(embedkit.load), or read .matrix before closing it")

    @property
    def is_loaded(self) -> bool:
        return self._matrix is not None

    def rows(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Rows by id, without loading the whole matrix of a lazily opened set."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = int(ids.min()) if ids.min() < 0 else int(ids.max())
            raise IndexError(f"row {bad} does not exist: the set has rows 0 to {len(self) - 1}")
        if self._matrix is not None or self._source is None:
            return self.matrix[ids]
        self._check_open()
        return np.asarray(self._source.rows(ids), dtype=np.float32)

    # -- lookup -----------------------------------------------------------------------
    def index(self, word: str) -> int:
        """Row of ``word``; raises :class:`UnknownWordError` with close spellings."""
        i = self.row_of(word)
        if i is None:
            raise UnknownWordError(word, self.suggest(word))
        return i

    def row_of(self, word: str) -> int | None:
        """Row of ``word``, or of its other Unicode normal form (``café`` typed decomposed
        finds a composed ``café``); None when neither is stored."""
        if not isinstance(word, str):
            raise TypeError(f"a word must be a str, got {type(word).__name__} {word!r}")
        i = self.key_to_index.get(word)
        if i is None and not word.isascii():
            for form in ("NFC", "NFD"):
                i = self.key_to_index.get(unicodedata.normalize(form, word))
                if i is not None:
                    break
        return i

    def vector(self, word: str) -> np.ndarray:
        """The vector of ``word``: its row, or its subword vector for an unknown word."""
        i = self.row_of(word)
        if i is not None:
            return self.rows([i])[0]
        if self.subwords is not None:
            return self.subwords.vector(word)
        raise UnknownWordError(word, self.suggest(word))

    def get(self, word: str, default: np.ndarray | None = None) -> np.ndarray | None:
        """The vector of ``word`` (its subword vector where unknown), else ``default``."""
        try:
            return self.vector(word)
        except UnknownWordError:
            return default

    def suggest(self, word: str, n: int = 5) -> list[str]:
        """Close spellings of ``word`` in the vocabulary (for error messages)."""
        if not self.words:
            return []
        lower = word.lower()
        if lower != word and lower in self.key_to_index:
            return [lower]
        size = len(word)
        # difflib is quadratic per candidate: compare only with words of similar length
        # among the 200,000 most frequent, which keeps the hint instant on big sets.
        candidates = [w for w in self.words[:200_000] if abs(len(w) - size) <= 2]
        return difflib.get_close_matches(word, candidates, n=n, cutoff=0.75)

    # -- derived sets -------------------------------------------------------------------
    def _derive(self, words, matrix, counts, **meta) -> Vectors:
        return Vectors(words, matrix, counts, self._derived_metadata(**meta), self.subwords)

    def _derived_metadata(self, **meta: Any) -> dict[str, Any]:
        """The metadata of a set made from this one: provenance kept, but not the store's
        path and fingerprint, which name this set (an index of it must not pass for one
        of the derived set)."""
        metadata = {k: v for k, v in self.metadata.items() if k not in ("path", "fingerprint")}
        metadata.update(meta)
        return metadata

    def normalized(self) -> Vectors:
        """A copy with L2-normalised rows (zero rows stay zero)."""
        return self._derive(self.words, unit_rows(self.matrix), self.counts, normalized=True)

    def leading_dims(self, k: int) -> Vectors:
        """A copy keeping the first ``k`` dimensions of every vector (and of the subword
        tables): for a PPMI-SVD set, its ``k`` strongest components, like a ``--dim k``
        build without building again."""
        if not 1 <= k <= self.dim:
            raise UsageError(f"cannot keep the first {k} dimensions of {self.dim}-d vectors; "
                             f"give 1 to {self.dim}")
        subwords = self.subwords
        if subwords is not None:
            subwords = replace(subwords, ngram_vectors=_LeadingColumns(subwords.ngram_vectors, k))
        return Vectors(self.words, self.matrix[:, :k], self.counts,
                       self._derived_metadata(leading_dims=k), subwords)

    def unit_matrix(self) -> np.ndarray:
        """L2-normalised rows, computed once and cached (used by exact search)."""
        if self._unit is None:
            self._unit = unit_rows(self.matrix)
        return self._unit

    def top(self, n: int) -> Vectors:
        """The ``n`` most frequent words (by counts where known, else row order)."""
        if n <= 0:
            raise UsageError(f"top(n) needs n > 0, got {n}")
        order = self.frequency_order()[:n]
        return self._take(np.sort(order) if self.counts is None else order)

    def frequency_order(self) -> np.ndarray:
        """Row ids from most to least frequent (row order when counts are unknown)."""
        if self.counts is None:
            return np.arange(len(self))
        return np.argsort(-self.counts, kind="stable")

    def subset(self, words: Iterable[str]) -> Vectors:
        """A set holding only ``words``, in the order given."""
        if isinstance(words, str):
            raise TypeError(f"subset takes a list of words, got the str {words!r}")
        return self._take(np.array([self.index(w) for w in words], dtype=np.int64))

    def _take(self, ids: np.ndarray) -> Vectors:
        counts = None if self.counts is None else self.counts[ids]
        return self._derive([self.words[i] for i in ids], self.rows(ids), counts)

    def embedding_matrix(
        self,
        word_index: Mapping[str, int] | Sequence[str],
        oov: str = "zeros",
        seed: int = 0,
        use_subwords: bool = True,
    ) -> tuple[np.ndarray, Coverage]:
        """The matrix a classifier's embedding layer starts from.

        Parameters
        ----------
        word_index : mapping word -> row, or a sequence of words (row = position).
            Rows not named (e.g. 0 kept for padding) are zeros.
        oov : "zeros" or "random"
            Rows of words this set does not cover: zeros, or normal noise with the
            standard deviation of the stored vectors (seeded).
        use_subwords : bool
            Give uncovered words their fastText subword vector when the set has tables.

        Returns
        -------
        matrix : ndarray (max row + 1, dim) float32
        coverage : :class:`Coverage`
        """
        if oov not in ("zeros", "random"):
            raise UsageError(f"oov must be 'zeros' or 'random', got {oov!r}")
        if isinstance(word_index, str):
            raise TypeError(f"word_index is a mapping or a list of words, got the str "
                            f"{word_index!r}")
        if not isinstance(word_index, Mapping):
            word_index = {w: i for i, w in enumerate(word_index)}
        bad = next((i for i in word_index.values() if isinstance(i, bool)
                    or not isinstance(i, (int, np.integer)) or i < 0), None)
        if bad is not None:
            raise UsageError(f"word_index rows must be integers >= 0, got {bad!r}")
        size = max(word_index.values(), default=-1) + 1
        out = np.zeros((size, self.dim), dtype=np.float32)
        known = [(w, i) for w, i in word_index.items() if w in self.key_to_index]
        if known:
            rows = np.array([self.key_to_index[w] for w, _ in known], dtype=np.int64)
            out[[i for _, i in known]] = self.rows(rows)
        missing = [w for w in word_index if w not in self.key_to_index]
        subword = 0
        if use_subwords and self.subwords is not None:
            for w in missing:
                out[word_index[w]] = self.subwords.vector(w)
            subword, missing = len(missing), []
        if oov == "random" and missing:
            rng = np.random.default_rng(seed)
            scale = float(np.std(self.rows(np.arange(min(len(self), 10_000))))) or 1.0
            noise = rng.normal(0.0, scale, (len(missing), self.dim)).astype(np.float32)
            out[[word_index[w] for w in missing]] = noise
        return out, Coverage(len(known), len(word_index), subword, missing)

    # -- exact cosine search ----------------------------------------------------------
    def query_vector(self, word_or_vector: str | np.ndarray) -> np.ndarray:
        """A query as a float32 vector of this set's dimension (a word, or one vector)."""
        if isinstance(word_or_vector, str):
            return self.vector(word_or_vector)
        if word_or_vector is None or isinstance(word_or_vector, (int, float, bool)) or (
                isinstance(word_or_vector, (list, tuple)) and word_or_vector
                and isinstance(word_or_vector[0], str)):
            raise TypeError("a query is one word (str) or one vector; for several words "
                            "use analogy() or search with their summed vectors")
        vec = np.asarray(word_or_vector, dtype=np.float32)
        if vec.ndim > 1 and vec.shape[0] != 1:
            raise DimensionMismatchError(f"a query is one vector, got an array of shape "
                                         f"{vec.shape}; search several with embedkit.index")
        vec = vec.reshape(-1)
        if vec.size != self.dim:
            raise DimensionMismatchError(
                f"query vector has dimension {vec.size}, the set has dimension {self.dim}"
            )
        return vec

    def most_similar(
        self,
        word_or_vector: str | np.ndarray,
        k: int = 10,
        exclude: Iterable[str] = (),
        restrict: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest words by cosine similarity (exact, numpy), best first, as
        ``(word, cosine)`` pairs; fewer when the set has fewer searchable words.

        ``word_or_vector``: a word (its subword vector when a fastText set lacks it) or
        one vector of the set's dimension. A query word is excluded from its own answers,
        as are the words in ``exclude`` (a list of words). ``restrict`` limits the search
        to the first (most frequent) rows. All-zero rows are never answers; an all-zero or
        non-finite query is a :class:`UsageError`.
        """
        k = _positive_int(k, "k")
        if restrict is not None:
            restrict = _positive_int(restrict, "restrict")
        if isinstance(exclude, str):
            raise TypeError(f"exclude takes a list of words, got the str {exclude!r}")
        excluded = set(exclude)
        if isinstance(word_or_vector, str):
            excluded.add(word_or_vector)
        vector = self.query_vector(word_or_vector)
        if not np.isfinite(vector).all():
            raise UsageError("the query vector holds NaN or infinity")
        if not vector.any():
            what = f"{word_or_vector!r} has" if isinstance(word_or_vector, str) else "is"
            raise UsageError(f"the query {what} an all-zero vector: it has no direction, so "
                             "no word is nearer than another")
        query = unit_rows(vector[None, :])[0]
        unit = self.unit_matrix()
        if restrict is not None:
            unit = unit[:restrict]
        scores = unit @ query
        scores[~unit.any(axis=1)] = -np.inf  # all-zero rows have no direction
        # a query or excluded word outside the vocabulary (a subword vector) has no row
        rows = [self.row_of(w) for w in excluded]
        skip = [i for i in rows if i is not None and i < len(unit)]
        scores[skip] = -np.inf
        take = min(k, int(np.isfinite(scores).sum()))
        if take <= 0:
            return []
        top = np.argpartition(-scores, take - 1)[:take]
        top = top[np.lexsort((top, -scores[top]))]
        return [(self.words[i], float(scores[i])) for i in top]

    def analogy(self, a: str, b: str, c: str, k: int = 10, method: str = "3cosadd",
                restrict: int | None = None) -> list[tuple[str, float]]:
        """"``a`` is to ``b`` as ``c`` is to ?" (see :func:`embedkit.query.analogy`)."""
        from embedkit.query import analogy

        return analogy(self, a, b, c, k, method, restrict)

    def similarity(self, word_a: str, word_b: str) -> float:
        """Cosine similarity of two words (their subword vectors where unknown)."""
        a, b = self.vector(word_a), self.vector(word_b)
        denom = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(a @ b) / denom if denom else 0.0


def require_vectors(value: Any, what: str) -> Vectors:
    """``value`` if it is a :class:`Vectors`, else a TypeError saying how to get one."""
    if not isinstance(value, Vectors):
        hint = (" (open a store with embedkit.load(path) or embedkit.workspace.open_set(name))"
                if isinstance(value, (str, os.PathLike)) else "")
        raise TypeError(f"{what} takes a Vectors, got {type(value).__name__}{hint}")
    return value


def _positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1: a UsageError for 0 or less, a TypeError for a non-integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value}")
    return int(value)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """A float32 copy of ``matrix`` with L2-normalised rows; zero rows stay zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    # the same float32 arithmetic as np.linalg.norm(axis=1), without its call overhead
    # (this runs once per query in single-query search)
    norms = np.sqrt(np.add.reduce(matrix * matrix, axis=1, keepdims=True))
    norms[norms == 0] = 1.0
    return matrix / norms


class _LeadingColumns:
    """The first ``k`` columns of a row-indexable matrix (an array or an HDF5 dataset),
    read row by row as fastText's subword lookup reads its bucket table."""

    def __init__(self, source: Any, k: int):
        self.source, self.k = source, k
        self.shape = (int(source.shape[0]), k)

    def __getitem__(self, rows: Any) -> np.ndarray:
        return np.asarray(self.source[rows])[..., : self.k]
