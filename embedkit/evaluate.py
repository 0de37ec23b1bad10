"""Intrinsic evaluation: word-similarity correlation and analogy accuracy.

benchmark files ──► read_pairs / read_analogies ──► evaluate_pairs / evaluate_analogies
                                                    (Vectors) ──► scores with coverage

The numbers follow gensim's ``KeyedVectors.evaluate_word_pairs`` and
``evaluate_word_analogies`` exactly: words are compared upper-cased (the most frequent
case variant wins), only the ``restrict`` most frequent words count as known, pairs and
questions with unknown words are skipped (or, with ``dummy4unknown``, scored 0 / wrong),
and coverage is the share of valid lines whose words are all known. Analogies are solved
for all questions of a section at once (batched matrix products, see
:func:`embedkit.query.analogy_search`).

Readers accept TSV or space-separated ``w1 w2 score`` lines (``#`` comments, CRLF),
vecto CSVs with a header (``,word1,word2,similarity``; ``,type,word1,word2,word3,target``),
``: section`` analogy files (questions-words.txt) and section-less ``a b c d`` files (MSR).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from embedkit.errors import InputFormatError, UsageError
from embedkit.query import analogy_search, check_method
from embedkit.textfile import read_utf8
from embedkit.vectors import Vectors, require_vectors, unit_rows

log = logging.getLogger("embedkit.evaluate")

GENSIM_PAIRS = ("wordsim353.tsv", "simlex999.txt")
GENSIM_ANALOGIES = ("questions-words.txt",)
PAIRS_RESTRICT = 300_000  # gensim's default for evaluate_word_pairs
ANALOGY_RESTRICT = 30_000
_CANDIDATES = 5  # gensim looks at the top 5 answers and skips case variants of the inputs


@dataclass
class Section:
    """Analogy questions under one ``: section`` header (upper-cased when compared)."""

    name: str
    questions: list[tuple[str, str, str, str]]


# -- readers ---------------------------------------------------------------------------------
def _read_text(path: str | Path) -> str:
    """A benchmark file; a bare name that is not a file here (``questions-words.txt``) is
    looked up among the ones gensim ships."""
    path = Path(path)
    if not path.exists() and path.parent == Path("."):
        shipped = _gensim_test_data() / path.name
        path = shipped if shipped.is_file() else path
    return read_utf8(path, "benchmark file")


def _is_csv(path: str | Path) -> bool:
    """A ``.csv`` name, under any compression ending (``men.csv.gz``)."""
    name = Path(path).name.lower()
    for ending in (".gz", ".bz2", ".xz"):
        name = name.removesuffix(ending)
    return name.endswith(".csv")


def _csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text)) if row]
    header = [cell.lower() for cell in rows[0]] if rows else []
    return header, rows[1:]


def read_pairs(path: str | Path) -> tuple[list[tuple[str, str, float]], int]:
    """Word pairs with a human score, and the number of lines skipped as invalid.

    A valid line has exactly three fields (tab-separated when the line has a tab, else
    whitespace-separated) and a numeric third field, as gensim requires.
    """
    text = _read_text(path)
    if _is_csv(path):
        return _pairs_from_csv(text, path)
    pairs, invalid = [], 0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            a, b, score = fields
            pairs.append((a, b, float(score)))
        except ValueError:
            invalid += 1
    return pairs, invalid


def _pairs_from_csv(text: str, path: str | Path) -> tuple[list[tuple[str, str, float]], int]:
    header, rows = _csv_rows(text)
    try:
        cols = [header.index("word1"), header.index("word2")]
    except ValueError:
        raise InputFormatError("CSV header needs columns word1 and word2", path, 1) from None
    score_col = next((header.index(n) for n in ("similarity", "score", "relatedness")
                      if n in header), len(header) - 1)
    pairs, invalid = [], 0
    for row in rows:
        try:
            pairs.append((row[cols[0]], row[cols[1]], float(row[score_col])))
        except (ValueError, IndexError):
            invalid += 1
    return pairs, invalid


def read_analogies(path: str | Path) -> list[Section]:
    """Analogy questions ``a b c d`` by section (one section named after the file if none)."""
    return _read_analogies(path)[0]


def _read_analogies(path: str | Path) -> tuple[list[Section], int]:
    """The sections and the number of lines skipped as malformed (gensim skips them too)."""
    text = _read_text(path)
    if _is_csv(path):
        return _analogies_from_csv(text, path)
    sections: list[Section] = []
    invalid = 0
    for line in text.splitlines():
        if line.startswith(":"):
            sections.append(Section(line.lstrip(": ").strip(), []))
            continue
        fields = line.split()
        if len(fields) != 4:
            invalid += bool(fields) and not line.startswith("#")
            continue
        if not sections:
            sections.append(Section(Path(path).stem, []))
        sections[-1].questions.append(tuple(fields))
    return sections, invalid


def _analogies_from_csv(text: str, path: str | Path) -> tuple[list[Section], int]:
    header, rows = _csv_rows(text)
    try:
        cols = [header.index(n) for n in ("word1", "word2", "word3", "target")]
    except ValueError:
        raise InputFormatError("CSV header needs columns word1, word2, word3 and target",
                               path, 1) from None
    type_col = header.index("type") if "type" in header else None
    sections: dict[str, Section] = {}
    invalid = 0
    for row in rows:
        if len(row) <= max(cols):
            invalid += 1
            continue
        name = row[type_col] if type_col is not None else Path(path).stem
        sections.setdefault(name, Section(name, [])).questions.append(
            tuple(row[c] for c in cols))
    return list(sections.values()), invalid


# -- vocabulary as gensim sees it --------------------------------------------------------------
def known_words(vectors: Vectors, restrict: int | None, case_insensitive: bool = True
                ) -> dict[str, int]:
    """Word (upper-cased) -> row, over the ``restrict`` most frequent rows; first case wins."""
    rows = vectors.frequency_order()
    if restrict is not None:
        if restrict <= 0:
            raise UsageError(f"restrict must be a positive number of words, got {restrict}")
        rows = np.sort(rows[:restrict])
    words = vectors.words
    key = str.upper if case_insensitive else str
    return {key(words[i]): int(i) for i in rows[::-1]}


def _lookup(ok: dict[str, int], words: list[str], case_insensitive: bool) -> np.ndarray:
    if case_insensitive:
        words = [w.upper() for w in words]
    return np.array([ok.get(w, -1) for w in words], dtype=np.int64)


# -- word similarity -------------------------------------------------------------------------
def evaluate_pairs(vectors: Vectors, path: str | Path, restrict: int | None = PAIRS_RESTRICT,
                   case_insensitive: bool = True, dummy4unknown: bool = False) -> dict[str, Any]:
    """Spearman and Pearson correlation of cosine similarities with human scores.

    Returns ``{name, path, spearman, pearson, pairs, found, oov, coverage}``: ``pairs``
    valid lines, ``found`` pairs with both words known, ``coverage`` = found / pairs.
    """
    require_vectors(vectors, "evaluate_pairs")
    pairs, invalid = read_pairs(path)
    _warn_invalid(path, invalid, "word pair lines (word word score)")
    ok = known_words(vectors, restrict, case_insensitive)
    ids_a = _lookup(ok, [p[0] for p in pairs], case_insensitive)
    ids_b = _lookup(ok, [p[1] for p in pairs], case_insensitive)
    gold = np.array([p[2] for p in pairs], dtype=np.float64)
    known = (ids_a >= 0) & (ids_b >= 0)
    model = np.zeros(len(pairs), dtype=np.float64)
    if known.any():
        model[known] = _pair_cosines(vectors, ids_a[known], ids_b[known])
    keep = np.ones(len(pairs), bool) if dummy4unknown else known
    if keep.sum() < 2:
        hint = ("no line is 'word word score': an analogy file goes to --analogies" if not pairs
                else "the set knows too few of its words; use a benchmark in the set's language")
        raise InputFormatError(f"fewer than 2 scorable pairs ({int(known.sum())} of {len(pairs)} "
                               f"known, {invalid} invalid lines) for {vectors!r}; {hint}", path)
    found, oov = int(known.sum()), int((~known).sum())
    return {
        "name": Path(path).name,
        "path": str(path),
        "spearman": float(stats.spearmanr(gold[keep], model[keep])[0]),
        "pearson": float(stats.pearsonr(gold[keep], model[keep])[0]),
        "pairs": len(pairs),
        "found": found,
        "oov": oov,
        "invalid_lines": invalid,
        "coverage": found / len(pairs),
    }


def _pair_cosines(vectors: Vectors, ids_a: np.ndarray, ids_b: np.ndarray) -> np.ndarray:
    """Cosines of row pairs, rounded exactly as gensim's ``similarity`` rounds them.

    gensim normalises in float64, rounds the unit vectors to float32 and takes a float32
    BLAS dot product per pair. Spearman's rho depends on the ranks of near-equal cosines,
    so the same arithmetic is kept; the per-pair dot is a few microseconds each.
    """
    rows, inverse = np.unique(np.concatenate([ids_a, ids_b]), return_inverse=True)
    raw = vectors.rows(rows).astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", raw, raw))
    unit = (raw * (1.0 / np.where(norms > 0, norms, 1.0))[:, None]).astype(np.float32)
    ua, ub = unit[inverse[: len(ids_a)]], unit[inverse[len(ids_a):]]
    return np.array([np.dot(a, b) for a, b in zip(ua, ub, strict=True)], dtype=np.float64)


# -- analogies -------------------------------------------------------------------------------
def evaluate_analogies(vectors: Vectors, path: str | Path, restrict: int | None = ANALOGY_RESTRICT,
                       method: str = "3cosadd", case_insensitive: bool = True,
                       dummy4unknown: bool = False) -> dict[str, Any]:
    """Analogy accuracy per section and overall, with coverage.

    Returns ``{name, path, method, restrict, sections: [...], total: {...}}``; each entry
    has ``correct``, ``incorrect``, ``accuracy`` (correct / answered, 0 when none),
    ``questions`` (valid lines), ``oov`` (questions with an unknown word) and ``coverage``.
    """
    method = check_method(method)
    require_vectors(vectors, "evaluate_analogies")
    sections, invalid = _read_analogies(path)
    if not any(s.questions for s in sections):
        raise InputFormatError(f"no analogy questions (lines of 4 words: a b c d) in the file "
                               f"({invalid} other lines); is it a word-pair file? use --pairs",
                               path)
    _warn_invalid(path, invalid, "analogy lines (4 words)")
    ok = known_words(vectors, restrict, case_insensitive)
    canon = _canonical_rows(vectors, ok, restrict, case_insensitive)
    results = [_solve_section(vectors, s, ok, canon, restrict, method, case_insensitive,
                              dummy4unknown) for s in sections]
    total = {"section": "Total accuracy"}
    for key in ("correct", "incorrect", "questions", "oov"):
        total[key] = sum(r[key] for r in results)
    _finish(total)
    return {"name": Path(path).name, "path": str(path), "method": method, "restrict": restrict,
            "invalid_lines": invalid, "sections": results, "total": total}


def _warn_invalid(path: str | Path, invalid: int, what: str) -> None:
    if invalid:
        log.warning("%s: %d lines are not %s and were skipped, as gensim skips them",
                    path, invalid, what)


def _canonical_rows(vectors: Vectors, ok: dict[str, int], restrict: int | None,
                    case_insensitive: bool) -> np.ndarray:
    """For each searched row, the row its (upper-cased) word maps to; -1 for other rows."""
    canon = np.full(len(vectors), -1, dtype=np.int64)
    rows = vectors.frequency_order()
    rows = rows if restrict is None else rows[:restrict]
    key = str.upper if case_insensitive else str
    canon[rows] = [ok[key(vectors.words[i])] for i in rows]
    return canon


def _solve_section(vectors, section, ok, canon, restrict, method, case_insensitive,
                   dummy4unknown) -> dict[str, Any]:
    words = [list(q) for q in section.questions]
    ids = np.stack([_lookup(ok, [q[j] for q in words], case_insensitive) for j in range(4)],
                   axis=1) if words else np.empty((0, 4), np.int64)
    known = (ids >= 0).all(axis=1)
    correct = np.zeros(len(words), dtype=bool)
    if known.any():
        q = ids[known]
        unit = unit_rows(vectors.rows(q[:, :3].ravel())).reshape(len(q), 3, vectors.dim)
        found = analogy_search(vectors, unit[:, 0], unit[:, 1], unit[:, 2], q[:, :3],
                               _CANDIDATES, method, restrict)
        correct[known] = _first_answer(found.ids, canon, q) == q[:, 3]
    oov = int((~known).sum())
    answered = int(known.sum()) + (oov if dummy4unknown else 0)
    result = {"section": section.name, "correct": int(correct.sum()),
              "incorrect": answered - int(correct.sum()), "questions": len(words), "oov": oov}
    return _finish(result)


def _first_answer(cands: np.ndarray, canon: np.ndarray, q: np.ndarray) -> np.ndarray:
    """gensim's pick: the first candidate that is no case variant of an input, else the last."""
    cand_canon = np.where(cands >= 0, canon[np.maximum(cands, 0)], -2)
    is_input = (cand_canon[:, :, None] == q[:, None, :3]).any(axis=2) | (cands < 0)
    valid = (cands >= 0).sum(axis=1)
    first_ok = np.argmax(~is_input, axis=1)
    choice = np.where((~is_input).any(axis=1), first_ok, np.maximum(valid - 1, 0))
    return np.take_along_axis(cand_canon, choice[:, None], 1)[:, 0]


def _finish(entry: dict[str, Any]) -> dict[str, Any]:
    answered = entry["correct"] + entry["incorrect"]
    entry["accuracy"] = entry["correct"] / answered if answered else 0.0
    entry["coverage"] = (entry["questions"] - entry["oov"]) / entry["questions"] if (
        entry["questions"]) else 0.0
    return entry


def gensim_benchmarks() -> tuple[list[Path], list[Path]]:
    """The word-similarity and analogy files that ship with gensim's test data."""
    folder = _gensim_test_data()
    return [folder / n for n in GENSIM_PAIRS], [folder / n for n in GENSIM_ANALOGIES]


def _gensim_test_data() -> Path:
    import gensim

    return Path(gensim.__file__).parent / "test" / "test_data"
