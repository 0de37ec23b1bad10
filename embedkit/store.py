"""The store: one HDF5 file per embedding set (format ``embedkit``, version 1).

Layout (see README, "Store format")::

    /vectors            float32 [n, dim], chunked by rows (about 256 KiB per chunk), uncompressed
    /words              UTF-8 variable-length strings [n], row order
    /counts             int64 [n]                       (optional)
    /subwords/vectors   float32 [bucket, dim] + attrs minn, maxn, bucket   (fastText .bin)
    /extra/<name>       any other array (e.g. singular_values, context_vectors)
    root attributes     format, format_version, size, dim, normalized, fingerprint, created,
                        embedkit_version, source, source_sha256, builder, params (JSON), ...

Writes are atomic: everything goes to a temporary file in the target's folder, which is
flushed, fsynced and renamed over the target only when complete, so a crash, SIGKILL or
Ctrl-C never leaves a half-written store at the target path. :func:`load` opens lazily:
it reads the vocabulary and attributes; rows come on demand.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from embedkit import __version__
from embedkit.atomic import AtomicFile
from embedkit.atomic import fsync_path as _fsync_path  # noqa: F401 - used by formats.export
from embedkit.errors import DimensionMismatchError, StoreError
from embedkit.subwords import Subwords
from embedkit.vectors import Vectors, require_vectors

FORMAT = "embedkit"
FORMAT_VERSION = 1
_CHUNK_BYTES = 1 << 18
_STR = h5py.string_dtype("utf-8")
_RESERVED = {"format", "format_version", "size", "dim", "fingerprint", "json_attrs"}


def sha256_file(path: str | os.PathLike, block: int = 1 << 22) -> str:
    """Hex sha256 of a file's bytes (recorded as a store's ``source_sha256``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


