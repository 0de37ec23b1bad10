"""Build word vectors from a corpus: PPMI-SVD (count-based) and gensim word2vec/fastText.

The one place that knows the stage order (corpus -> tokens -> vocab -> cooccur -> pmi ->
svd -> :class:`~embedkit.vectors.Vectors`). :func:`build_ppmi_svd` reads and tokenises the
corpus once (in a process pool), keeping each document as int32 ids (4 bytes per token),
builds the vocabulary, counts co-occurrences within the memory budget, weights them and
factorises; the returned set records every parameter, the corpus files and sizes, token,
document and vocabulary counts, the time of each stage, and the singular values
(``metadata["_arrays"]["singular_values"]``, written by the store to ``/extra``).

Presets: ``levy2015`` is what Levy, Goldberg & Dagan (2015, TACL 3) found best for SVD
(window 2, context-distribution smoothing 0.75, no shift, eigenvalue weighting p = 0.5);
the default ``embedkit`` keeps their PPMI with smoothing 0.75 but uses window 5 and p = 0,
which measured better on the IMDB reviews (WS-353 rho 0.49 against 0.38, SimLex 0.26
against 0.25; see the README). ``lecture`` is the lecture's recipe: PPMI with log2 and no
smoothing (cds = 1) and U Sigma (p = 1).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from embedkit import progress
from embedkit.cooccur import CountConfig, count_cooccurrences
from embedkit.errors import EmbedkitError, InputFormatError, UsageError
from embedkit.pmi import PMIConfig, weight
from embedkit.svd import SVDConfig, embed, truncated_svd, zero_rows
from embedkit.tokens import TokenizerConfig
from embedkit.vectors import Vectors
from embedkit.vocab import Vocabulary

log = logging.getLogger("embedkit.build")

PRESETS: dict[str, dict[str, Any]] = {
    # measured best on IMDB (benchmarks/bench_build.py): WS-353 0.49 against 0.38 for levy2015
    "embedkit": {"weighting": "ppmi", "cds": 0.75, "eig": 0.0, "window": 5},
    # Levy, Goldberg & Dagan (2015), Table 5 / sec. 6: the best SVD settings
    "levy2015": {"weighting": "ppmi", "cds": 0.75, "eig": 0.5, "window": 2},
    # the lecture: log2 PPMI without smoothing, vectors U Sigma
    "lecture": {"weighting": "ppmi", "cds": 1.0, "eig": 1.0, "window": 2},
}
DEFAULT_PRESET = "embedkit"
_BATCH_DOCS = 2000


def parse_memory(text: str | int) -> int:
    """Bytes from ``"4G"``, ``"512M"``, ``"1.5GiB"`` or a plain number of bytes."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
    if not m:
        raise UsageError(f"cannot read memory size {text!r}; write e.g. 4G, 512M or 1.5G")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


# -- reading the corpus once -------------------------------------------------------------
@dataclass
class TokenizedCorpus:
    """Every document as int32 ids into ``words`` (first-seen order), with counts."""

    words: list[str]
    counts: np.ndarray
    docs: list[np.ndarray]
    files: list[dict[str, Any]]
    stats: dict[str, Any]

    @property
    def tokens(self) -> int:
        return int(self.counts.sum())

    def vocabulary(self, min_count: int, max_vocab: int | None) -> Vocabulary:
        return Vocabulary.from_counts(dict(zip(self.words, self.counts.tolist(), strict=True)),
                                      min_count, max_vocab)

    def id_docs(self, vocab: Vocabulary) -> Iterator[np.ndarray]:
        """Documents in ``vocab`` ids; words outside it become -1 (a gap in the window)."""
        lookup = np.fromiter(map(vocab.word_to_id.get, self.words, repeat(-1)),
                             dtype=np.int32, count=len(self.words))
        return (lookup[doc] for doc in self.docs)


