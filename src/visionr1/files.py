"""Files, in one place: written whole or not at all, and JSON Lines read with errors that name the file and line.

Every stage hands its work to the next through files, and a run may be killed at any moment (Ctrl-C, a pre-empted
node, a full disk). So nothing writes a result file in place: it is written beside its final name and renamed over
it (one ``os.replace``, atomic on POSIX), and a crash leaves the old file or the new one, never half. This module is
the only one that does that:

* :func:`write_text`, :func:`write_bytes`, :func:`write_json`, :func:`write_jsonl`: a whole file at once;
* :func:`replacing_file`: a temporary path for a library that writes a file itself (Parquet, pickle, a hard link);
* :func:`replacing_dir`: a scratch folder that replaces a whole folder when it is complete (a model, a clean copy);
* :func:`append_jsonl`: one more row of a log (``metrics.jsonl``); a kill can cut only its last line, which the
  readers below can skip (``skip_bad``) and :func:`filter_jsonl` drops;
* :func:`read_jsonl`, :func:`loads_jsonl`, :func:`jsonl_values`: the values of a JSON Lines file; a line that is
  not JSON is a :class:`~visionr1.errors.DataError` naming the file and the line (``line 3 in runs/x.jsonl:
  invalid JSON: Expecting value at column 1``), never a traceback.

It sits at the bottom of the house: it imports only the standard library and :mod:`visionr1.errors` (which imports
nothing of ours), so any module, ``outdir`` included, can use it without pulling in the data stack (PIL, pyarrow).

Example:
    >>> import tempfile; from pathlib import Path
    >>> f = Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> write_jsonl(f, [{"id": "a"}, {"id": "é"}])
    >>> read_jsonl(f)
    [{'id': 'a'}, {'id': 'é'}]
    >>> append_jsonl(f, [{"id": "c"}]); len(read_jsonl(f))
    3
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from visionr1.errors import DataError


def _umask_mode(full: int) -> int:
    """``full`` (0o666 for a file, 0o777 for a folder) less the process's umask: the mode ``open``/``mkdir`` give."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask


def _named(e: OSError, path: Path) -> OSError:
    """The same error about ``path`` (the file the user asked for), not about the temporary one beside it."""
    return OSError(e.errno, e.strerror, str(path))


# ----------------------------------------------------------------------------- whole files


