"""Run the CLI in-process and capture stdout, stderr and the exit code separately."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from embedkit.cli import app


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback would reach the user: fail loudly
    return Result(result.exit_code, result.stdout, result.stderr)
