"""`embedkit import` and `embedkit export`: vector files in and out of the workspace."""

from __future__ import annotations

import logging

import typer

from embedkit import formats, workspace
from embedkit.cli.common import home_option, not_empty, report

FORMAT_HELP = (
    "Input format: auto (detect from the file's content), word2vec (text with a 'COUNT DIM' "
    "header), word2vec-binary, glove (text, no header), fasttext-vec, fasttext-bin."
)


def import_cmd(
    file: str = typer.Argument(..., help="Vector file to import (.txt, .vec, .bin; "
                               "gzip/bz2/xz-compressed files work too; - reads standard "
                               "input).", callback=not_empty),
    name: str = typer.Option(..., "--name", "-n", help="Name of the new set in the workspace."),
    format: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    force: bool = typer.Option(False, "--force", help="Replace an existing set of that name "
                               "(the old one stays until the new one is complete)."),
    limit: int = typer.Option(None, "--limit", help="Read only the first N rows "
                              "[default: all].", show_default=False),
    encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of the words; invalid "
                                 "bytes are replaced by U+FFFD with a warning."),
    home: str = home_option(),
) -> None:
    """Import a word2vec, GloVe or fastText file as a named set.

    The format is detected from the content; --format overrides. fastText .bin models keep
    their subword tables, so words outside the vocabulary still get vectors.

    Example: embedkit import glove.6B.100d.txt.gz --name glove100
    """
    vectors = formats.import_to_workspace(file, name, home, force, format, limit, encoding)
    meta = vectors.metadata
    stats = meta.get("stats", {})
    report(
        f"imported {len(vectors)} words x {vectors.dim} dims ({meta.get('source_format')}) "
        f"as {name!r} in {stats.get('seconds', 0):.1f} s -> {meta.get('path')}")
    vectors.close()


def export_cmd(
    name: str = typer.Argument(..., help="Set name in the workspace, or a path to a .h5 store."),
    file: str = typer.Argument(..., help="Output file (a .gz, .bz2 or .xz name is compressed; "
                               "- writes to standard output).", callback=not_empty),
    format: str = typer.Option(..., "--format", "-f", help="Output format: word2vec (text "
                               "with a header), word2vec-binary, glove (text, no header)."),
    precision: int = typer.Option(6, "--precision", help="Significant digits of text values "
                                  "(9 reproduces float32 exactly)."),
    spaces: str = typer.Option("refuse", "--spaces", help="Words with a space inside (as in "
                               "glove.840B), which these formats cannot hold: refuse (an "
                               "error), skip (leave them out) or underscore (new_york)."),
    home: str = home_option(),
) -> None:
    """Export a set to a word2vec (text or binary) or GloVe file.

    Example: embedkit export glove100 glove100.bin --format word2vec-binary
    """
    formats.check_export_args(format, precision)
    if format == "word2vec-binary" and precision != 6:
        logging.getLogger("embedkit").warning(
            "--precision is for the text formats; binary values are written exactly")
    with workspace.open_set(name, home) as vectors:
        path = formats.export_vectors(vectors, file, format, precision, spaces)
        where = "standard output" if str(path) == "-" else path
        report(f"wrote {len(vectors)} words x {vectors.dim} dims ({format}) to {where}")


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
