"""Typed configuration: dataclasses built from one YAML file plus ``key=value`` overrides.

Every stage has a dataclass config whose fields carry a one-line help (``field(metadata={"help": ...})``)
and whose ``__post_init__`` says what to change when a value is off. This module turns YAML into
those dataclasses, strictly: an unknown key is an error that lists the valid ones, so a typo never
silently falls back to a default.

Example:
    >>> @dataclass
    ... class Opt:
    ...     lr: float = 1e-5
    ...     steps: int = 10
    >>> from_dict(Opt, apply_overrides({"lr": 5e-6}, ["steps=3"]))
    Opt(lr=5e-06, steps=3)
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import os
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from visionr1.errors import ConfigError

T = TypeVar("T")


def load_yaml(path: Path | str) -> dict[str, Any]:
    """Read a YAML mapping; an empty file is ``{}``."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    try:
        with open(path, encoding="utf-8") as f:  # a stream, so the error's position names the file, not "<unicode string>"
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level, not {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML: ``3``, ``1e-5``, ``[1, 2]``, ``null``).

    An item of a list is addressed by its index, ``ptst.stages.0.steps=2`` or ``ptst.stages[0].steps=2``; the
    list must be in ``data`` (the YAML) and hold that item. ``data`` is not modified.

    >>> apply_overrides({"ptst": {"stages": [{"steps": 3}, {"steps": 4}]}}, ["ptst.stages[1].steps=9"])
    {'ptst': {'stages': [{'steps': 3}, {'steps': 9}]}}
    """
    data = dict(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value (e.g. trainer.learning_rate=1e-5)")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        parts = re.sub(r"\[(\d+)\]", r".\1", key.strip()).split(".")
        if any(not p for p in parts):
            raise ConfigError(f"override key {key!r} has an empty part; write it as a.b.c (list items: a.b.0.c)")
        node: Any = data
        for i, p in enumerate(parts):
            where = ".".join(parts[:i])
            if isinstance(node, list):
                index = _list_index(node, p, where, item)
                if i == len(parts) - 1:
                    node[index] = value
                    break
                child = node[index]
                child = dict(child) if isinstance(child, dict) else list(child) if isinstance(child, list) else {}
                node[index] = child
            else:
                if i == len(parts) - 1:
                    node[p] = value
                    break
                child = node.get(p)
                if parts[i + 1].isdigit() and not isinstance(child, list):
                    full = ".".join(parts[: i + 1])
                    raise ConfigError(f"{item}: {full} is not a list in the config, so it has no item {parts[i + 1]}; "
                                      f"set the whole list ({full}=[...]) or write it in the YAML first")
                child = dict(child) if isinstance(child, dict) else list(child) if isinstance(child, list) else {}
                node[p] = child
            node = child
    return data


def _list_index(items: list[Any], part: str, where: str, item: str) -> int:
    if not part.isdigit():
        raise ConfigError(f"{item}: {where} is a list; address its items by index ({where}.0.…), not {part!r}")
    index = int(part)
    if index >= len(items):
        raise ConfigError(f"{item}: {where} has {len(items)} item(s) (indices 0–{len(items) - 1}), no item {index}")
    return index


# ----------------------------------------------------------------------------- the engine
#
# One set of rules turns a YAML value into the type of the field it is for, whether the field is one of our
# dataclasses' or one of TRL's (``trainer.*``, typed by ``SFTConfig``/``GRPOConfig``):
#
# ============  =====================================================================================
# field type    accepted (anything else is a ConfigError naming the key, the value and the type)
# ============  =====================================================================================
# bool          true / false only (YAML's yes/no/on/off are already booleans; the string 'yes' or 1 is not)
# int           an integer, or a string holding one ("3"); not a bool, not a float (2.0 or 2.5)
# float         a number, or a string holding one ("1e-5", which YAML 1.1 reads as a string); not a bool
# str           a string, or a number (written as it reads: 3 -> "3"); not a bool, list or mapping
# Path          a string (or a Path)
# Literal/Enum  one of the listed values (an Enum's member or its value)
# list[X]       a list (or tuple), each item converted to X (an override gives one as [a, b])
# dict[K, V]    a mapping, each value converted to V
# X | Y         a value that already is an X or a Y is kept; else the first of them it converts to
# None          only where the type admits it (X | None), or is not checked (Any, another class)
# dataclass     a mapping of its fields (recursively; unknown keys refused, the nearest one suggested)
# ============  =====================================================================================


class _NoFit(Exception):
    """``value`` is not a ``tp`` (internal: a union tries its next member)."""


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _fits(tp: Any, value: Any) -> bool:
    """Is ``value`` already a ``tp`` as it stands (a union keeps such a value rather than converting it)?"""
    if tp is bool:
        return isinstance(value, bool)
    if tp in (int, float):
        return isinstance(value, tp) and not isinstance(value, bool)
    return tp in (str, dict, list) and isinstance(value, tp)


def _number(value: Any, cls: type) -> Any:
    """``value`` read as a ``cls`` (int or float): a number, or a string holding one; never a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _NoFit
    try:
        return cls(value)
    except ValueError:
        raise _NoFit from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _NoFit


