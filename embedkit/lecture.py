"""The lecture's small examples: letter counts of Salammbô -> SVD, and LSA on documents.

1. **Letter counts separate languages.** Count the letters a-z in each chapter of Flaubert's
   *Salammbô* in French and in its English translation: a 30 x 26 matrix. Its first
   singular direction is chapter length; the second separates the French chapters from
   the English ones (a threshold on component 2 splits them perfectly).
   :func:`course_counts` reproduces the course's own files (``total<TAB>count``) exactly:
   there, "total" is the number of characters of the chapter once the byte-order mark,
   blank lines and the final newline are removed (not the number of letters), and a
   letter's count is that of the lower-cased text (accented letters are not folded).
2. **LSA.** A document x word count matrix, factorised by truncated SVD: documents and
   words in one low-dimensional space (Deerwester et al. 1990).

Run ``python -m embedkit.lecture [SALAMMBO_FOLDER]`` to print both.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from embedkit.cooccur import CountConfig, count_cooccurrences
from embedkit.errors import NotFoundError
from embedkit.svd import truncated_svd
from embedkit.vocab import Vocabulary

LANGUAGES = {"fr": "salammbo_ch{:02d}.txt", "en": "salammbo_en_ch{:02d}.txt"}
CHAPTERS = 15


def read_chapter(folder: str | Path, language: str, chapter: int) -> str:
    """One chapter's text (``folder`` is ``salammbo/`` or its ``text/`` subfolder)."""
    folder = Path(folder)
    if (folder / "text").is_dir():
        folder = folder / "text"
    path = folder / LANGUAGES[language].format(chapter)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such chapter file")
    return path.read_text(encoding="utf-8-sig")


def course_counts(text: str, letters: str = "ae") -> tuple[int, ...]:
    """(total, count of each of ``letters``) exactly as the course's letter-count files."""
    text = text.lstrip("\ufeff")
    joined = "\n".join(line for line in text.splitlines() if line.strip())
    lower = joined.lower()
    return (len(joined), *(lower.count(c) for c in letters))


def letter_counts(text: str, alphabet: str = string.ascii_lowercase) -> np.ndarray:
    """Counts of each letter of ``alphabet`` in the lower-cased text (int64)."""
    lower = text.lower()
    return np.array([lower.count(c) for c in alphabet], dtype=np.int64)


@dataclass
class LetterSVD:
    """Chapters projected on the singular directions of their letter-count matrix."""

    labels: list[str]  # "fr-01", ..., "en-15"
    languages: np.ndarray  # "fr" / "en" per row
    counts: np.ndarray  # (30, 26) int64
    components: np.ndarray  # (30, k) = U * S
    singular_values: np.ndarray

    def separating_component(self) -> tuple[int, float] | None:
        """(component, threshold) of the first component on which the languages do not
        overlap (threshold halfway between them), or None."""
        fr = self.languages == "fr"
        for k in range(self.components.shape[1]):
            a, b = self.components[fr, k], self.components[~fr, k]
            if a.min() > b.max():
                return k, float((a.min() + b.max()) / 2)
            if b.min() > a.max():
                return k, float((b.min() + a.max()) / 2)
        return None


def salammbo_letter_svd(folder: str | Path, dim: int = 3) -> LetterSVD:
    """Letter counts per chapter (French then English) -> SVD (U * S, ``dim`` components)."""
    labels, languages, rows = [], [], []
    for language in LANGUAGES:
        for chapter in range(1, CHAPTERS + 1):
            rows.append(letter_counts(read_chapter(folder, language, chapter)))
            labels.append(f"{language}-{chapter:02d}")
            languages.append(language)
    counts = np.vstack(rows)
    u, s, vt = np.linalg.svd(counts.astype(np.float64), full_matrices=False)
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
    u = u * signs
    return LetterSVD(labels, np.array(languages), counts, (u * s)[:, :dim], s[:dim])


@dataclass
class LSA:
    """Latent semantic analysis of a document collection."""

    vocabulary: Vocabulary
    term_document: sp.csr_matrix  # (words, documents) counts
    word_vectors: np.ndarray  # (words, dim) = U * S
    document_vectors: np.ndarray  # (documents, dim) = V * S
    singular_values: np.ndarray


def lsa(documents: Sequence[Sequence[str]], dim: int = 2, min_count: int = 1,
        algorithm: str = "arpack", seed: int = 0) -> LSA:
    """Term-document counts of tokenised ``documents`` -> truncated SVD (``dim`` dims)."""
    vocab = Vocabulary.from_documents(documents, min_count=min_count)
    ids = (vocab.encode(doc) for doc in documents)
    matrix = count_cooccurrences(ids, len(vocab), CountConfig(context="document", workers=1))
    u, s, vt = truncated_svd(matrix, dim, algorithm, seed)
    return LSA(vocab, matrix, u * s, vt.T * s, s)


def main(argv: Sequence[str] = ()) -> None:
    """Print the Salammbô projection and each chapter's course counts."""
    folder = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "shared/data/salammbo"
    result = salammbo_letter_svd(folder)
    found = result.separating_component()
    print("chapter  component1  component2  (course: total, a, e)")
    for i, label in enumerate(result.labels):
        lang, chapter = label.split("-")
        total, a, e = course_counts(read_chapter(folder, lang, int(chapter)))
        print(f"{label}  {result.components[i, 0]:10.1f}  {result.components[i, 1]:10.1f}"
              f"  ({total}, {a}, {e})")
    if found:
        print(f"component {found[0] + 1} separates the languages at {found[1]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
