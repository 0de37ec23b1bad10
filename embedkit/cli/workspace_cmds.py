"""`embedkit list`, `info` and `remove`: the workspace of named sets."""

from __future__ import annotations

import json

import typer

from embedkit import workspace
from embedkit.cli.common import emit_json, emit_table, home_option, human_bytes, json_option, report


def list_sets(home: str = home_option(), as_json: bool = json_option()) -> None:
    """List the embedding sets in the workspace.

    Example: embedkit list --json
    """
    rows = workspace.list_sets(home)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        report(f"no sets in {workspace.home_dir(home)}")
        return
    table = [
        [r["name"], r.get("size"), r.get("dim"), _made_by(r),
         human_bytes(r.get("disk_bytes")), r.get("indexes"), r.get("error", "")]
        for r in rows
    ]
    emit_table(table, ["name", "words", "dim", "made by", "disk", "indexes", ""])


def _made_by(row: dict) -> str | None:
    """``import`` or the kind of build (``ppmi-svd``, ``word2vec``, ...)."""
    return "import" if row.get("builder") == "import" else row.get("source") or row.get(
        "builder")


def info(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    home: str = home_option(),
    as_json: bool = json_option(),
) -> None:
    """Show a set's size, dimension, provenance, disk size and indexes.

    Example: embedkit info demo --json
    """
    data = workspace.describe(name, home)
    if as_json:
        emit_json(data)
        return
    skip = {"indexes", "json_attrs"}
    rows = []
    for key, value in data.items():
        if key in skip:
            continue
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        if key == "disk_bytes":
            value = f"{value} ({human_bytes(value)})"
        rows.append([key, value])
    emit_table(rows)
    indexes = data["indexes"]
    typer.echo("")
    if not indexes:
        typer.echo("indexes: none (build one with `embedkit index NAME`)")
        return
    typer.echo("indexes:")
    emit_table(
        [[i.get("name"), i.get("factory", i.get("type")), human_bytes(i.get("file_bytes")),
          _index_status(i)] for i in indexes],
        ["index", "factory", "size", "status"],
    )


def _index_status(index: dict) -> str:
    if index.get("damaged"):
        return "DAMAGED (rebuild with --force)"
    return "STALE (rebuild)" if index.get("stale") else "ok"


def remove(
    name: str = typer.Argument(..., help="Set name to delete, with its indexes."),
    home: str = home_option(),
) -> None:
    """Delete a set and its indexes from the workspace.

    Example: embedkit remove old-glove
    """
    folder = workspace.remove(name, home)
    report(f"removed {folder}")


def register(app: typer.Typer) -> None:
    app.command("list")(list_sets)
    app.command("info")(info)
    app.command("remove")(remove)
