"""The project's exceptions.

Every error a user can cause names the item and the reason, so that a bad record in a 200K-item
run is a line in a report, not a stack trace that loses the work already done.
"""

from __future__ import annotations

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


INTERRUPTED = "interrupted — rerun the same command to resume"
"""What a resumable command prints on Ctrl-C (it then exits 130, the shell's code for SIGINT)."""


@contextmanager
def cli_errors(console: Any = None, *, resumable: bool = True) -> Iterator[None]:
    """The one way a ``visionr1`` subcommand ends on an error: a :class:`VisionR1Error` prints ``error: ...`` and
    exits 2; Ctrl-C prints :data:`INTERRUPTED` (``resumable``) or ``interrupted`` and exits 130. Never a
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

    try:
        yield
    except VisionR1Error as e:
        say(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        say(f"[bold yellow]{INTERRUPTED if resumable else 'interrupted'}[/]")
        raise typer.Exit(code=130) from None
