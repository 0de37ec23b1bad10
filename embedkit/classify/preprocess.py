"""Texts -> token lists -> padded id arrays, and the train/validation/test split.

Tokenisation is the builder's (:func:`embedkit.tokens.tokenize` with a
:class:`~embedkit.tokens.TokenizerConfig`), so a classifier sees the same words as the
embedding sets built from a corpus. The vocabulary comes from the training texts only:
id 0 pads, id 1 stands for every word outside the vocabulary, ids 2.. are the
``max_words`` most frequent training words (count descending, then the word).
Sequences are padded and truncated to ``maxlen`` the way Keras' ``pad_sequences`` does
(by default both at the start: the last ``maxlen`` tokens are kept, padding comes first).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np

from embedkit.errors import InputFormatError, UsageError

log = logging.getLogger("embedkit.classify")
PAD, OOV = 0, 1
SIDES = ("pre", "post")


def tokenizer_config(options: Mapping[str, Any] | None = None) -> Any:
    """A :class:`embedkit.tokens.TokenizerConfig` from a dict (saved with the model)."""
    from embedkit.tokens import TokenizerConfig

    return TokenizerConfig.from_dict(dict(options or {}))


def tokenize_all(texts: Iterable[str], config: Any) -> list[list[str]]:
    """Token lists of ``texts`` with the shared tokenizer."""
    from embedkit.tokens import tokenize

    return [tokenize(text, config) for text in texts]


@dataclass(frozen=True)
class Vocabulary:
    """Words in id order starting at id 2 (0 = padding, 1 = out of vocabulary)."""

    words: tuple[str, ...]

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_words: int = 10_000) -> Vocabulary:
        """The ``max_words`` most frequent tokens (ties broken by the word itself)."""
        if max_words < 1:
            raise UsageError(f"max_words must be at least 1, got {max_words}")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_words]
        return cls(tuple(word for word, _ in ranked))

    def __len__(self) -> int:
        """Rows of an embedding layer over this vocabulary (words + padding + OOV)."""
        return len(self.words) + 2

    @property
    def word_index(self) -> dict[str, int]:
        """word -> id (ids start at 2)."""
        return {word: i for i, word in enumerate(self.words, 2)}

    def ids(self, token_lists: Iterable[Sequence[str]]) -> list[np.ndarray]:
        """Each token list as an int64 id array (unknown words -> 1).

        The whole batch is looked up at once: its tokens chained into one list, mapped by
        ``map(dict.get, ...)`` consumed by ``np.fromiter`` (no Python bytecode per token),
        then cut back into one array per text.
        """
        token_lists = token_lists if isinstance(token_lists, list) else list(token_lists)
        if not token_lists:
            return []
        flat = list(chain.from_iterable(token_lists))
        ids = np.fromiter(map(self.word_index.get, flat, repeat(OOV)), np.int64, len(flat))
        ends = np.cumsum(np.fromiter(map(len, token_lists), np.int64, len(token_lists)))
        return np.split(ids, ends[:-1])


def pad_sequences(
    sequences: Sequence[np.ndarray], maxlen: int, truncating: str = "pre", padding: str = "pre"
) -> np.ndarray:
    """(n, maxlen) int64 ids, Keras-style: ``truncating="pre"`` keeps the last tokens.

    Parameters
    ----------
    sequences : list of int arrays
    maxlen : int
        Length of every row.
    truncating, padding : "pre" or "post"
        Where tokens are cut from and where the zeros go.
    """
    if maxlen < 1:
        raise UsageError(f"maxlen must be at least 1, got {maxlen}")
    for name, side in (("truncating", truncating), ("padding", padding)):
        if side not in SIDES:
            raise UsageError(f"{name} must be 'pre' or 'post', got {side!r}")
    out = np.zeros((len(sequences), maxlen), dtype=np.int64)
    for row, seq in enumerate(sequences):
        seq = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        if len(seq):
            if padding == "pre":
                out[row, maxlen - len(seq):] = seq
            else:
                out[row, :len(seq)] = seq
    return out


@dataclass(frozen=True)
class Labels:
    """Label names and the task they make: "binary", "multiclass" or "multilabel"."""

    names: tuple[str, ...]
    task: str

    @classmethod
    def from_data(cls, labels: Sequence[tuple[str, ...]], multi_label: bool) -> Labels:
        names = tuple(sorted({lab for labs in labels for lab in labs}))
        if len(names) < 2:
            found = f"only {names[0]!r}" if names else "none"
            raise InputFormatError(f"the training data has one class ({found}); a classifier "
                                   "needs texts of at least two classes")
        task = "multilabel" if multi_label else "binary" if len(names) == 2 else "multiclass"
        return cls(names, task)

    @property
    def outputs(self) -> int:
        """Output units: 1 for binary (sigmoid), else one per label."""
        return 1 if self.task == "binary" else len(self.names)

    def encode(self, labels: Sequence[tuple[str, ...]], what: str = "") -> np.ndarray:
        """Targets: (n,) int64 class ids, or (n, labels) float32 0/1 for multi-label.

        Labels not seen in training raise :class:`InputFormatError`, except in multi-label
        data, where they are left out with a warning naming ``what`` texts they come from (no
        model can predict them; the ModApte test split has three topics that never occur in
        training).
        """
        index = {name: i for i, name in enumerate(self.names)}
        unknown = sorted({lab for labs in labels for lab in labs} - set(index))
        if unknown and self.task == "multilabel":
            hit = sum(1 for labs in labels if any(lab not in index for lab in labs))
            log.warning("%sleft out %d label(s) not seen in training, on %d of %d texts: %s",
                        f"{what}: " if what else "", len(unknown), hit, len(labels),
                        listing(unknown))
            labels = [tuple(lab for lab in labs if lab in index) for labs in labels]
        elif unknown:
            raise InputFormatError(f"label(s) {listing(unknown, repr)} not seen in training; "
                                   f"the model knows {listing(self.names)}")
        if self.task != "multilabel":
            several = sum(len(labs) > 1 for labs in labels)
            if several:
                log.warning("%s%d of %d texts have several labels; this single-label model "
                            "counts each by its first label only", f"{what}: " if what else "",
                            several, len(labels))
            return np.array([index[labs[0]] for labs in labels], dtype=np.int64)
        out = np.zeros((len(labels), len(self.names)), dtype=np.float32)
        for row, labs in enumerate(labels):
            out[row, [index[lab] for lab in labs]] = 1.0
        return out


def listing(items: Sequence[Any], show: Any = str, most: int = 5) -> str:
    """``a, b, c, d, e, ... (N in all)``: a list for a one-line message."""
    shown = ", ".join(show(item) for item in items[:most])
    return shown + (f", ... ({len(items)} in all)" if len(items) > most else "")


def split_ids(
    splits: Sequence[str], validation: float = 0.2, test: float = 0.2, seed: int = 0,
    groups: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Train/validation/test ids, seeded, respecting the source's own split.

    A source "test" split is the test set (``test`` is then unused); a source
    "validation" split is the validation set; otherwise ``validation`` (a fraction of the
    training texts, as Keras' ``validation_split``) and ``test`` (a fraction of all texts)
    are drawn with ``seed``. With ``groups`` (a name per text, "" for none), texts of one
    group are drawn together, so no group is on both sides (aclImdb: reviews of one film).
    """
    for name, value in (("validation", validation), ("test", test)):
        if not 0.0 <= value < 1.0:
            raise UsageError(f"{name} fraction must be in [0, 1), got {value}")
    rng = np.random.default_rng(seed)
    splits = np.asarray(splits, dtype=object)
    ids = np.arange(len(splits))
    keys = _group_keys(groups, len(splits))
    if (splits == "test").any():
        test_ids, pool = ids[splits == "test"], ids[splits != "test"]
    else:
        test_ids, pool = _draw(ids, test, rng, keys)
    if (splits[pool] == "validation").any():
        val_ids, train_ids = pool[splits[pool] == "validation"], pool[splits[pool] != "validation"]
    else:
        val_ids, train_ids = _draw(np.sort(pool), validation, rng, keys)
    return {"train": np.sort(train_ids), "validation": np.sort(val_ids), "test": np.sort(test_ids)}


