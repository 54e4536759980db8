"""The project's exceptions.

Every error a user can cause names the item and the reason, so that a bad record in a 200K-item
run is a line in a report, not a stack trace that loses the work already done.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class VisionR1Error(Exception):
    """Base class for errors raised on purpose by visionr1."""


class ConfigError(VisionR1Error):
    """A configuration value is missing, unknown or out of range; the message says what to change."""


class DataError(VisionR1Error):
    """A data item cannot be used.

    Args:
        item: the item's id, or its position (``"line 12"``) when it has none yet.
        reason: what is wrong with it, in words a user can act on.
        source: the file it came from, when known.
    """

    def __init__(self, item: str, reason: str, source: str | None = None):
        self.item = item
        self.reason = reason
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"{item}{where}: {reason}")


class ImageError(DataError):
    """An image is missing, corrupt, too large, or outside the data root."""


class StorageError(VisionR1Error):
    """A file could not be written (or read) for a reason of the machine's, not the data's: a read-only location,
    no permission, a full disk. :func:`storage_error` makes one from the ``OSError`` (or SQLite error) behind it."""


_NO_SPACE = "the disk is full: free some space and rerun the same command; what is finished is kept"
_READ_ONLY = "the location is read-only: choose one you can write to"
_STORAGE_HINTS = {
    errno.EROFS: _READ_ONLY,
    errno.EACCES: "permission denied: choose a location you can write to, or change its permissions",
    errno.EPERM: "operation not permitted there: choose a location you can write to",
    errno.ENOSPC: _NO_SPACE,
    errno.EDQUOT: "the disk quota is used up: free some space and rerun the same command; what is finished is kept",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "the path is a folder where a file is needed",
    errno.ENAMETOOLONG: "the name is too long for the file system",
    errno.EEXIST: "something of that name is already there",
    errno.EIO: "the device reported an I/O error",
}
"""The ``OSError`` numbers that are the machine's doing (where the files go), with what the user can do about each.
Any other ``OSError`` is left as a traceback: it is more likely a bug than a setting."""


def storage_error(e: BaseException) -> StorageError | None:
    """The :class:`StorageError` for an ``OSError`` of :data:`_STORAGE_HINTS`, or an SQLite ``OperationalError``
    about the disk or the file (full, read-only, cannot open); None for anything else.

    >>> str(storage_error(OSError(errno.EROFS, "Read-only file system", "runs/x")))
    'cannot write runs/x: Read-only file system (the location is read-only: choose one you can write to)'
    """
    import sqlite3

    if isinstance(e, OSError) and e.errno in _STORAGE_HINTS:
        target = e.filename2 or e.filename  # a copy or a rename fails on its destination (filename2)
        where = f" {target}" if target else ""
        verb = "read" if e.errno in (errno.EISDIR, errno.EIO) else "write"
        return StorageError(f"cannot {verb}{where}: {e.strerror or e} ({_STORAGE_HINTS[e.errno]})")
    if isinstance(e, sqlite3.OperationalError):
        text = str(e)
        hint = (_NO_SPACE if "full" in text else _READ_ONLY if "readonly" in text
                else "check that its folder exists and can be written" if "unable to open" in text
                else "the disk may be full, or failing: free some space and rerun the same command" if "I/O" in text
                else None)
        if hint is not None:
            return StorageError(f"a SQLite store could not be written: {text} ({hint})")
    return None


INTERRUPTED = "interrupted — rerun the same command to resume"
"""What a resumable command prints on Ctrl-C (it then exits 130, the shell's code for SIGINT)."""


@contextmanager
def cli_errors(console: Any = None, *, resumable: bool = True) -> Iterator[None]:
    """The one way a ``visionr1`` subcommand ends on an error: a :class:`VisionR1Error` prints ``error: ...`` and
    exits 2, and so does an ``OSError`` or SQLite error about where files go (:func:`storage_error`); Ctrl-C prints :data:`INTERRUPTED` (``resumable``) or ``interrupted`` and exits 130. Never a
    traceback. ``console``: a rich console (default: stderr).

    Used as ``with cli_errors(console): ...`` around a command's work (typer and rich are imported only here,
    when a command runs, so importing this module stays free).
    """
    import typer

    def say(text: str) -> None:
        if console is None:
            from rich.console import Console

            Console(stderr=True).print(text)
        else:
            console.print(text)

    import sqlite3

    try:
        yield
    except VisionR1Error as e:
        say(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from None
    except (OSError, sqlite3.OperationalError) as e:  # a read-only location, a full disk: the machine's, not a bug
        known = storage_error(e)
        if known is None:
            raise
        say(f"[bold red]error:[/] {known}")
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        say(f"[bold yellow]{INTERRUPTED if resumable else 'interrupted'}[/]")
        raise typer.Exit(code=130) from None
