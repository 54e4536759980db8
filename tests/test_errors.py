"""The one CLI error wrapper: what every subcommand does with an error or a Ctrl-C."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
import typer
from rich.console import Console

from visionr1.errors import INTERRUPTED, ConfigError, cli_errors

SRC = Path(__file__).resolve().parents[1] / "src" / "visionr1"


def _run(exc: BaseException | None, **kw) -> tuple[int | None, str]:
    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None)
    try:
        with cli_errors(console, **kw):
            if exc is not None:
                raise exc
    except typer.Exit as e:
        return e.exit_code, buf.getvalue()
    return None, buf.getvalue()


def test_an_error_is_one_line_and_exit_2():
    code, said = _run(ConfigError("trainer.lr: expected a number"))
    assert code == 2 and said.strip() == "error: trainer.lr: expected a number"


def test_ctrl_c_exits_130_and_says_whether_a_rerun_resumes():
    assert _run(KeyboardInterrupt()) == (130, INTERRUPTED + "\n")
    assert _run(KeyboardInterrupt(), resumable=False) == (130, "interrupted\n")


def test_no_error_passes_through_and_other_exceptions_are_not_swallowed():
    assert _run(None) == (None, "")
    with pytest.raises(ZeroDivisionError):
        _run(ZeroDivisionError())


def test_no_command_writes_its_own_error_wrapper():
    """Every ``except VisionR1Error`` that ends a command lives in errors.cli_errors."""
    owners = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Name) and node.type.id == "VisionR1Error":
                if any(isinstance(n, ast.Raise) and "Exit" in ast.unparse(n) for n in ast.walk(node)):
                    owners.append(str(path.relative_to(SRC)))
    assert owners == ["errors.py"], owners
