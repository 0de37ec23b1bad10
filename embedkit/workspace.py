"""The workspace: named embedding sets and their indexes under one folder.

    <home>/<name>/vectors.h5        the set (see :mod:`embedkit.store`)
    <home>/<name>/<index>.faiss     its FAISS indexes
    <home>/<name>/<index>.json      their manifests

``home`` is ``--home``, else ``$EMBEDKIT_HOME``, else ``./indexes``. Commands take a set's
NAME; a path to an ``.h5`` file works too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from embedkit.atomic import check_writable
from embedkit.errors import NameExistsError, NotFoundError, UsageError
from embedkit.store import load, open_h5, read_metadata
from embedkit.vectors import Vectors

log = logging.getLogger("embedkit.workspace")

STORE_FILE = "vectors.h5"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def home_dir(home: str | os.PathLike | None = None) -> Path:
    """The workspace folder: ``home``, else ``$EMBEDKIT_HOME``, else ``./indexes``."""
    if home:
        return Path(home)
    env = os.environ.get("EMBEDKIT_HOME")
    return Path(env) if env else Path.cwd() / "indexes"


def check_name(name: str) -> str:
    """A set name is a folder name: letters, digits, '.', '_' and '-'."""
    if not _NAME.match(name) or name in (".", ".."):
        raise UsageError(
            f"invalid set name {name!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit)"
        )
    return name


def set_dir(name: str, home: str | os.PathLike | None = None) -> Path:
    return home_dir(home) / check_name(name)


def _looks_like_path(name_or_path: str) -> bool:
    return os.sep in name_or_path or name_or_path.endswith((".h5", ".hdf5"))


def store_path(name_or_path: str | os.PathLike, home: str | os.PathLike | None = None) -> Path:
    """The store file of a set NAME (or the path itself when given a path to a file)."""
    text = str(name_or_path)
    if _looks_like_path(text):
        path = Path(text)
        if not path.exists():
            raise NotFoundError(f"{path}: no such file")
        return path
    path = set_dir(text, home) / STORE_FILE
    if not path.exists():
        names = list_names(home)
        hint = f"; sets in {home_dir(home)}: {', '.join(names)}" if names else (
            f"; {home_dir(home)} holds no sets yet (create one with `embedkit import` "
            "or `embedkit build`)"
        )
        raise NotFoundError(f"no embedding set named {text!r}{hint}")
    return path


def open_set(name_or_path: str | os.PathLike, home: str | os.PathLike | None = None) -> Vectors:
    """Open a named set (or a store path) lazily."""
    return load(store_path(name_or_path, home))


def target_path(name: str, home: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Where a new set NAME goes; refuses an existing name unless ``force``.

    With ``force`` the old store stays in place: writers replace it atomically when the
    new one is complete.
    """
    folder = set_dir(name, home)
    if _looks_like_path(name):  # every command would take NAME for a path to a store
        raise UsageError(f"invalid set name {name!r}: a name ending in .h5 or .hdf5 is read "
                         "as a path to a store; choose a name without that ending")
    path = folder / STORE_FILE
    if path.exists() and not force:
        raise NameExistsError(
            f"an embedding set named {name!r} already exists in {home_dir(home)}; "
            "use --force to replace it or choose another --name"
        )
    check_writable(path)  # a file in the way or a read-only home: say so before any work
    if not folder.exists():
        folder.mkdir(parents=True)
        CREATED.append(folder)
    return path


# Set folders made by target_path in this process: a failed build leaves them empty.
CREATED: list[Path] = []


def discard_empty_folders() -> None:
    """Remove the set folders :func:`target_path` made that are still empty (the build or
    import that wanted them failed or was interrupted)."""
    while CREATED:
        with contextlib.suppress(OSError):  # not empty: something was written, keep it
            CREATED.pop().rmdir()


def list_names(home: str | os.PathLike | None = None) -> list[str]:
    root = home_dir(home)
    if root.exists() and not root.is_dir():
        raise UsageError(f"workspace {root} is a file, not a folder; give --home a folder")
    if not root.is_dir():
        return []
    unreadable = [p.name for p in root.iterdir()
                  if p.is_dir() and not os.access(p, os.R_OK | os.X_OK)]
    if unreadable:
        log.warning("cannot read the set folders %s in %s (permissions)", ", ".join(unreadable),
                    root)
    return sorted(p.parent.name for p in root.glob(f"*/{STORE_FILE}"))


def list_indexes(folder: Path) -> list[dict[str, Any]]:
    """Manifests of the indexes beside a store (``<index>.json`` next to ``<index>.faiss``);
    an index file without its manifest is listed with an error."""
    out = []
    for index_file in sorted(folder.glob("*.faiss")):
        manifest = index_file.with_suffix(".json")
        try:
            data = json.loads(manifest.read_text())
        except FileNotFoundError:
            data = {"error": "manifest missing"}
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):  # unreadable, or JSON that is not an object
            data = {"error": "unreadable manifest"}
        data.setdefault("name", manifest.stem)
        if isinstance(data.get("zero_rows"), list):  # row ids, as many as the set has: count
            data["zero_rows"] = len(data["zero_rows"])
        data["file_bytes"] = manifest.with_suffix(".faiss").stat().st_size
        out.append(data)
    return out


def describe(name_or_path: str | os.PathLike,
             home: str | os.PathLike | None = None) -> dict[str, Any]:
    """What `embedkit info` shows: size, dim, provenance, disk size and indexes."""
    path = store_path(name_or_path, home)
    with open_h5(path) as h5:
        meta = read_metadata(h5)
        extras = {
            "has_counts": "counts" in h5,
            "has_subwords": "subwords/vectors" in h5,
            "extra_arrays": sorted(h5["extra"]) if "extra" in h5 else [],
        }
    indexes = list_indexes(path.parent) if path.name == STORE_FILE else []
    for index in indexes:
        index["stale"] = index.get("fingerprint") not in (None, meta.get("fingerprint"))
        index["damaged"] = "error" in index or index.get("bytes") not in (
            None, index["file_bytes"])
    return {
        "name": path.parent.name if path.name == STORE_FILE else path.stem,
        "path": str(path),
        "disk_bytes": path.stat().st_size,
        **meta,
        **extras,
        "indexes": indexes,
    }


def list_sets(home: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """A short description of every set in the workspace."""
    rows = []
    for name in list_names(home):
        try:
            info = describe(name, home)
        except Exception as err:  # noqa: BLE001 - one broken set must not hide the others
            rows.append({"name": name, "error": str(err)})
            continue
        keep = ("name", "size", "dim", "source", "builder", "created", "disk_bytes")
        rows.append({k: info.get(k) for k in keep} | {"indexes": len(info["indexes"])})
    return rows


def remove(name: str, home: str | os.PathLike | None = None) -> Path:
    """Delete a set and its indexes."""
    folder = set_dir(name, home)
    if not (folder / STORE_FILE).exists():
        if folder.is_dir() and all(p.name.endswith(".tmp") for p in folder.iterdir()):
            shutil.rmtree(folder)  # left by an interrupted build: no set, only leftovers
            return folder
        raise NotFoundError(f"no embedding set named {name!r} in {home_dir(home)}")
    shutil.rmtree(folder)
    return folder