def token_batches(corpus: Any, tokenizer: TokenizerConfig, workers: int
                  ) -> Iterator[list[list[str]]]:
    """Lists of token lists from a ``Corpus``, paths, or an iterable of token lists."""
    if hasattr(corpus, "token_batches"):
        yield from corpus.token_batches(tokenizer, workers=workers)
        return
    batch: list[list[str]] = []
    for doc in corpus:
        batch.append(list(doc))
        if len(batch) >= _BATCH_DOCS:
            yield batch
            batch = []
    if batch:
        yield batch


def open_corpus(corpus: Any, **corpus_options: Any) -> Any:
    """A ``Corpus`` for a path or a list of paths; anything else is returned as it is."""
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    if isinstance(corpus, Sequence) and corpus and isinstance(corpus[0], (str, os.PathLike)):
        from embedkit.corpus import Corpus, CorpusConfig

        return Corpus(list(corpus), CorpusConfig(**corpus_options))
    return corpus


def corpus_files(corpus: Any) -> list[dict[str, Any]]:
    """The corpus files read, with absolute paths and sizes (provenance)."""
    return [{"path": os.path.abspath(f.path), "bytes": int(f.size)}
            for f in getattr(corpus, "files", [])]


def corpus_params(corpus: Any) -> dict[str, Any] | None:
    """How the corpus was read (format, glob, encoding, ...), for the set's provenance."""
    config = getattr(corpus, "config", None)
    if config is None or not dataclasses.is_dataclass(config):
        return None
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(config).items()}


def read_tokens(corpus: Any, tokenizer: TokenizerConfig, workers: int = 2) -> TokenizedCorpus:
    """Tokenise ``corpus`` once, keeping ids (first-seen order) and counts."""
    word_to_id: dict[str, int] = {}
    docs: list[np.ndarray] = []
    with progress.task("reading and tokenising (documents)") as bar:
        for batch in token_batches(corpus, tokenizer, workers):
            for tokens in batch:
                docs.append(_provisional_ids(tokens, word_to_id))
            bar.advance(len(batch))
    if not any(doc.size for doc in docs):
        if hasattr(corpus, "check_not_empty"):
            corpus.check_not_empty()  # says which files were skipped and why
        raise EmbedkitError("the corpus holds no tokens (empty files or nothing but markup?)")
    counts = np.bincount(np.concatenate(docs), minlength=len(word_to_id))
    files = corpus_files(corpus)
    raw_stats = getattr(corpus, "stats", None)
    stats = _plain(raw_stats or {})
    skipped = getattr(raw_stats, "skipped", None)
    if skipped:
        stats["skipped_files"] = [f"{name}: {reason}" for name, reason in skipped]
    return TokenizedCorpus(list(word_to_id), counts.astype(np.int64), docs, files, stats)


