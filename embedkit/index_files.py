"""Index files: where an index lives, its JSON manifest, and the staleness check.

``<folder>/<name>.faiss`` holds the FAISS index, ``<folder>/<name>.json`` its manifest.
An index whose manifest fingerprint differs from its set's is refused
(:class:`~embedkit.errors.StaleIndexError`) with the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import NameExistsError, NotFoundError, StaleIndexError, StoreError, UsageError
from embedkit.faiss_ops import first_line
from embedkit.vectors import Vectors


def check_target(folder_or_path: str | os.PathLike, name: str | None,
                 overwrite: bool = False) -> Path:
    """The .faiss path an index will be saved to; refuses an existing one unless ``overwrite``."""
    path = index_path(folder_or_path, name)
    if path.exists() and not overwrite:
        raise NameExistsError(f"index {path.stem!r} already exists in {path.parent}; "
                              "use --force to replace it or choose another --index-name")
    return path


def index_path(folder_or_path: str | os.PathLike, name: str | None) -> Path:
    path = Path(folder_or_path)
    if path.suffix in (".faiss", ".json"):
        return path.with_suffix(".faiss")
    if name is None:
        raise UsageError(f"{path}: give an index name or a path ending in .faiss")
    return path / f"{plain_index_name(name)}.faiss"


def plain_index_name(name: str) -> str:
    """``name`` without a ``.faiss`` ending; a folder or an empty name is a usage error."""
    stem = name[:-len(".faiss")] if name.endswith(".faiss") else name
    if not stem.strip() or stem in (".", "..") or "/" in stem or "\\" in stem:
        hint = Path(stem).name if "/" in stem or "\\" in stem else "hnsw"
        raise UsageError(f"index name {name!r} must be a plain name, without folders "
                         f"(indexes live in their set's folder), e.g. {hint!r}")
    return stem


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path.with_suffix(".json")
    if not path.exists():
        others = sorted(p.stem for p in path.parent.glob("*.faiss")) if path.parent.is_dir() else []
        hint = f"; indexes here: {', '.join(others)}" if others else (
            "; build one with `embedkit index NAME --type flat|hnsw|ivf|ivfpq|sq8`")
        raise NotFoundError(f"no index {path.stem!r} at {path.parent}{hint}")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if not isinstance(manifest, dict) or "factory" not in manifest:
            raise ValueError("no factory key")
    except FileNotFoundError:
        raise StoreError(f"{manifest_path}: index manifest is missing; rebuild the index "
                         "with `embedkit index ... --force`") from None
    except (OSError, ValueError) as err:
        raise StoreError(f"{manifest_path}: index manifest is unreadable ({first_line(err)}); "
                         "rebuild the index with `embedkit index ... --force`") from None
    return manifest


def check_fresh(path: Path, manifest: dict[str, Any], vectors: Vectors | None) -> None:
    expected = manifest.get("fingerprint")
    if vectors is not None and (len(vectors), vectors.dim) != (manifest.get("size"),
                                                               manifest.get("dim")):
        raise StaleIndexError(
            f"index {path.stem!r} holds {manifest.get('size')} x {manifest.get('dim')} "
            f"vectors, the set given has {len(vectors)} x {vectors.dim}: it was built from "
            "another set; pass the set it was built from, or build an index of this one")
    if vectors is not None:
        actual = vectors.metadata.get("fingerprint")
        set_name = vectors.metadata.get("path") and Path(vectors.metadata["path"]).parent.name
    else:
        store = path.parent / "vectors.h5"
        if not store.exists():
            return
        from embedkit.store import open_h5

        with open_h5(store) as h5:
            actual = h5.attrs.get("fingerprint")
        actual = actual.decode() if isinstance(actual, bytes) else actual
        set_name = path.parent.name
    if expected and actual and expected != actual:
        set_name = set_name or manifest.get("set") or "NAME"
        raise StaleIndexError(
            f"index {path.stem!r} was built from another version of set {set_name!r}; "
            f"rebuild with `{rebuild_command(set_name, path.stem, manifest)}`"
        )
    recorded = manifest.get("sample_signature")
    if not (expected and actual) and vectors is not None and recorded \
            and recorded != sample_signature(vectors):  # no fingerprints to compare
        raise StaleIndexError(
            f"index {path.stem!r} was built from another set of {len(vectors)} words (its "
            "words or vectors differ from the set given); pass the set it was built from, "
            "or build an index of this one")


def sample_signature(vectors: Vectors, samples: int = 64) -> str:
    """SHA-256 of the words and the unit rows (to 4 decimals) at ``samples`` evenly spaced
    positions: cheap to recompute, so an index can tell its set from another of the same
    size even when neither has a store fingerprint (an in-memory or derived set)."""
    n = len(vectors)
    ids = np.unique(np.linspace(0, n - 1, min(n, samples)).astype(np.int64)) if n else \
        np.empty(0, np.int64)
    rows = vectors.rows(ids).astype(np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = np.round(np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0), 4)
    digest = hashlib.sha256("\0".join(vectors.words[i] for i in ids).encode("utf-8"))
    digest.update((unit + 0.0).tobytes())  # + 0.0: -0.0 and 0.0 hash alike
    return digest.hexdigest()


def check_size(path: Path, manifest: dict[str, Any]) -> None:
    """The index file must have the size its manifest recorded: another index written over
    it (same rows and dimension, another structure) would otherwise load silently."""
    expected = manifest.get("bytes")
    actual = path.stat().st_size
    if isinstance(expected, int) and actual != expected:
        raise StoreError(f"{path}: index file is truncated or corrupt (it has {actual} bytes, "
                         f"its manifest says {expected}: damaged or replaced by another file); "
                         "rebuild it with `embedkit index ... --force`")


_OPTIONS = {"M": "--M", "ef_construction": "--ef-construction", "nlist": "--nlist",
            "pq_m": "--pq-m", "nbits": "--nbits", "ef_search": "--ef-search",
            "nprobe": "--nprobe", "k_factor": "--k-factor"}


def rebuild_command(set_name: str, stem: str, manifest: dict) -> str:
    """The `embedkit index` command that builds this index again with its parameters."""
    kind = manifest.get("type", "flat")
    words = ["embedkit", "index", set_name, "--type", kind]
    if kind == "factory":
        words += ["--factory", f"'{manifest.get('factory', '')}'"]
    else:
        params = manifest.get("params", {})
        words += [f"{_OPTIONS[k]} {params[k]}" for k in ("M", "ef_construction", "nlist",
                                                           "pq_m", "nbits") if k in params]
    query = manifest.get("query_params", {})
    words += [f"{_OPTIONS[k]} {v}" for k, v in query.items() if k in _OPTIONS]
    return " ".join(words + ["--index-name", stem, "--force"])