def _group_keys(groups: Sequence[str] | None, n: int) -> np.ndarray | None:
    """An int group id per text (texts without a group each on their own), or None when
    no text has a group."""
    if groups is None or not any(groups):
        return None
    if len(groups) != n:
        raise ValueError(f"{len(groups)} groups for {n} texts")
    names = np.asarray(groups, dtype=str)
    keys = np.unique(names, return_inverse=True)[1].reshape(-1)
    alone = names == ""
    keys[alone] = keys.max() + 1 + np.arange(int(alone.sum()))
    return keys


def _draw(pool: np.ndarray, fraction: float, rng: np.random.Generator,
          keys: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(drawn, rest) of ``pool``: ``fraction`` of its texts, whole groups at a time (as
    close to the fraction as group sizes allow)."""
    if keys is None:
        order = rng.permutation(pool)
        cut = int(round(len(order) * fraction))
        return np.sort(order[:cut]), order[cut:]
    unique, inverse, sizes = np.unique(keys[pool], return_inverse=True, return_counts=True)
    order = rng.permutation(len(unique))
    filled = np.cumsum(sizes[order])
    taken = int(np.argmin(np.abs(np.concatenate([[0], filled]) - len(pool) * fraction)))
    drawn = np.zeros(len(unique), dtype=bool)
    drawn[order[:taken]] = True
    return np.sort(pool[drawn[inverse]]), pool[~drawn[inverse]]