def _to_int(value: Any) -> int:
    if isinstance(value, float):  # 2.0 included: an integer setting is written as one
        raise _NoFit
    return _number(value, int)


def _to_str(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _NoFit
    return str(value)


def _to_path(value: Any) -> Path:
    if isinstance(value, (str, Path)):
        return Path(value)
    raise _NoFit


_SCALARS: dict[Any, Any] = {bool: _to_bool, int: _to_int, float: lambda v: _number(v, float), str: _to_str,
                            Path: _to_path}
"""The scalar rules of the table above, one converter per type."""


def _convert(tp: Any, value: Any, key: str) -> Any:
    """``value`` as a ``tp`` by the rules above; raises :class:`_NoFit` (or a ConfigError from a nested key)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None:
        if tp is Any or (_is_union(tp) and type(None) in args) or not _checked(tp):
            return None
        raise _NoFit
    if _is_union(tp):
        options = [a for a in args if a is not type(None)]
        if any(_fits(a, value) for a in options):
            return value
        for a in options:
            try:
                return _convert(a, value, key)
            except _NoFit:
                continue
        raise _NoFit
    if tp in _SCALARS:
        return _SCALARS[tp](value)
    if _is_dataclass_type(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise _NoFit
        return from_dict(tp, value, _where=key)
    if origin is typing.Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise _NoFit
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if isinstance(value, tp) or value in {m.value for m in tp}:
            return value
        raise _NoFit
    if tp in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _NoFit
        item = args[0] if args and (origin is list or args[-1] is Ellipsis or len(args) == 1) else Any
        items = [convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return items if (origin or tp) is list else tuple(items)
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise _NoFit
        return {k: convert(args[1], v, f"{key}.{k}") for k, v in value.items()} if len(args) == 2 else value
    return value  # a type not checked here (Any, accelerate's ParallelismConfig, ...): its owner checks it


def _checked(tp: Any) -> bool:
    """Does the engine check values of ``tp`` (else they are passed on as they are)?"""
    origin = typing.get_origin(tp)
    return (tp in _SCALARS or tp in (list, tuple, dict) or _is_dataclass_type(tp) or _is_union(tp)
            or origin in (list, tuple, dict, typing.Literal) or (isinstance(tp, type) and issubclass(tp, enum.Enum)))


def convert(tp: Any, value: Any, key: str, *, owner: str | None = None) -> Any:
    """``value`` converted to type ``tp`` for the setting ``key``, by the rules of the table above; a ConfigError
    naming the key, the value and the type when it is not one. ``owner``: the class field the type is read from,
    named in the error (``trl.SFTConfig.num_train_epochs``).

    >>> convert(float, "1e-5", "trainer.learning_rate")
    1e-05
    >>> convert(int, 2.5, "steps")
    Traceback (most recent call last):
    visionr1.errors.ConfigError: steps=2.5: expected an integer; change the value in the YAML or the override
    """
    try:
        return _convert(tp, value, key)
    except _NoFit:
        note = f" ({owner} is {type_name(tp)})" if owner else ""
        raise ConfigError(f"{key}={value!r}: expected {type_words(tp)}{note}; change the value in the YAML or the "
                          "override") from None


def type_name(tp: Any) -> str:
    """The type as Python writes it, shortly: ``int | None`` -> ``int``, ``Literal['a', 'b']`` -> ``one of 'a', 'b'``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if _is_union(tp):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if origin is not None:
        return getattr(origin, "__name__", str(origin)) + "[" + ", ".join(type_name(a) for a in args) + "]"
    return getattr(tp, "__name__", str(tp))


def type_words(tp: Any) -> str:
    """The type in words: ``float`` -> ``a number``, ``int | None`` -> ``an integer or null``."""
    words = {float: "a number", int: "an integer", bool: "true or false", str: "a string", dict: "a mapping",
             list: "a list", tuple: "a list", Path: "a path (a string)"}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if _is_union(tp):
        said = " or ".join(type_words(a) for a in args if a is not type(None))
        return said + (" or null" if type(None) in args else "")
    if _is_dataclass_type(tp):
        return f"a mapping ({', '.join(f.name for f in dataclasses.fields(tp) if f.init)})"
    return words.get(tp) or words.get(origin) or type_name(tp)


def did_you_mean(unknown: Iterable[str], valid: Iterable[str], prefix: str = "") -> str:
    """``" did you mean learning_rate?"`` for the valid keys closest to mistyped ones (``""`` when none is close).

    >>> did_you_mean(["learnig_rate"], ["learning_rate", "lr_scheduler_type"])
    ' did you mean learning_rate?'
    """
    import difflib

    valid = list(valid)
    close = [m for k in unknown for m in difflib.get_close_matches(k, valid, n=1, cutoff=0.75)]
    return f" did you mean {', '.join(prefix + c for c in dict.fromkeys(close))}?" if close else ""


def convert_fields(cls: type, data: Any, *, where: str = "", owner: str | None = None,
                   refused: dict[str, str] | None = None) -> dict[str, Any]:
    """``data``'s values for some fields of dataclass ``cls``, each converted to its field's type
    (:func:`convert`). A key that is not a field is an error naming the key, the nearest field and the valid
    ones; a key of ``refused`` is an error saying where that setting lives instead.

    Used for our configs (:func:`from_dict`) and, with ``owner``, for the ``trainer:`` mapping, whose keys are
    the fields of TRL's ``SFTConfig``/``GRPOConfig`` and stays a mapping (TRL's class is built later, with the
    values we add).

    >>> @dataclass
    ... class Opt:
    ...     lr: float = 1e-5
    >>> convert_fields(Opt, {"lr": 1})
    {'lr': 1.0}
    """
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}={data!r}: expected {type_words(cls)}")
    refused = refused or {}
    for k in data:
        if k in refused:
            raise ConfigError(f"{prefix}{k} is set by visionr1; use {refused[k]} instead")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in refused}
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        note = f" (not fields of {owner})" if owner else ""
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + str(k) for k in unknown)}{note};"
            f"{did_you_mean(map(str, unknown), fields, prefix)} valid keys here: {', '.join(sorted(fields))}")
    hints = _hints(cls)
    return {k: convert(hints[k], v, prefix + k, owner=f"{owner}.{k}" if owner else None) for k, v in data.items()}


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_dict(cls: type[T], data: dict[str, Any], *, _where: str = "") -> T:
    """Build dataclass ``cls`` from ``data`` (:func:`convert_fields`: every value converted, unknown keys refused),
    recursing into nested dataclasses; a required field left out is an error."""
    kwargs = convert_fields(cls, data, where=_where)
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        prefix = f"{_where}." if _where else ""
        raise ConfigError(f"missing config key(s) {', '.join(prefix + k for k in missing)}: set them in the config "
                          f"file or as key=value")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{_where or cls.__name__}: {e}") from None


