"""Vocabulary: tokens -> word ids, with counts, ``min_count``/``max_vocab`` and subsampling.

The arrow ``tokens -> vocab`` of the data flow. A :class:`Vocabulary` is a frozen word list in
a fixed order (count descending, then word), its int64 counts and the word -> id mapping.
:meth:`Vocabulary.encode` turns a token list into an int32 id array (unknown words dropped
or marked -1) without a Python loop per token; :meth:`Vocabulary.subsample` applies
word2vec's frequent-word subsampling (Mikolov et al. 2013: discard with p = 1 - sqrt(t/f)).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat

import numpy as np

from embedkit.errors import EmbedkitError, UsageError

OOV = -1
"""The id :meth:`Vocabulary.encode` gives unknown words with ``oov="mark"``."""


class Vocabulary:
    """Words in fixed order (count descending, then word) with their counts.

    Parameters
    ----------
    words : sequence of str, unique
    counts : array-like (n,) of int, the corpus frequency of each word
    total : int, optional
        Number of tokens in the corpus, unknown words included (for subsampling
        frequencies); defaults to ``counts.sum()``.
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray,
                 total: int | None = None):
        self.words: list[str] = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if self.counts.shape != (len(self.words),):
            raise UsageError(f"{len(self.words)} words but {self.counts.size} counts")
        self.word_to_id: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.word_to_id) != len(self.words):
            raise UsageError("vocabulary words must be unique")
        self.total = int(self.counts.sum()) if total is None else int(total)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_counts(cls, counts: Mapping[str, int], min_count: int = 1,
                    max_vocab: int | None = None) -> Vocabulary:
        """Keep words seen at least ``min_count`` times, at most the ``max_vocab`` most frequent.

        Raises :class:`EmbedkitError` when nothing is left (say which limit to lower).
        """
        if min_count < 1:
            raise UsageError(f"min_count must be >= 1, got {min_count} (--min-count)")
        if max_vocab is not None and max_vocab < 1:
            raise UsageError(f"max_vocab must be >= 1, got {max_vocab} (--max-vocab)")
        total = int(sum(counts.values()))
        kept = sorted(((w, int(c)) for w, c in counts.items() if c >= min_count),
                      key=lambda wc: (-wc[1], wc[0]))
        if max_vocab is not None:
            kept = kept[:max_vocab]
        if not kept:
            if total == 0:
                raise EmbedkitError("the corpus holds no tokens: no vocabulary to build")
            best = max(counts.values())
            raise EmbedkitError(
                f"min_count={min_count} leaves no vocabulary (the most frequent word occurs "
                f"{best} times in {total} tokens); lower --min-count"
            )
        return cls([w for w, _ in kept], [c for _, c in kept], total=total)

    @classmethod
    def from_documents(cls, token_docs: Iterable[Sequence[str]], min_count: int = 1,
                       max_vocab: int | None = None) -> Vocabulary:
        """Count the tokens of ``token_docs`` (lists of tokens) and build a vocabulary."""
        counter: Counter[str] = Counter()
        for tokens in token_docs:
            counter.update(tokens)  # C loop over the list
        return cls.from_counts(counter, min_count, max_vocab)

    # -- lookup ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.word_to_id

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, {self.total} tokens)"

    def encode(self, tokens: Sequence[str], oov: str = "drop") -> np.ndarray:
        """Token ids as int32: unknown words dropped (``"drop"``) or ``-1`` (``"mark"``).

        The lookup runs as ``map(dict.get, ...)`` consumed by ``np.fromiter``: one C-level
        pass per batch, no Python bytecode per token.
        """
        if oov not in ("drop", "mark"):
            raise UsageError(f"oov must be 'drop' or 'mark', got {oov!r}")
        ids = np.fromiter(map(self.word_to_id.get, tokens, repeat(OOV)),
                          dtype=np.int32, count=len(tokens))
        return ids[ids >= 0] if oov == "drop" else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[i] for i in ids]

    # -- subsampling ------------------------------------------------------------------
    def keep_probabilities(self, threshold: float) -> np.ndarray:
        """Per word id, the probability of keeping one occurrence: min(1, sqrt(t / f)).

        ``f`` is the word's relative frequency among all corpus tokens; word2vec's
        subsampling (Mikolov et al. 2013, eq. 5) discards with p = 1 - sqrt(t / f).
        ``threshold`` <= 0 keeps everything.
        """
        if threshold <= 0 or self.total == 0:
            return np.ones(len(self), dtype=np.float64)
        freq = self.counts / float(self.total)
        return np.minimum(1.0, np.sqrt(threshold / freq))

    def subsample(self, ids: np.ndarray, threshold: float, rng: np.random.Generator,
                  oov: str = "mark") -> np.ndarray:
        """Discard frequent-word occurrences at random (seeded by ``rng``).

        Discarded positions become ``-1`` (``oov="mark"``, windows keep their width, as in
        hyperwords) or are removed (``oov="drop"``, as word2vec does).
        """
        if threshold <= 0:
            return ids
        discard = discard_mask(ids, self.keep_probabilities(threshold), rng)
        if oov == "drop":
            return ids[~discard]
        out = ids.copy()
        out[discard] = OOV
        return out


def discard_mask(ids: np.ndarray, keep_prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """True where a known token (id >= 0) loses its draw against its keep probability."""
    known = ids >= 0
    return known & (rng.random(ids.size) >= keep_prob[np.where(known, ids, 0)])
