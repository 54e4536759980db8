"""Output folders: a command writes only into a folder it made itself, a new one, or one handed over with ``--force``.

Why: ``--out DIR`` and ``run_dir`` are typed by hand, and a folder that already exists may hold anything: notes,
another stage's run, a training run of the week before. A command that deletes or overwrites it on a typo loses
work no rerun brings back (``tiny-model --out important`` once removed ``important/notes.txt``). So every command
that writes an output folder claims it first:

* a folder that does not exist, or is empty, is created and marked as the command's own;
* a folder the same command marked (or, from before the marks, one that holds only what that command writes) is
  the command's own: it is resumed or rebuilt as before;
* anything else is refused with a :class:`OutputDirError` that names what is there and says how to go on (a new
  folder, or ``--force`` to write into it anyway).

The mark is a small JSON file, :data:`MARKER`, that says which command made the folder.

Example:
    >>> import tempfile; from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> claim_output_dir(root / "run", "visionr1 synth") == root / "run"
    True
    >>> owner(root / "run")
    'visionr1 synth'
    >>> _ = (root / "mine").mkdir(); _ = (root / "mine" / "notes.txt").write_text("x")
    >>> try:
    ...     claim_output_dir(root / "mine", "visionr1 synth")
    ... except OutputDirError as e:
    ...     print(str(e).split(", so")[0])  # doctest: +ELLIPSIS
    /.../mine holds files that `visionr1 synth` did not make (notes.txt)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

from visionr1.errors import ConfigError
from visionr1.files import write_json

MARKER = ".visionr1.json"
"""The file in an output folder that names the command which made it."""

LooksOurs = Callable[[Path], bool]


LOCK = ".visionr1.lock"
"""The file a running command holds locked in its output folder (:func:`hold_output_dir`)."""


def _is_mark(name: str) -> bool:
    """The mark, the temporary file it is being written through (``..visionr1.json.XXXX.tmp``), or the lock: another
    process of the same launch that looks while the main process marks the folder must still see it as empty."""
    return name in (MARKER, LOCK) or name.startswith(f".{MARKER}.")
FORCE_EFFECT = "files of the same names there are overwritten; nothing else is deleted"


class OutputDirError(ConfigError):
    """An output folder holds something the command did not make; the message says how to proceed."""


class OutputDirInUse(OutputDirError):
    """Another running command holds the output folder."""


def owner(path: Path | str) -> str | None:
    """The command that marked ``path`` (``"visionr1 grpo"``), or None when it carries no readable mark."""
    marker = Path(path) / MARKER
    try:
        made_by = json.loads(marker.read_text(encoding="utf-8")).get("made_by")
    except (OSError, ValueError, AttributeError):
        return None
    return made_by if isinstance(made_by, str) else None


def _listing(path: Path, limit: int = 4) -> str:
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir() if not _is_mark(p.name))
    more = f", … {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_output_dir(path: Path | str, made_by: str, *, force: bool = False, looks_ours: LooksOurs | None = None,
                     flag: str = "--force", what: str = "folder", force_effect: str = FORCE_EFFECT) -> str:
    """May ``made_by`` write into ``path``? Returns why (``new``, ``empty``, ``ours``, ``forced``); else raises.

    ``looks_ours(path)`` recognises a folder the command wrote before it marked its folders (it holds the
    command's own files and nothing else that matters), so older runs still resume. ``flag`` is how the user
    says ``force`` to this command and ``force_effect`` what it then does to the folder, for the message.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputDirError(f"{path} is a file, not a {what}; choose a folder for {made_by}'s output")
    if not path.exists():
        return "new"
    made = owner(path)
    if made == made_by:
        return "ours"
    if all(_is_mark(p.name) for p in path.iterdir()):
        return "empty"
    if made is None and looks_ours is not None and looks_ours(path):
        return "ours"
    if force:
        return "forced"
    held = f"holds the output of `{made}`" if made else f"holds files that `{made_by}` did not make ({_listing(path)})"
    raise OutputDirError(f"{path} {held}, so `{made_by}` leaves it alone. Choose a new {what}, or pass {flag} to "
                         f"use this one anyway ({force_effect})")


def mark_output_dir(path: Path | str, made_by: str) -> None:
    """Write the :data:`MARKER` saying ``made_by`` made ``path`` (kept when it is already there)."""
    path = Path(path)
    if owner(path) == made_by:
        return
    write_json(path / MARKER, {"made_by": made_by}, indent=None, ensure_ascii=True)  # no time: same run, same bytes


def claim_output_dir(path: Path | str, made_by: str, *, force: bool = False, looks_ours: LooksOurs | None = None,
                     flag: str = "--force", what: str = "folder", force_effect: str = FORCE_EFFECT,
                     hold: bool = False) -> Path:
    """:func:`check_output_dir`, then create ``path`` (parents too) and mark it as ``made_by``'s; returns ``path``.
    ``hold``: then lock it for this run (:func:`hold_output_dir`; the caller releases it)."""
    path = Path(path)
    check_output_dir(path, made_by, force=force, looks_ours=looks_ours, flag=flag, what=what, force_effect=force_effect)
    path.mkdir(parents=True, exist_ok=True)
    if hold:  # before the mark is written: a second run must not touch a folder another one is using
        hold_output_dir(path, made_by)
    mark_output_dir(path, made_by)
    return path


_HELD: dict[Path, int] = {}
"""The output folders this process holds (resolved path -> the locked file's descriptor)."""


def hold_output_dir(path: Path | str, made_by: str) -> None:
    """Lock ``path`` for this process's run of ``made_by``: another process that tries while it runs is refused at
    once (:class:`OutputDirInUse`), instead of both paying for every call and writing over each other's files.

    The lock is an ``flock`` on :data:`LOCK` in the folder, so it ends with the process however the process ends
    (Ctrl-C, ``kill -9``): a rerun after a crash is never refused. Holding a folder this process holds already is a
    no-op; :func:`release_output_dir` ends it and removes the file (a crashed run leaves it, unlocked, for the next
    run to take). Without ``fcntl`` (Windows) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    import os
    import time

    key = Path(path).resolve()
    if key in _HELD:
        return
    fd = os.open(key / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise OutputDirInUse(f"{path} is in use by {holder}; wait until it ends, or choose another folder") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"`{made_by}` (pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode(), 0)
    _HELD[key] = fd


def release_output_dir(path: Path | str) -> None:
    """End :func:`hold_output_dir`'s lock on ``path`` (nothing when this process does not hold it)."""
    import os

    key = Path(path).resolve()
    fd = _HELD.pop(key, None)
    if fd is not None:
        try:  # removed while still locked: a run that opens it now fails to lock it, one that comes later makes a new one
            (key / LOCK).unlink(missing_ok=True)
        except OSError:
            pass
        os.close(fd)  # closing the last descriptor of the open file ends its flock



def releases_held_dirs(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a stage's run function: the output folders it comes to hold (``claim_output_dir(..., hold=True)``)
    are released when it returns or raises, so a later run in the same process (a test, a notebook, the demo)
    or another process may use them."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = set(_HELD)
        try:
            return fn(*args, **kwargs)
        finally:
            for path in set(_HELD) - before:
                release_output_dir(path)

    return wrapper


def remove_output_dir(path: Path | str, made_by: str, *, force: bool = False, looks_ours: LooksOurs | None = None,
                      flag: str = "--force") -> bool:
    """Delete ``path`` if ``made_by`` made it (to rebuild it from scratch); refuse a folder it did not make.

    Returns whether something was deleted. This is how a caller that reruns a stage from scratch (the demo's
    stage folders) clears the old output without ever deleting a folder the user put there.
    """
    path = Path(path)
    if check_output_dir(path, made_by, force=force, looks_ours=looks_ours, flag=flag,
                        force_effect="the folder is deleted and made again") == "new":
        return False
    shutil.rmtree(path)
    return True


__all__ = ["LOCK", "MARKER", "OutputDirError", "OutputDirInUse", "check_output_dir", "claim_output_dir",
           "hold_output_dir", "mark_output_dir", "owner", "release_output_dir", "releases_held_dirs", "remove_output_dir"]