def to_dict(obj: Any) -> dict[str, Any]:
    """Dataclass → plain dict (Paths as strings), for writing the resolved config next to a run."""

    def plain(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return plain(dataclasses.asdict(obj))


def load_config(cls: type[T], path: Path | str | None = None, overrides: list[str] | tuple[str, ...] = (),
                flags: dict[str, Any] | None = None) -> T:
    """YAML file (optional), then a command's shortcut ``flags``, then ``key=value`` overrides → a validated ``cls``
    instance; every stage's command builds its config this way.

    ``flags`` maps dotted keys to what the user typed (``{"temperature": 0.6, "mllm.base_url": url}``); a None
    value is a flag not given and leaves the file's value alone. An unknown key, from any of the three, is refused
    naming it.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class C:
    ...     a: int = 1
    ...     b: str = "x"
    >>> load_config(C, None, ["b=z"], flags={"a": 3, "b": None})
    C(a=3, b='z')
    """
    data = load_yaml(path) if path else {}
    typed = [(k, v) for k, v in (flags or {}).items() if v is not None]
    for key, value in typed:
        node = data
        *parents, last = key.split(".")
        for p in parents:
            node[p] = dict(node.get(p) or {})
            node = node[p]
        node[last] = str(value) if isinstance(value, Path) else value
    return from_dict(cls, apply_overrides(data, list(overrides)))


@dataclass
class EndpointConfig:
    """An OpenAI-compatible chat-completions endpoint (vLLM, SGLang, DeepSeek API, OpenAI, ...)."""

    base_url: str = field(default="", metadata={"help": "Base URL, e.g. http://localhost:8000/v1"})
    model: str = field(default="", metadata={"help": "Model name the server knows the model by."})
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={"help": "Environment variable holding the API key (never logged)."})
    timeout: float = field(default=600.0, metadata={"help": "Per-request timeout in seconds."})
    max_retries: int = field(default=6, metadata={"help": "Retries on 429/5xx/timeouts/connection errors."})
    concurrency: int = field(default=64, metadata={"help": "Requests in flight at once."})

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ConfigError(f"endpoint timeout must be > 0 seconds, got {self.timeout}")
        if self.concurrency < 1:
            raise ConfigError(f"endpoint concurrency must be >= 1, got {self.concurrency}")
        if self.max_retries < 0:
            raise ConfigError(f"endpoint max_retries must be >= 0, got {self.max_retries}")

    def api_key(self) -> str:
        """The key from the environment; ``"EMPTY"`` when unset (local vLLM/SGLang servers accept any key)."""
        return os.environ.get(self.api_key_env, "") or "EMPTY"


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
"""What a Hugging Face hub id looks like (``Qwen/Qwen2.5-VL-7B-Instruct``)."""


