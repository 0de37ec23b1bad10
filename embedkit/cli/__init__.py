"""The `embedkit` command line: a thin adapter over the library.

Each command parses options, makes one library call and formats the result. Data goes to
stdout; progress bars, warnings and logs to stderr. Errors the user can fix
(:class:`~embedkit.errors.EmbedkitError`) print one ``Error: ...`` line and exit 1 (bad
data) or 2 (bad usage), never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from embedkit import __version__, atomic, progress, workspace
from embedkit.errors import EmbedkitError

try:  # typer >= 0.22 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as click_errors

# Command modules, each with a ``register(app)`` function.
COMMAND_MODULES = [
    "embedkit.cli.workspace_cmds",
    "embedkit.cli.io_cmds",
    "embedkit.cli.search_cmds",
    "embedkit.cli.bench_cmds",
    "embedkit.cli.build_cmds",
    "embedkit.cli.classify_cmds",
]


class _Group(TyperGroup):
    """Turns library errors into one ``Error:`` line and an exit code."""

    def main(self, *args, **kwargs):
        """Click's usage errors as one ``Error:`` line (exit 2), not usage + blank + error."""
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click_errors.NoArgsIsHelpError as err:
            err.show()  # `embedkit` alone: the help text
            sys.exit(err.exit_code)
        except click_errors.UsageError as err:
            path = err.ctx.command_path if err.ctx else "embedkit"
            sys.stderr.write(f"Error: {err.format_message()} (see '{path} --help')\n")
            sys.exit(err.exit_code)
        except click_errors.ClickException as err:
            sys.stderr.write(f"Error: {err.format_message()}\n")
            sys.exit(err.exit_code)
        except typer.Abort:
            sys.stderr.write("Error: interrupted; nothing was changed\n")
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

    def parse_args(self, ctx, args):
        if ctx.parent is None:  # `embedkit build ... -q` as `embedkit -q build ...`
            args = _hoist_global_flags(self, ctx, list(args))
            ctx.meta["embedkit.argv"] = list(args)  # the command words, for error hints
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        atomic.COMMITTED.clear()
        _SIGNALLED.clear()
        workspace.CREATED.clear()
        try:
            return self._one_line_errors(ctx)
        except BaseException:
            atomic.discard_open()  # temporary files, wherever the interrupt landed
            workspace.discard_empty_folders()  # a failed new set leaves no empty folder
            raise
        finally:
            workspace.CREATED.clear()

    def _one_line_errors(self, ctx):
        try:
            result = super().invoke(ctx)
        except EmbedkitError as err:
            fail(str(err), err.exit_code)
        except KeyboardInterrupt as err:
            _interrupted(isinstance(err, Terminated))
        except MemoryError:
            fail(f"out of memory; {_memory_hint(ctx)}", 1)
        except BrokenPipeError:  # the reader (`| head`) stopped: end quietly, as Unix tools do
            _silence_stdout()
            raise typer.Exit(141) from None
        except OSError as err:
            where = f"{err.filename}: " if getattr(err, "filename", None) else ""
            fail(f"{where}{err.strerror or err}", 1)
        if _SIGNALLED:  # the interrupt landed where Python could not raise it (a finaliser)
            _interrupted(_SIGNALLED[0] == signal.SIGTERM)
        return result


GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose")