@contextmanager
def replacing_file(path: Path | str, *, sync: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` (``.NAME.XXXX.tmp``, an empty file with the mode ``open`` would give) to
    write; when the block ends without error it becomes ``path`` in one rename, else it is removed and ``path``
    is left as it was. ``sync``: flush it to the disk first (off for caches that a crash may lose, such as
    decoded images, where an ``fsync`` per file would cost more than the file).

    For writers that take a path: ``with replacing_file(out) as tmp: pq.write_table(table, tmp)``. An ``OSError``
    names ``path``, not the temporary file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, _umask_mode(0o666))  # mkstemp makes 0600; a data file gets the mode open() would give it
        os.close(fd)
    except OSError as e:
        raise _named(e, path) from None
    tmp = Path(name)
    try:
        yield tmp
        if sync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise _named(e, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path | str, data: bytes, *, sync: bool = True) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`replacing_file`)."""
    with replacing_file(path, sync=sync) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that a crash leaves either the old file or the new one, never half."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path | str, obj: Any, *, indent: int | None = 1, ensure_ascii: bool = False,
               default: Callable[[Any], Any] | None = None, end: str = "\n") -> None:
    """Write ``obj`` as JSON (``json.dumps`` with these settings, then ``end``), whole or not at all.

    >>> import tempfile; from pathlib import Path
    >>> f = Path(tempfile.mkdtemp()) / "a.json"; write_json(f, {"n": 1}); f.read_text()
    '{\\n "n": 1\\n}\\n'
    """
    write_text(path, json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii, default=default) + end)


def _jsonl_line(row: Any, *, ensure_ascii: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """One JSON Lines row, newline included: the one spelling every JSONL file of ours uses."""
    return json.dumps(row, ensure_ascii=ensure_ascii, default=default) + "\n"


def write_jsonl(path: Path | str, rows: Iterable[Any], *, ensure_ascii: bool = False,
                default: Callable[[Any], Any] | None = None) -> None:
    """Write ``rows`` as JSON Lines (one compact JSON value per line), whole or not at all."""
    write_text(path, "".join(_jsonl_line(r, ensure_ascii=ensure_ascii, default=default) for r in rows))


def append_jsonl(path: Path | str, rows: Iterable[Any], *, ensure_ascii: bool = False,
                 default: Callable[[Any], Any] | None = None) -> None:
    """Append ``rows`` to the JSON Lines log ``path`` (made, with its folder, if missing). Not atomic: a kill may
    cut the last line, so a log's readers skip such a line (``read_jsonl(..., skip_bad=True)``) or a resumed run
    drops it (:func:`filter_jsonl`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(_jsonl_line(r, ensure_ascii=ensure_ascii, default=default) for r in rows))


# ----------------------------------------------------------------------------- whole folders


@contextmanager
def replacing_dir(path: Path | str) -> Iterator[Path]:
    """A new, empty folder beside ``path`` (``.NAME.partial-XXXX``) to fill; when the block ends without error,
    whatever is at ``path`` is deleted and the folder takes its place in one rename; else the folder is deleted
    and ``path`` is left as it was. So a crash never leaves half a model or half a copy under the final name.

    The folder gets the mode ``mkdir`` would give (not ``mkdtemp``'s 0700, which would become the result's).
    The caller decides whether ``path`` may be replaced (:mod:`visionr1.outdir`); this only does it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.parent / f".{path.name}.partial-{uuid.uuid4().hex[:12]}"
    scratch.mkdir()
    try:
        yield scratch
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        os.replace(scratch, path)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


# ----------------------------------------------------------------------------- reading JSON Lines


def jsonl_values(lines: str | Iterable[str], source: str) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of a JSON Lines text (a whole text, or its lines: an open
    file), lazily; a line that is not JSON gives a :class:`DataError` as its value (``line 3 in SOURCE: invalid
    JSON: ... at column 7``), so a reader that keeps going past bad items can report each one. The one place a
    JSONL line is parsed.

    >>> [v for _, v in jsonl_values(['{"a": 1}', '', '{"a": 2}'], "x.jsonl")]
    [{'a': 1}, {'a': 2}]
    >>> str(next(jsonl_values(['{"a": 1'], "x.jsonl"))[1])
    "line 1 in x.jsonl: invalid JSON: Expecting ',' delimiter at column 8"
    """
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline=None)  # split as a file is read (read_jsonl)
    for lineno, line in enumerate(lines, 1):
        if line.strip():
            yield lineno, _parse_line(line, lineno, source)


def _parse_line(line: str, lineno: int, source: str) -> Any:
    try:
        return json.loads(line.rstrip("\r\n"))  # without its end: an error at the end of the line is at its column
    except json.JSONDecodeError as e:
        # json's own messages may end in "at" ("Invalid control character at"): one "at", then the column
        return DataError(f"line {lineno}", f"invalid JSON: {e.msg.removesuffix(' at')} at column {e.colno}", source)


def _values(lines: Iterable[str], source: str, skip_bad: bool) -> list[Any]:
    out = []
    for _, value in jsonl_values(lines, source):
        if isinstance(value, DataError):
            if skip_bad:
                continue
            raise value
        out.append(value)
    return out


def read_jsonl(path: Path | str, *, skip_bad: bool = False, missing_ok: bool = False) -> list[Any]:
    """The values of the JSON Lines file ``path``, in order (blank lines skipped).

    A line that is not JSON raises a :class:`DataError` naming the file and the line, or with ``skip_bad`` is left
    out (the last line of a log cut by a kill). ``missing_ok``: a missing file is an empty list (a run that has not
    logged yet). Lines end at a newline (``\\n``, ``\\r\\n`` or ``\\r``, which JSON never holds raw), not at every line
    break ``str.splitlines`` knows: a value holding U+2028, which ``ensure_ascii=False`` writes raw, stays one line.
    """
    path = Path(path)
    if missing_ok and not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        return _values(f, str(path), skip_bad)


def loads_jsonl(text: str, source: str, *, skip_bad: bool = False) -> list[Any]:
    """:func:`read_jsonl` of a text already read (``source`` names it in errors)."""
    return _values(text, source, skip_bad)


def filter_jsonl(path: Path | str, keep: Callable[[Any], bool]) -> int:
    """Rewrite the JSON Lines file ``path`` (whole or not at all) keeping the lines whose value passes ``keep``
    as they were written (each ended by ``\\n``); a line that is not JSON (cut by a kill) is dropped too. Returns how many lines were dropped; a
    missing file is left missing (0)."""
    path = Path(path)
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            value = _parse_line(line, lineno, str(path))
            if not isinstance(value, DataError) and keep(value):
                kept.append(line.rstrip("\n"))
            else:
                dropped += 1
    write_text(path, "".join(line + "\n" for line in kept))
    return dropped


__all__ = ["append_jsonl", "filter_jsonl", "jsonl_values", "loads_jsonl", "read_jsonl", "replacing_dir",
           "replacing_file", "write_bytes", "write_json", "write_jsonl", "write_text"]
