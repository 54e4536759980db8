"""Run folders → comparable rows: one row per (benchmark, metric), one column per run.

A run folder is what ``visionr1 eval --out`` writes; only its ``scores.json`` is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError


@dataclass
class RunSummary:
    """A run's name, folder and ``scores.json`` content. The name is the folder's, or, for a folder named after its
    benchmark (``runs/$MODEL/mathvista``, the layout the docs recommend), the model folder's above it."""

    name: str
    path: Path
    scores: dict[str, Any]
    in_model_folder: bool = False
    """Named after the folder above: the runs of one model folder share a column (:func:`model_columns`)."""

    @property
    def model(self) -> str | None:
        """What the run evaluated, short: a checkpoint path's last two parts, an endpoint's model name."""
        model = self.scores.get("model")
        if not isinstance(model, str) or not model:
            return None
        parts = Path(model).parts
        return "/".join(parts[-2:]) if ("/" in model and Path(model).is_absolute()) or model.startswith(".") else model

    @property
    def benchmark(self) -> str:
        return str(self.scores.get("benchmark", "?"))

    @property
    def headline(self) -> dict[str, float]:
        return dict(self.scores.get("headline") or {})

    def keys(self) -> list[tuple[str, str]]:
        """The (benchmark, metric) rows this run fills: its headline metrics, completion length, reflective words."""
        return [(self.benchmark, m) for m in list(self.headline) + ["completion length", "reflective words / completion"]]

    def value(self, bench: str, metric: str) -> Any:
        if bench != self.benchmark:
            return None
        completion = self.scores.get("completion") or {}
        if metric == "completion length":
            return (completion.get("length") or {}).get("mean")
        if metric == "reflective words / completion":
            return (completion.get("reflective_words") or {}).get("per_completion")
        return self.headline.get(metric)


def load_run(path: Path | str, name: str | None = None) -> RunSummary:
    """Read a run folder (or its ``scores.json``)."""
    path = Path(path)
    file = path if path.is_file() else path / "scores.json"
    if not file.exists():
        raise ConfigError(f"{path} is not an eval run folder (no scores.json); run `visionr1 eval --out {path}` first")
    try:
        scores = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{file} is not valid JSON: {e}") from None
    folder = file.parent
    by_benchmark = name is None and _named_after_benchmark(folder, scores)
    return RunSummary(name=name or (folder.resolve().parent.name if by_benchmark else folder.name), path=folder,
                      scores=scores, in_model_folder=by_benchmark)


def _named_after_benchmark(folder: Path, scores: dict[str, Any]) -> bool:
    """``mathvista``, ``MathVista``, ``mathverse_testmini``: a folder that says which benchmark, not which model."""
    def norm(text: Any) -> str:
        return "".join(c for c in str(text or "").lower() if c.isalnum())

    bench, split = norm(scores.get("benchmark")), norm(scores.get("split"))
    return bool(bench) and norm(folder.name) in {bench, bench + split}


@dataclass
class ModelColumn:
    """The runs of one model folder (``runs/$MODEL/<benchmark>``), one per benchmark: one column of the comparison."""

    name: str
    path: Path
    runs: list[RunSummary]

    @property
    def model(self) -> str | None:
        models = {r.model for r in self.runs} - {None}
        return ", ".join(sorted(models)) if models else None

    def keys(self) -> list[tuple[str, str]]:
        return [k for r in self.runs for k in r.keys()]

    def value(self, bench: str, metric: str) -> Any:
        return next((r.value(bench, metric) for r in self.runs if r.benchmark == bench), None)


def model_columns(runs: list[Any]) -> list[Any]:
    """Runs in a model folder, each named after its benchmark, merged into that model's column (each benchmark once);
    anything else (other runs, reference columns) is a column of its own, in the order given."""
    out: list[Any] = []
    groups: dict[Path, ModelColumn] = {}
    for r in runs:
        if isinstance(r, RunSummary) and r.in_model_folder:
            key = r.path.resolve().parent
            group = groups.get(key)
            if group is None:
                group = groups[key] = ModelColumn(r.name, key, [r])
                out.append(group)
                continue
            if r.benchmark not in {x.benchmark for x in group.runs}:
                group.runs.append(r)
                continue
        out.append(r)
    return [c.runs[0] if isinstance(c, ModelColumn) and len(c.runs) == 1 else c for c in out]


def unique_names(runs: list[Any]) -> list[str]:
    """Run names, with the parent folder added to names that repeat (``a/grpo``, ``b/grpo``)."""
    names = [r.name for r in runs]
    if len(set(names)) == len(names):
        return names
    return [f"{r.path.parent.name}/{r.name}" if names.count(r.name) > 1 else r.name for r in runs]


def comparison_rows(runs: list[Any]) -> tuple[list[str], list[list[Any]]]:
    """``(header, rows)``: header is ``["benchmark", "metric", column names…]``; a missing value is ``None``.

    One column per model: the runs of a model folder (``runs/$MODEL/mathvista``, ``runs/$MODEL/mathverse``) share
    one, named after that folder (:func:`model_columns`); any other run is a column named after its folder. The
    first row (``model``) says what each column evaluated. Metrics keep the order the benchmarks report them in (the
    headline number first), and the completion length and reflective words per completion are added for each
    benchmark. ``runs`` may include published reference columns (:class:`visionr1.report.reference.Reference`,
    e.g. the paper's numbers).
    """
    runs = model_columns(runs)
    names = unique_names(runs)
    keys: list[tuple[str, str]] = []
    for r in runs:
        for key in r.keys():
            if key not in keys:
                keys.append(key)
    rows = [["", "model", *(getattr(r, "model", None) for r in runs)]]
    rows += [[bench, metric, *(r.value(bench, metric) for r in runs)] for bench, metric in keys]
    return ["benchmark", "metric", *names], rows


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def comparison_table(runs: list[RunSummary]):
    """A ``rich.table.Table`` of :func:`comparison_rows`; the best value of each accuracy row in bold."""
    from rich.table import Table

    header, rows = comparison_rows(runs)
    table = Table(title="visionr1 eval: side by side")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < 2 else "right")
    for row in rows:
        values = [v for v in row[2:] if isinstance(v, (int, float))]
        best = max(values) if values and not row[1].startswith(("completion", "reflective", "IK", "IG", "RM")) else None
        cells = [f"[bold]{_fmt(v)}[/]" if best is not None and v == best and len(values) > 1 else _fmt(v) for v in row[2:]]
        table.add_row(row[0], row[1], *cells)
    return table


def comparison_markdown(runs: list[RunSummary]) -> str:
    header, rows = comparison_rows(runs)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * (len(header) - 2)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
