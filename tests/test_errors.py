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


# ----------------------------------------------------------------------------- where files go (issue 33 item 6)

import errno  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402

from typer.testing import CliRunner  # noqa: E402

from visionr1.errors import StorageError, storage_error  # noqa: E402

REPO = SRC.parents[1]


@pytest.mark.parametrize("exc,said", [
    (OSError(errno.EROFS, "Read-only file system", "runs/x"), "cannot write runs/x: Read-only file system (the location is read-only"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/out"), "cannot write /data/out: Permission denied (permission denied"),
    (OSError(errno.ENOSPC, "No space left on device", "src.png", None, "runs/x/images/a.png"),
     "cannot write runs/x/images/a.png: No space left on device (the disk is full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "cannot write: Disk quota exceeded (the disk quota is used up"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "notes.txt/run"), "a part of the path is a file"),
    (sqlite3.OperationalError("database or disk is full"), "a SQLite store could not be written: database or disk is full (the disk is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "(the location is read-only"),
    (sqlite3.OperationalError("disk I/O error"), "(the disk may be full, or failing"),
])
def test_storage_errors_are_one_line_naming_the_file_and_what_to_do(exc, said):
    code, out = _run(exc)
    assert code == 2 and out.startswith("error: ") and said in " ".join(out.split())
    assert isinstance(storage_error(exc), StorageError)


@pytest.mark.parametrize("exc", [OSError(errno.ECONNRESET, "reset"), FileNotFoundError(errno.ENOENT, "gone", "x"),
                                 sqlite3.OperationalError("no such table: calls")])
def test_other_os_and_sqlite_errors_stay_tracebacks(exc):
    """Only the machine's storage problems are translated; anything else may be a bug and keeps its traceback."""
    with pytest.raises(type(exc)):
        _run(exc)


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                                                capture_output=True).returncode == 0


@pytest.fixture
def read_only(tmp_path):
    """A folder nothing can be written into: a read-only tmpfs (as root, where mounting is allowed) or a folder
    without write permission (as anyone else)."""
    ro = tmp_path / "ro"
    if _mount_tmpfs(ro, "ro,size=64k"):
        yield ro
        subprocess.run(["umount", str(ro)], check=True)
    elif os.geteuid() != 0:
        ro.mkdir()
        ro.chmod(0o555)
        yield ro
        ro.chmod(0o755)
    else:
        pytest.skip("root without mount: no way to make a read-only folder")


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    from visionr1.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth")
    synthesize(out, n=40, seed=0, tasks=["colour_count"], split_test=3)
    return out


def test_every_command_writing_into_a_read_only_location_says_so(read_only, small_set, tmp_path, tiny_model_dir):
    """Issue 33 item 6: ``OSError: [Errno 30]`` tracebacks from bridge, eval, sft, report, score, synth, tiny-model
    and decontaminate."""
    from visionr1.cli import app

    fixtures = REPO / "tests" / "fixtures"
    (tmp_path / "canned.json").write_text(json.dumps({}))
    (tmp_path / "cold.jsonl").write_text("")
    commands = {
        "bridge": ["bridge", "--input", str(small_set), "--out", str(read_only / "b"), "--teacher", "template", "--no-progress"],
        "synth": ["synth", "--out", str(read_only / "s"), "--n", "2"],
        "tiny-model": ["tiny-model", "--out", str(read_only / "t")],
        "eval": ["eval", "--benchmark", "mathvista", "--data", str(fixtures / "mathvista_eval"), "--out",
                 str(read_only / "e"), "--canned", str(fixtures / "mathvista_eval" / "responses.json"), "--no-progress"],
        "score": ["score", "mathvista", str(fixtures / "mathvista" / "results_small.json"), "--out", str(read_only / "s.json")],
        "decontaminate": ["data", "decontaminate", "--train", str(small_set), "--against",
                          f"mathvista={fixtures / 'mathvista_eval'}", "--out", str(read_only / "d")],
        "report": ["report", str(fixtures / "mathvista_eval"), "--png", str(read_only / "r.png")],
        "sft": ["sft", "--config", str(REPO / "recipes" / "tiny_cpu" / "sft.yaml"), f"run_dir={read_only / 'sft'}",
                f"model.path={tiny_model_dir}", f"data.path={small_set / 'train.jsonl'}"],
    }
    for name, args in commands.items():
        if name == "report":  # a run folder to report on
            assert CliRunner().invoke(app, commands["eval"][:6] + [str(tmp_path / "e")] + commands["eval"][7:]).exit_code == 0
            args = ["report", str(tmp_path / "e"), "--png", str(read_only / "r.png")]
        res = CliRunner().invoke(app, args)
        said = " ".join(res.output.split())
        assert res.exit_code == 2 and "Traceback" not in said, (name, res.output[-2000:])
        assert f"error: cannot write {read_only}" in said, (name, said[-600:])
    assert not any(read_only.iterdir())


def test_a_full_disk_ends_the_bridge_with_the_reason_and_a_rerun_resumes(tmp_path, small_set):
    """``sqlite3.OperationalError`` (and ENOSPC) from a full disk: one line saying so; after space is freed the same
    command finishes."""
    from visionr1.cli import app

    full = tmp_path / "full"
    if not _mount_tmpfs(full, "size=1m"):
        pytest.skip("needs root and mount for a small file system")
    try:
        (full / "filler").write_bytes(b"\0" * (1024 * 1024 - 20_000))
        args = ["bridge", "--input", str(small_set), "--out", str(full / "run"), "--teacher", "template", "--no-progress"]
        res = CliRunner().invoke(app, args)
        said = " ".join(res.output.split())
        assert res.exit_code == 2 and "Traceback" not in said, res.output[-2000:]
        assert "the disk is full" in said or "the disk may be full" in said, said
        (full / "filler").unlink()
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output[-2000:]
    finally:
        subprocess.run(["umount", str(full)], check=True)