class StoreWriter:
    """Write a store row block by row block, then :meth:`commit` it atomically.

    Importers stream into it, so a large file never needs a second copy of its matrix in
    memory. Used as a context manager, an exception discards the temporary file and leaves
    whatever was at ``path`` untouched.
    """

    def __init__(self, path: str | os.PathLike, dim: int, expected_rows: int | None = None):
        if dim <= 0:
            raise DimensionMismatchError(f"vectors need a positive dimension, got {dim}")
        self.path = Path(path)
        self._atomic = AtomicFile(self.path)  # makes missing folders; clear errors
        self._tmp = self._atomic.path
        self.dim = dim
        self.size = 0
        self._words: list[str] = []
        self._hash = hashlib.sha256()
        self._file = h5py.File(self._tmp, "w")
        chunk_rows = max(1, min(_CHUNK_BYTES // (4 * dim), expected_rows or 1 << 30))
        self._vectors = self._file.create_dataset(
            "vectors", shape=(0, dim), maxshape=(None, dim), dtype=np.float32,
            chunks=(chunk_rows, dim),
        )
        if expected_rows:
            self._vectors.resize((expected_rows, dim))

    def append(self, words: list[str], rows: np.ndarray) -> None:
        """Add ``len(words)`` rows (float32 [len(words), dim])."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape != (len(words), self.dim):
            raise DimensionMismatchError(
                f"expected a block of {len(words)} x {self.dim} values, got {rows.shape}"
            )
        end = self.size + len(words)
        if end > self._vectors.shape[0]:
            self._vectors.resize((max(end, 2 * self._vectors.shape[0]), self.dim))
        self._vectors[self.size:end] = rows
        self._words.extend(words)
        self._hash.update(rows.tobytes())
        self.size = end

    def add_array(self, name: str, data: np.ndarray, **attrs: Any) -> None:
        """Store another array (``counts``, ``subwords/vectors``, ``extra/...``)."""
        dset = self._file.create_dataset(name, data=data)
        for key, value in attrs.items():
            dset.attrs[key] = value

    def add_subwords(self, subwords: Subwords, block_rows: int = 65536) -> None:
        table = subwords.ngram_vectors
        dset = self._file.create_dataset(
            "subwords/vectors", shape=table.shape, dtype=np.float32,
            chunks=(max(1, min(_CHUNK_BYTES // (4 * table.shape[1]), table.shape[0])),
                    table.shape[1]),
        )
        for start in range(0, table.shape[0], block_rows):
            dset[start:start + block_rows] = np.asarray(table[start:start + block_rows], np.float32)
        dset.attrs.update({"minn": subwords.minn, "maxn": subwords.maxn, "bucket": subwords.bucket})

    def commit(self, metadata: Mapping[str, Any] | None = None,
               counts: np.ndarray | None = None) -> Path:
        """Write the vocabulary and attributes, fsync, and rename over the target."""
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (self.size,):
                raise DimensionMismatchError(f"{self.size} rows but {counts.size} counts")
            self._file.create_dataset("counts", data=counts)
        self._vectors.resize((self.size, self.dim))
        self._file.create_dataset("words", data=self._words, dtype=_STR)
        attrs = self._file.attrs
        attrs.update(_encode_metadata(metadata or {}))
        attrs["format"] = FORMAT
        attrs["format_version"] = FORMAT_VERSION
        attrs["size"] = self.size
        attrs["dim"] = self.dim
        attrs["fingerprint"] = self._fingerprint()
        now = _dt.datetime.now(_dt.timezone.utc)
        attrs.setdefault("created", now.isoformat(timespec="seconds"))
        attrs.setdefault("embedkit_version", __version__)
        self._file.close()
        self._atomic.commit()  # fsync + rename over the target
        return self.path

    def _fingerprint(self) -> str:
        digest = hashlib.sha256(f"{self.size}x{self.dim}\n".encode())
        digest.update("\n".join(self._words).encode("utf-8", "surrogatepass"))
        digest.update(self._hash.digest())
        return digest.hexdigest()[:32]

    def abort(self) -> None:
        """Discard the temporary file; the target is left as it was."""
        with contextlib.suppress(Exception):  # already closed or broken: removing matters
            self._file.close()
        self._atomic.discard()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._tmp.exists():  # not committed: an error, Ctrl-C, or a forgotten commit
            self.abort()


def save(vectors: Vectors, path: str | os.PathLike, block_rows: int = 65536) -> Path:
    """Write ``vectors`` to ``path`` atomically (rows streamed block by block)."""
    require_vectors(vectors, "save")
    with StoreWriter(path, vectors.dim, len(vectors)) as writer:
        for start in range(0, len(vectors), block_rows):
            ids = np.arange(start, min(start + block_rows, len(vectors)))
            writer.append(vectors.words[start:start + len(ids)], vectors.rows(ids))
        if vectors.subwords is not None:
            writer.add_subwords(vectors.subwords)
        for name, value in vectors.metadata.get("_arrays", {}).items():
            writer.add_array(f"extra/{name}", value)
        return writer.commit(vectors.metadata, vectors.counts)


class _H5Rows:
    """Lazy rows of ``/vectors`` in an open store (a :class:`MatrixSource`)."""

    def __init__(self, dataset: h5py.Dataset):
        self._dataset = dataset
        self.shape = tuple(dataset.shape)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return np.empty((0, self.shape[1]), dtype=np.float32)
        first, last = int(ids[0]), int(ids[-1])
        if last - first + 1 == ids.size and first >= 0 and np.all(np.diff(ids) == 1):
            return self._dataset[first:last + 1]  # a block of rows: one slice, ~100x faster
        unique, inverse = np.unique(ids, return_inverse=True)
        return self._dataset[unique][inverse]

    def read_all(self) -> np.ndarray:
        out = np.empty(self.shape, dtype=np.float32)
        if out.size:
            self._dataset.read_direct(out)
        return out


def open_h5(path: str | os.PathLike) -> h5py.File:
    """Open a store for reading, turning every way it can be wrong into a :class:`StoreError`."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such file")
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not an embedkit store")
    if not os.access(path, os.R_OK):
        raise StoreError(f"{path}: permission denied (the store cannot be read); check its "
                         "owner and mode")
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        if not h5py.is_hdf5(path):
            raise StoreError(f"{path}: not an embedkit store (not an HDF5 file)") from None
        raise StoreError(
            f"{path}: store is truncated or corrupt ({_short(err)}); re-create it"
        ) from None
    attrs = h5.attrs
    fmt = attrs.get("format")
    if fmt != FORMAT:
        h5.close()
        raise StoreError(f"{path}: not an embedkit store (HDF5 file without format={FORMAT!r})")
    stored_version = attrs.get("format_version", 0)
    try:
        version = int(stored_version)
    except (TypeError, ValueError):
        h5.close()
        raise StoreError(f"{path}: store is corrupt (format_version {stored_version!r} is not "
                         "a number); re-create it") from None
    if version > FORMAT_VERSION:
        h5.close()
        raise StoreError(
            f"{path}: store format version {version} is newer than this embedkit reads "
            f"({FORMAT_VERSION}); upgrade embedkit"
        )
    if "vectors" not in h5 or "words" not in h5:
        h5.close()
        raise StoreError(f"{path}: store is incomplete (missing /vectors or /words)")
    problem = _layout_problem(h5)
    if problem:
        h5.close()
        raise StoreError(f"{path}: store is corrupt ({problem}); re-create it")
    return h5


def _layout_problem(h5: h5py.File) -> str | None:
    """What is wrong with the shapes and types of a store's arrays, if anything."""
    vectors, words = h5["vectors"], h5["words"]
    if not isinstance(vectors, h5py.Dataset) or vectors.ndim != 2 or vectors.dtype.kind != "f":
        return "/vectors is not a 2-D float array"
    if (not isinstance(words, h5py.Dataset) or words.ndim != 1
            or h5py.check_string_dtype(words.dtype) is None):
        return "/words is not a 1-D array of strings"
    if words.shape[0] != vectors.shape[0]:
        return f"{words.shape[0]} words but {vectors.shape[0]} vector rows"
    counts = h5.get("counts")
    if counts is not None and (not isinstance(counts, h5py.Dataset)
                               or counts.shape != words.shape or counts.dtype.kind not in "iu"):
        return f"/counts is not {words.shape[0]} integers, one per word"
    return None


def load(path: str | os.PathLike) -> Vectors:
    """Open a store lazily: vocabulary and attributes now, rows on demand."""
    h5 = open_h5(path)
    try:
        words = h5["words"].asstr()[:].tolist()
        counts = h5["counts"][:] if "counts" in h5 else None
        subwords = None
        if "subwords/vectors" in h5:
            table = h5["subwords/vectors"]
            subwords = Subwords(table, int(table.attrs["minn"]), int(table.attrs["maxn"]),
                                int(table.attrs["bucket"]))
        metadata = read_metadata(h5)
        metadata["path"] = str(Path(path))
        vectors = Vectors(words, _H5Rows(h5["vectors"]), counts, metadata, subwords)
    except (OSError, KeyError, ValueError) as err:
        h5.close()
        raise StoreError(
            f"{path}: store is truncated or corrupt ({_short(err)}); re-create it"
        ) from None
    vectors._h5 = h5  # keeps the file open as long as the set lives
    return vectors


def read_metadata(h5: h5py.File) -> dict[str, Any]:
    """Root attributes as a dict, JSON-valued ones decoded."""
    json_keys = set(_as_list(h5.attrs.get("json_attrs", [])))
    meta: dict[str, Any] = {}
    for key, value in h5.attrs.items():
        if key == "json_attrs":
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if key in json_keys:
            try:
                value = json.loads(value)
            except (TypeError, ValueError):
                raise StoreError(f"{h5.filename}: store is corrupt (attribute {key!r} is not "
                                 "valid JSON); re-create it") from None
        elif isinstance(value, np.generic):
            value = value.item()
        meta[key] = value
    return meta


def extra_arrays(vectors: Vectors) -> dict[str, np.ndarray]:
    """The ``/extra/*`` arrays of a set opened from a store (e.g. ``singular_values``)."""
    h5 = getattr(vectors, "_h5", None)
    if h5 is None or "extra" not in h5:
        return dict(vectors.metadata.get("_arrays", {}))
    return {name: h5["extra"][name][()] for name in h5["extra"]}


def _encode_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    json_keys = []
    for key, value in metadata.items():
        if key in _RESERVED or key.startswith("_") or key == "path" or value is None:
            continue
        if isinstance(value, (str, bool, int, float, np.integer, np.floating)):
            out[key] = value
        else:
            out[key] = json.dumps(value, default=_json_default)
            json_keys.append(key)
    out["json_attrs"] = json_keys
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, os.PathLike)):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in metadata")


def _as_list(value: Any) -> Iterable[str]:
    if isinstance(value, (str, bytes)):
        return [value.decode() if isinstance(value, bytes) else value]
    return [v.decode() if isinstance(v, bytes) else str(v) for v in value]


def _short(err: BaseException) -> str:
    return str(err).splitlines()[0][:160] if str(err) else type(err).__name__
