"""The project's exceptions.

Every error a user can cause names the item and the reason, so that a bad record in a 200K-item
run is a line in a report, not a stack trace that loses the work already done.
"""

from __future__ import annotations


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