RUN_OUTPUT = re.compile(r"final|checkpoint-\d+|best")
"""The folders a training run writes its model into (``RUN_DIR/final``, ``checkpoint-N``, ``best``)."""


def check_model_path(path: str, what: str = "model.path", *, planning: bool = False) -> str | None:
    """Is ``path`` (the setting ``what``) a model that can be loaded? None: a local model folder, or a hub id in
    the local cache; a warning (text) for a hub id that would have to be downloaded; a ConfigError otherwise.

    ``planning`` (a ``--dry-run``): a run's model folder (``…/final``, ``checkpoint-N``, ``best``) that does not
    exist yet is a warning, not an error, when its run folder is missing or is a run: a recipe's GRPO stage
    names the SFT run's ``final/`` before that run has been made, and its plan can still be read.

    A hub id and a relative path look alike (``runs/tiny-model``); a path whose parent folder exists here is
    taken as a path, so a typo in it is an error rather than a download attempt. A run folder given for its
    model is answered with the folder that holds the model (``final/``).
    """
    p = Path(path).expanduser()
    if p.exists():
        if not p.is_dir():
            raise ConfigError(f"{what} {path} is a file; give the model's folder")
        if not (p / "config.json").is_file():
            if (p / "final" / "config.json").is_file():
                raise ConfigError(f"{what} {path} is a run folder, not a model; its trained model is {p / 'final'}")
            raise ConfigError(f"{what} {path} holds no config.json, so it is not a model folder (give a run's final/ "
                              "or checkpoint-N folder, `visionr1 tiny-model` output, or a hub id)")
        return None
    if HUB_ID.fullmatch(path) and not Path(path).parent.is_dir():
        try:
            from huggingface_hub import try_to_load_from_cache

            if isinstance(try_to_load_from_cache(path, "config.json"), str):
                return None
        except Exception:  # noqa: BLE001 - an unreadable cache is the same as none: warn
            pass
        return (f"{what} {path!r} is not a local folder, so it is read as a Hugging Face hub id; it is not in the "
                "local cache, and nothing can be downloaded without network access (or with HF_HUB_OFFLINE=1)")
    if planning and RUN_OUTPUT.fullmatch(p.name) and (not p.parent.exists() or (p.parent / ".visionr1.json").is_file()):
        return (f"{what} {path} does not exist yet (it is the model a training run writes into {p.parent}); the plan "
                "is printed, and the run itself needs that model first")
    near = ""
    if p.parent.is_dir():
        names = sorted(c.name for c in p.parent.iterdir() if c.is_dir() and not c.name.startswith("."))[:8]
        near = f"; {p.parent} holds: {', '.join(names)}" if names else f"; {p.parent} holds no folders"
    raise ConfigError(f"{what} {path} does not exist{near}")
