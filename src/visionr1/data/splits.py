"""Which split a data file or folder holds, by its name: one rule for benchmark tables (``eval --data``,
:mod:`visionr1.data.tables`) and training data downloaded from the hub (:func:`visionr1.data.io.read_records`).

Hugging Face names a split's files ``{split}-00000-of-00001.parquet`` (``data/`` folder) or ``{split}/0000.parquet``
(the parquet conversion); releases name a file after its split (We-Math's ``testmini.json``) or not at all
(VLMEvalKit's ``MathVista_MINI.tsv``). A split no file holds is an error naming the splits there are, never every
file read under the name asked for.
"""

from __future__ import annotations

import re
from pathlib import Path

from visionr1.errors import DataError

SPLIT_WORDS = frozenset({"train", "validation", "val", "dev", "test", "testmini"})
"""Names that say a file is a split (``testmini.json``, We-Math's release), even outside Hugging Face's naming."""
_SHARD_RE = re.compile(r"^(.+?)-\d{5}-of-\d{5}(?:-[0-9a-f]+)?$")  # testmini-00000-of-00001[-<hash>]


def split_matches(name: str, split: str, exact: bool = False) -> bool:
    """Whether file ``name`` holds ``split``: ``testmini.parquet``, ``testmini-00000-of-00001.parquet``, and (not
    ``exact``) ``testmini_text_only.parquet``."""
    stem = name.split(".")[0]
    if stem == split or stem.startswith(f"{split}-"):
        return True
    return not exact and stem.startswith(f"{split}_")


def split_name(path: Path) -> str:
    """The split a data file holds, by its name: Hugging Face's ``{split}-00000-of-00001.parquet``, the parquet
    conversion's ``{split}/0000.parquet``, else the file's stem (``testmini.json``, ``MathVista_MINI.tsv``)."""
    stem = path.name.split(".")[0]
    m = _SHARD_RE.match(stem)
    if m:
        return m.group(1)
    return path.parent.name if stem.isdigit() else stem


def names_a_split(path: Path) -> bool:
    """Whether ``path``'s name says which split it is (Hugging Face's names, or a word of :data:`SPLIT_WORDS`)."""
    stem = path.name.split(".")[0]
    return bool(_SHARD_RE.match(stem)) or stem.isdigit() or stem in SPLIT_WORDS


def split_of(path: Path | str, split: str | None, default: str | None) -> str | None:
    """The split a read of ``path`` means: the one asked for, else the one a single file's name says (MATH-V's
    ``data/test.jsonl`` given without ``--split`` is test, not the benchmark's default testmini), else ``default``.

    >>> split_of("data/test.jsonl", None, "testmini"), split_of("data", None, "testmini")
    ('test', 'testmini')
    """
    if split:
        return split
    path = Path(path)
    if path.suffix and names_a_split(path) and not path.is_dir():
        return split_name(path)
    return default


def pick_split(files: list[Path], split: str | None, where: Path) -> list[Path]:
    """The files of ``split`` (exact names first: ``testmini`` must not pick up ``testmini_text_only``).

    A split no file holds is an error naming the splits there are, never every file read under that name
    (a typo once scored testmini plus an unanswered test set, and ``test`` once ran testmini labelled test).
    One table whose name is no split (VLMEvalKit's ``MathVista_MINI.tsv``) is the data whatever the split."""
    if not split or not files:
        return files
    for match in (lambda p: split_matches(p.name, split, exact=True) or p.parent.name == split,
                  lambda p: split_matches(p.name, split)):
        chosen = [p for p in files if match(p)]
        if chosen:
            return chosen
    names = sorted({split_name(p) for p in files})
    if len(names) == 1 and not any(names_a_split(p) for p in files):
        return files
    raise DataError(str(where), f"holds no split {split!r}; the splits there are {', '.join(names)} "
                                "(give one of them as the split, e.g. --split " + names[0] + ")")


def check_file_split(path: Path, split: str | None) -> None:
    """A single file given as the data holds the split its name says, if it names one: asking it for another is
    an error (its results would be labelled with a split they are not)."""
    if split and names_a_split(path) and not (split_matches(path.name, split) or path.parent.name == split):
        raise DataError(str(path), f"holds the split {split_name(path)!r} (by its name), not {split!r}; give "
                                   f"--split {split_name(path)}, or the file of split {split!r}")


def parquet_files(folder: Path, split: str | None) -> list[Path]:
    """The parquet files anywhere under ``folder`` (hidden folders left out) that hold ``split`` (all for None)."""
    folder = Path(folder)  # hidden folders inside it only: the hub's own cache is ~/.cache/huggingface/...
    files = sorted(p for p in folder.rglob("*.parquet")
                   if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return pick_split(files, split, folder)