def _provisional_ids(tokens: list[str], word_to_id: dict[str, int]) -> np.ndarray:
    ids = np.fromiter(map(word_to_id.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
    for i in np.flatnonzero(ids < 0):  # only the first occurrences of new words
        ids[i] = word_to_id.setdefault(tokens[i], len(word_to_id))
    return ids


def _plain(stats: Any) -> dict[str, Any]:
    if hasattr(stats, "__dataclass_fields__"):
        from dataclasses import asdict

        stats = asdict(stats)
    return {k: v for k, v in dict(stats).items() if isinstance(v, (int, float, str, bool))}


# -- PPMI-SVD ------------------------------------------------------------------------------
def resolve_preset(preset: str | None, **explicit: Any) -> dict[str, Any]:
    """Preset values, overridden by every explicit (not None) value."""
    name = preset or DEFAULT_PRESET
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    values = dict(PRESETS[name])
    values.update({k: v for k, v in explicit.items() if v is not None})
    return values


def build_ppmi_svd(
    corpus: Any,
    *,
    tokenizer: TokenizerConfig | None = None,
    min_count: int = 5,
    max_vocab: int | None = None,
    window: int | None = None,
    context: str = "window",
    window_weighting: str = "uniform",
    subsample: float = 0.0,
    weighting: str | None = None,
    cds: float | None = None,
    shift: float | None = None,
    dim: int = 300,
    eig: float | None = None,
    algorithm: str = "randomized",
    seed: int = 0,
    memory: str | int = "2G",
    preset: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    cluster: str | None = None,
) -> Vectors:
    """PPMI-SVD word vectors from a corpus (the Python twin of ``embedkit build ppmi``).

    Parameters
    ----------
    corpus : a path, a list of paths (read by :class:`embedkit.corpus.Corpus`), a
        ``Corpus``, or an iterable of token lists (one per document).
    tokenizer : :class:`TokenizerConfig` (default: lower-case, drop punctuation).
    min_count, max_vocab : vocabulary limits (count descending, then word).
    window, context, window_weighting, subsample : see :class:`CountConfig`.
    weighting, cds, shift : see :class:`PMIConfig`.
    dim, eig, algorithm, seed : see :class:`SVDConfig`.
    memory : the counting stage's budget (``"4G"`` or bytes).
    preset : ``"embedkit"`` (default: window 5, cds 0.75, p 0), ``"levy2015"`` (window 2,
        cds 0.75, p 0.5) or ``"lecture"`` (cds 1, p 1); explicit values override it.
    workers : processes for tokenising and threads for counting.
    scheduler, cluster : run on Dask instead: a scheduler address (``tcp://host:8786``) or
        ``"local:N"``; see :func:`embedkit.distributed.build_ppmi_svd_distributed`.

    Returns
    -------
    :class:`Vectors` (vocabulary x dim float32), rows in vocabulary order, with counts.
    """
    check_conflicts(context=context, window=window, window_weighting=window_weighting,
                    weighting=weighting, cds=cds, shift=shift)
    if scheduler is not None or cluster is not None:  # the same build, stages on Dask
        from embedkit.distributed import build_ppmi_svd_distributed

        return build_ppmi_svd_distributed(
            corpus, scheduler=scheduler, cluster=cluster, tokenizer=tokenizer,
            min_count=min_count, max_vocab=max_vocab, window=window, context=context,
            window_weighting=window_weighting, subsample=subsample, weighting=weighting,
            cds=cds, shift=shift, dim=dim, eig=eig, algorithm=algorithm, seed=seed,
            memory=memory, preset=preset)
    values = resolve_preset(preset, weighting=weighting, cds=cds, eig=eig, window=window)
    tokenizer = tokenizer or TokenizerConfig()
    count_cfg = CountConfig(window=values["window"], context=context, weighting=window_weighting,
                            subsample=subsample, memory=parse_memory(memory), seed=seed,
                            workers=workers)
    pmi_cfg = PMIConfig(weighting=values["weighting"], cds=values["cds"], shift=shift)
    svd_cfg = SVDConfig(dim=dim, eig=values["eig"], algorithm=algorithm, seed=seed)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    corpus = open_corpus(corpus)
    read = read_tokens(corpus, tokenizer, workers)
    timings["read_tokenize_s"] = _lap(clock)
    clock = time.perf_counter()
    vocab = read.vocabulary(min_count, max_vocab)
    timings["vocabulary_s"] = _lap(clock)
    _check_dim(dim, len(vocab), min_count, max_vocab)
    vectors, extra = ppmi_svd_from_ids(read.id_docs(vocab), vocab, count_cfg, pmi_cfg, svd_cfg,
                                       total_tokens=read.tokens)
    timings.update(extra.pop("timings"))
    params = {"corpus": corpus_params(corpus), "tokenizer": tokenizer.to_dict(),
              "min_count": min_count, "max_vocab": max_vocab,
              "preset": preset or DEFAULT_PRESET, "count": count_cfg.to_dict(),
              "pmi": pmi_cfg.to_dict(), "svd": svd_cfg.to_dict()}
    stats = {"tokens": read.tokens, "documents": len(read.docs), "distinct_words": len(read.words),
             "vocabulary": len(vocab), **read.stats, **extra}
    vectors.metadata.update(params=params, stats=stats, files=read.files,
                            timings={k: round(v, 3) for k, v in timings.items()})
    return vectors


def check_conflicts(*, context: str, window: int | None, window_weighting: str,
                    weighting: str | None, cds: float | None, shift: float | None) -> None:
    """Usage errors for options the chosen context or weighting would silently ignore."""
    if context != "window":
        _refuse([("--window", window is not None),
                 ("--window-weighting", window_weighting != "uniform")],
                f"--context window, not --context {context}", "use --context window")
    if weighting == "count":
        _refuse([("--cds", cds is not None), ("--shift", shift is not None)],
                "the PMI weightings (pmi, ppmi, sppmi), not --weighting count",
                "choose a PMI weighting")


def _refuse(options: list[tuple[str, bool]], scope: str, alternative: str) -> None:
    given = [name for name, used in options if used]
    if given:
        one = len(given) == 1
        raise UsageError(f"{' and '.join(given)} {'applies' if one else 'apply'} only to "
                         f"{scope}; drop {'it' if one else 'them'} or {alternative}")


def ppmi_svd_from_ids(id_docs: Iterable[np.ndarray], vocab: Vocabulary, count_cfg: CountConfig,
                      pmi_cfg: PMIConfig, svd_cfg: SVDConfig, total_tokens: int | None = None,
                      ) -> tuple[Vectors, dict[str, Any]]:
    """Count, weight and factorise documents already in vocabulary ids."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    count_stats: dict[str, Any] = {}
    keep = vocab.keep_probabilities(count_cfg.subsample) if count_cfg.subsample > 0 else None
    counts = count_cooccurrences(id_docs, len(vocab), count_cfg, keep, count_stats, total_tokens)
    timings["count_s"] = _lap(clock)
    clock = time.perf_counter()
    with progress.task("weighting (PPMI)", 1) as bar:
        weighted = weight(counts, pmi_cfg)
        bar.advance()
    nnz_counts = int(counts.nnz)
    del counts
    timings["weight_s"] = _lap(clock)
    by_document = count_cfg.context == "document"
    _check_dim(svd_cfg.dim, min(weighted.shape), None,
               what="documents (--context document)" if by_document else "distinct words")
    check_weighted(int(weighted.nnz), pmi_cfg)
    clock = time.perf_counter()
    with progress.task(f"SVD ({svd_cfg.algorithm}, {svd_cfg.dim} dims)", 1) as bar:
        u, s, _ = truncated_svd(weighted, svd_cfg.dim, svd_cfg.algorithm, svd_cfg.seed,
                                svd_cfg.oversample, svd_cfg.power_iters, count_cfg.workers)
        bar.advance()
    empty = zero_rows(weighted)
    matrix = embed(u, s, svd_cfg.eig, zero=empty)
    timings["svd_s"] = _lap(clock)
    if empty.any():
        log.info("%d words have no contexts left after weighting: their vectors are zero",
                 int(empty.sum()))
    meta = {"source": "ppmi-svd", "builder": "embedkit.build.build_ppmi_svd",
            "_arrays": {"singular_values": s.astype(np.float64)}}
    extra = {"timings": timings, "nonzero_counts": nnz_counts,
             "nonzero_weighted": int(weighted.nnz),
             "words_without_contexts": int(empty.sum()), "count": _plain(count_stats),
             "matrix_shape": list(weighted.shape)}
    return Vectors(vocab.words, matrix, vocab.counts, meta), extra


def _check_dim(dim: int, size: int, min_count: int | None, max_vocab: int | None = None,
               what: str = "distinct words") -> None:
    """The SVD gives at most ``size - 1`` dimensions for a matrix with ``size`` rows or
    columns; say which option limited ``size``."""
    if dim < size:
        return
    if max_vocab is not None and size >= max_vocab:
        limit = f" (--max-vocab {max_vocab})"
        fix = "raise --max-vocab"
    elif min_count is not None:
        limit, fix = f" with min_count={min_count}", "lower --min-count"
    elif what.startswith("documents"):
        limit, fix = "", ("cut the text into more documents (--format lines: one per line; "
                      "--format paragraphs: one per block between blank lines)")
    else:
        limit, fix = "", "use a larger corpus"
    if size == 1:  # "1 document", "1 distinct word"
        what = what.replace("documents", "document", 1).replace("words", "word", 1)
    raise EmbedkitError(
        f"cannot build {dim}-dimensional vectors from {size} {what}{limit}: the SVD allows "
        f"at most {max(size - 1, 0)} dimensions; lower --dim or {fix}")


def _lap(start: float) -> float:
    return time.perf_counter() - start


# -- gensim ---------------------------------------------------------------------------------
GENSIM_MODELS = ("word2vec", "fasttext")


def check_weighted(nonzero: int, pmi_cfg: PMIConfig) -> None:
    """Every weight zero (a shift above every PMI) would store only zero vectors."""
    if nonzero == 0 and pmi_cfg.k > 1:
        raise InputFormatError(
            f"no co-occurrence keeps a positive weight after {pmi_cfg.weighting} weighting "
            f"(shift k = {pmi_cfg.k:g} subtracts log2 k from every PMI): every vector would be "
            "zero; lower --shift")
    if nonzero == 0:  # no shift: every word meets its contexts no more often than chance
        raise InputFormatError(
            f"no co-occurrence has a positive PMI, so {pmi_cfg.weighting} weighting leaves "
            "every vector zero (every word occurs with every context as often as chance "
            "predicts); use a larger, more varied corpus or --weighting count")


def train_word2vec(corpus: Any, **options: Any) -> Vectors:
    """word2vec vectors trained by gensim on ``corpus`` (paths or a Corpus).

    Options (keyword, see :func:`train_gensim`): ``tokenizer``, ``sg`` (True: skip-gram),
    ``window`` (5), ``dim`` (100), ``epochs`` (5), ``min_count`` (5), ``max_vocab``,
    ``negative`` (5), ``sample`` (1e-3), ``seed`` (0), ``workers`` (all cores; 1 gives
    gensim's reproducible run).
    """
    return train_gensim("word2vec", corpus, **_known_options("train_word2vec", options))


def train_fasttext(corpus: Any, **options: Any) -> Vectors:
    """fastText vectors trained by gensim, with their subword tables (vectors for unknown
    words). Options as :func:`train_word2vec`, plus ``min_n`` (3), ``max_n`` (6) and
    ``bucket`` (2,000,000): the character n-gram lengths and hash buckets."""
    return train_gensim("fasttext", corpus, **_known_options("train_fasttext", options))


def _known_options(caller: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` if :func:`train_gensim` takes them all, else a TypeError listing them."""
    import inspect

    valid = [p for p in inspect.signature(train_gensim).parameters if p not in ("model", "corpus")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise TypeError(f"{caller}() got unknown option(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(valid)}")
    return options


def train_gensim(
    model: str,
    corpus: Any,
    *,
    tokenizer: TokenizerConfig | None = None,
    sg: bool = True,
    window: int = 5,
    dim: int = 100,
    epochs: int = 5,
    min_count: int = 5,
    max_vocab: int | None = None,
    negative: int = 5,
    sample: float = 1e-3,
    min_n: int = 3,
    max_n: int = 6,
    bucket: int = 2_000_000,
    seed: int = 0,
    workers: int | None = None,
) -> Vectors:
    """Train gensim's word2vec or fastText (``model``) on ``corpus``.

    The corpus is tokenised once (same tokeniser as PPMI-SVD) into a temporary file that
    gensim reads in its ``corpus_file`` mode (its fastest: no Python per sentence, all
    ``workers`` busy). ``workers`` defaults to the number of cores. gensim's training is
    only reproducible with one worker; ``seed`` fixes the initialisation.
    """
    import tempfile

    if model not in GENSIM_MODELS:
        raise UsageError(f"unknown model {model!r}; choose one of {', '.join(GENSIM_MODELS)}")
    _check_gensim_options(model, window=window, dim=dim, epochs=epochs, min_count=min_count,
                          max_vocab=max_vocab, negative=negative, sample=sample, min_n=min_n,
                          max_n=max_n, bucket=bucket, workers=workers, seed=seed)
    tokenizer = tokenizer or TokenizerConfig()
    workers = workers or os.cpu_count() or 1
    corpus = open_corpus(corpus)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="embedkit-") as tmp:
        path = Path(tmp) / "tokens.txt"
        clock = time.perf_counter()
        read = write_token_file(corpus, tokenizer, workers, path)
        timings["read_tokenize_s"] = _lap(clock)
        if read["tokens"] == 0:
            if hasattr(corpus, "check_not_empty"):
                corpus.check_not_empty()
            raise EmbedkitError("the corpus holds no tokens (empty files or nothing but markup?)")
        clock = time.perf_counter()
        kv = _gensim_train(model, str(path), read["tokens"], dict(
            vector_size=dim, window=window, min_count=min_count, max_final_vocab=max_vocab,
            sg=int(sg), epochs=epochs, negative=negative, sample=sample, seed=seed,
            workers=workers, **({"min_n": min_n, "max_n": max_n, "bucket": bucket}
                                if model == "fasttext" else {})))
        timings["train_s"] = _lap(clock)
    words = list(kv.index_to_key)
    counts = np.array([kv.get_vecattr(w, "count") for w in words], dtype=np.int64)
    subwords = None
    if model == "fasttext":
        from embedkit.subwords import Subwords

        subwords = Subwords(np.asarray(kv.vectors_ngrams, np.float32), min_n, max_n, bucket)
    params = {"model": model, "corpus": corpus_params(corpus), "tokenizer": tokenizer.to_dict(),
              "sg": bool(sg), "window": window,
              "dim": dim, "epochs": epochs, "min_count": min_count, "max_vocab": max_vocab,
              "negative": negative, "sample": sample, "seed": seed, "workers": workers}
    if model == "fasttext":
        params.update(min_n=min_n, max_n=max_n, bucket=bucket)
    meta = {"source": model, "builder": f"embedkit.build.train_{model}", "params": params,
            "stats": {**read, "vocabulary": len(words)},
            "files": corpus_files(corpus),
            "timings": {k: round(v, 3) for k, v in timings.items()}}
    return Vectors(words, np.asarray(kv.vectors, np.float32), counts, meta, subwords)


def _check_gensim_options(model: str, **o: Any) -> None:
    """Usage errors for settings gensim would crash on or silently train nothing with."""
    for name in ("window", "dim", "epochs", "min_count", "negative"):
        if o[name] < 1:
            hint = " (negative sampling is the training loss here)" * (name == "negative")
            raise UsageError(f"{name} must be >= 1, got {o[name]}{hint} "
                             f"(--{name.replace('_', '-')})")
    for name in ("max_vocab", "workers"):
        if o[name] is not None and o[name] < 1:
            raise UsageError(f"{name} must be >= 1, got {o[name]} (--{name.replace('_', '-')})")
    if isinstance(o["seed"], bool) or not isinstance(o["seed"], int) \
            or not 0 <= o["seed"] < 2**32:
        raise UsageError(f"seed must be an integer from 0 to 2**32 - 1 (gensim's range), "
                         f"got {o['seed']!r} (--seed)")
    if not (math.isfinite(o["sample"]) and 0 <= o["sample"] < 1):
        raise UsageError(f"sample must be in [0, 1) (0 = no downsampling), got {o['sample']}")
    if model == "fasttext" and not (1 <= o["min_n"] <= o["max_n"] and o["bucket"] >= 1):
        raise UsageError(f"fastText needs 1 <= --min-n <= --max-n and --bucket >= 1, got "
                         f"min_n={o['min_n']}, max_n={o['max_n']}, bucket={o['bucket']}")


def _gensim_train(model: str, path: str, tokens: int, options: dict[str, Any]) -> Any:
    from gensim.models import FastText, Word2Vec

    cls = FastText if model == "fasttext" else Word2Vec
    trainer = cls(**options)
    with progress.task(f"{model}: building the vocabulary", 1) as bar:
        trainer.build_vocab(corpus_file=path)
        bar.advance()
    if not trainer.wv.index_to_key:
        raise EmbedkitError(f"min_count={options['min_count']} leaves no vocabulary; "
                            "lower --min-count")
    with progress.task(f"{model}: training {options['epochs']} epochs", 1) as bar:
        # total_examples as gensim's own Word2Vec(corpus_file=...) passes it: the learning
        # rate then decays by lines read, and the vectors equal gensim's for the same settings
        trainer.train(corpus_file=path, total_examples=trainer.corpus_count,
                      total_words=trainer.corpus_total_words, epochs=options["epochs"])
        bar.advance()
    return trainer.wv


def write_token_file(corpus: Any, tokenizer: TokenizerConfig, workers: int, path: Path
                     ) -> dict[str, Any]:
    """Tokenise ``corpus`` into ``path``, one document per line (gensim's corpus_file)."""
    docs = tokens = 0
    with open(path, "w", encoding="utf-8") as out, \
            progress.task("reading and tokenising (documents)") as bar:
        for batch in token_batches(corpus, tokenizer, workers):
            lines = [" ".join(doc) for doc in batch if doc]
            if lines:
                out.write("\n".join(lines) + "\n")
            docs += len(lines)
            tokens += sum(len(doc) for doc in batch)
            bar.advance(len(batch))
    return {"documents": docs, "tokens": tokens}


# -- the demo -------------------------------------------------------------------------------
DEMO_FILES = ("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
              "lee_background.cor")
DEMO_WORDS = ("france", "music", "war", "science", "water", "australia", "government")


def demo_corpus() -> list[str]:
    """The real text that ships inside gensim: a Wikipedia dump extract and the Lee corpus."""
    import gensim

    folder = Path(gensim.__file__).parent / "test" / "test_data"
    return [str(folder / name) for name in DEMO_FILES]


def demo(home: str | os.PathLike | None = None, force: bool = True, dim: int = 100,
         words: Sequence[str] = DEMO_WORDS, k: int = 6) -> dict[str, Any]:
    """Build PPMI-SVD vectors from :func:`demo_corpus`, store them as set ``demo`` (with a
    flat index when :mod:`embedkit.index` is available) and return the neighbours of
    ``words``."""
    from embedkit import store, workspace

    start = time.perf_counter()
    path = workspace.target_path("demo", home, force)
    vectors = build_ppmi_svd(demo_corpus(), min_count=5, dim=dim, seed=0)
    store.save(vectors, path)
    stored = workspace.open_set(str(path))
    indexed = _index_demo(stored, path.parent)
    neighbours = {w: [(n, round(s, 3)) for n, s in stored.most_similar(w, k)]
                  for w in words if w in stored}
    return {"path": str(path), "words": len(stored), "dim": stored.dim, "index": indexed,
            "tokens": vectors.metadata["stats"]["tokens"], "neighbours": neighbours,
            "seconds": round(time.perf_counter() - start, 1)}


def _index_demo(vectors: Vectors, folder: Path) -> str | None:
    try:
        from embedkit.index import Index
    except ImportError:  # the index module is optional
        return None
    index = Index.build(vectors, "flat")
    index.save(folder)
    return index.name