def _hoist_global_flags(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """Move -q/-v written after the command to the front, where the root options are read.

    Option values are skipped using the command's own options (``--name -q`` keeps ``-q``
    as the name), and nothing after ``--`` moves."""
    command, at = group, 0
    while at < len(args) and hasattr(command, "get_command"):  # a group: find its command
        token = args[at]
        if token.startswith("-"):  # an option of the group itself (no root option takes a value)
            at += 1
            continue
        command = command.get_command(ctx, token)
        if command is None:
            return args  # an unknown command: click says so
        at += 1
    params = [p for p in command.params if p.param_type_name == "option"]
    own = {name for p in params for name in (*p.opts, *p.secondary_opts)}
    takes_value = {name for p in params if not p.is_flag and not p.count for name in p.opts}
    hoisted, kept, index = [], args[:at], at
    while index < len(args):
        token = args[index]
        if token == "--":
            kept += args[index:]
            break
        if token in GLOBAL_FLAGS and token not in own:
            hoisted.append(token)
        else:
            kept.append(token)
            if token in takes_value and index + 1 < len(args):
                kept.append(args[index + 1])
                index += 1
        index += 1
    return hoisted + kept


_MEMORY_HINTS = {
    "build ppmi": "lower --memory (the counting budget), --max-vocab or --dim",
    "build word2vec": "lower --dim or raise --min-count",
    "build fasttext": "lower --dim or --bucket, or raise --min-count",
    "index": "choose a compressed --type (ivfpq, sq8) or a smaller --M",
    "classify train": "lower --batch-size, --maxlen, --max-words or --units",
}


def _memory_hint(ctx: Any) -> str:
    """What to lower after a MemoryError, by the command that ran out."""
    words = [a for a in ctx.meta.get("embedkit.argv", []) if not a.startswith("-")][:2]
    for command in (" ".join(words), words[0] if words else ""):
        if command in _MEMORY_HINTS:
            return _MEMORY_HINTS[command]
    return "free memory or work on a smaller input"


def _interrupted(terminated: bool) -> None:
    """One line saying what an interrupted command left: nothing, or files it completed."""
    what = "terminated" if terminated else "interrupted"
    written = [p for p in atomic.COMMITTED if os.path.exists(p)]  # not scratch files
    fail(f"{what} after writing {', '.join(str(p) for p in written)} completely"
         if written else f"{what}; nothing was changed", 143 if terminated else 130)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit raises nothing more."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def fail(message: str, code: int = 1) -> None:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    sys.stderr.write(f"Error: {message}\n")
    raise typer.Exit(code)


app = typer.Typer(
    cls=_Group,
    name="embedkit",
    help="Build, import, store, search and use word embeddings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _StderrHandler(logging.Handler):
    """Log lines to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "Warning: " if record.levelno >= logging.WARNING else ""
        with contextlib.suppress(ValueError, OSError):  # a closed stderr: nowhere to report
            sys.stderr.write(prefix + record.getMessage() + "\n")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"embedkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: bool = typer.Option(
        False, "--quiet", "-q",
        help="No progress bars or info logs (warnings and errors still show); also "
             "accepted after the command.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs on stderr "
                                 "(also accepted after the command)."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Build, import, store, search and use word embeddings.

    Sets live in a workspace folder: --home, else $EMBEDKIT_HOME, else ./indexes.
    """
    logger = logging.getLogger("embedkit")
    logger.handlers.clear()
    logger.addHandler(_StderrHandler())
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    progress.enable(not quiet and sys.stderr.isatty())


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so the same cleanup as Ctrl-C runs."""


_SIGNALLED: list[int] = []


def _on_signal(signum: int, frame: object) -> None:
    if atomic.deferring():  # a temporary file is being created or renamed: raise after it
        atomic.defer(signum)
        return
    _SIGNALLED.append(signum)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _quiet_unraisable(hook):
    """An interrupt raised inside a finaliser cannot propagate; the command reports it at
    its end (see ``_Group.invoke``), so Python's 'Exception ignored' traceback is noise; so
    is the timeout of a Dask client that never connected (its error was already printed)."""
    def unraisable(info):
        dask = str(getattr(info.object, "__module__", "")).startswith("distributed")
        if not isinstance(info.exc_value, KeyboardInterrupt) and not dask:
            hook(info)  # a failed Dask client's finaliser: its Error line was printed
    return unraisable


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point (SIGTERM cleans up like Ctrl-C)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)
    return app(args=argv, prog_name="embedkit")
