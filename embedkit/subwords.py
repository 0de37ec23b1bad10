"""fastText subword tables: vectors for words outside the vocabulary.

A fastText model hashes each word's character n-grams (``<word>`` padded, lengths minn..maxn)
into ``bucket`` rows of an n-gram matrix; an unknown word's vector is the mean of its
n-gram rows. Hashing is gensim's (``ft_ngram_hashes``), which matches Facebook's fastText,
so vectors equal gensim's ``FastTextKeyedVectors`` for the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Subwords:
    """The n-gram bucket matrix (bucket, dim) float32 and its hashing parameters."""

    ngram_vectors: np.ndarray
    minn: int
    maxn: int
    bucket: int

    def hashes(self, word: str) -> list[int]:
        from gensim.models.fasttext import ft_ngram_hashes

        return list(ft_ngram_hashes(word, self.minn, self.maxn, self.bucket))

    def vector(self, word: str) -> np.ndarray:
        """Mean of the word's n-gram rows (the origin when it has none)."""
        dim = self.ngram_vectors.shape[1]
        hashes = self.hashes(word) if self.bucket else []
        if not hashes:
            return np.zeros(dim, dtype=np.float32)
        # h5py reads only sorted unique ids; gensim sums in n-gram order in float32
        unique, inverse = np.unique(np.asarray(hashes, dtype=np.int64), return_inverse=True)
        rows = np.asarray(self.ngram_vectors[unique], dtype=np.float32)[inverse]
        acc = np.zeros(dim, dtype=np.float32)
        for row in rows:
            acc += row
        return acc / len(hashes)
