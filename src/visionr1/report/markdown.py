"""``report.md`` of one run folder, rendered from its ``scores.json`` (and nothing else).

It shows what the official leaderboards show for the benchmark (MathVista by task and skill,
MathVerse by version, DynaMath average and worst case, WeMath's four dimensions…), then completion
length, R1 format and reflective-word statistics, and the judge calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from visionr1.errors import ConfigError
from visionr1.files import write_text

TITLES = {"mathvista": "MathVista", "mathverse": "MathVerse", "mmmath": "MM-Math", "dynamath": "DynaMath",
          "mathvision": "MathVision", "wemath": "We-Math"}


def _num(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def render_run_report(scores: dict[str, Any]) -> str:
    """Markdown for one run's ``scores.json`` content."""
    bench = scores.get("benchmark", "?")
    lines = [f"# {TITLES.get(bench, bench)} — {scores.get('model')}", ""]
    lines.append(f"split `{scores.get('split')}` · {scores.get('items')} items · backend `{scores.get('backend')}` · "
                 f"prompt `{scores.get('prompt')}` · judge: "
                 + (f"`{scores['judge'].get('model')}` ({scores['judge'].get('calls', 0)} calls)"
                    if (scores.get("judge") or {}).get("used") else "none (rule-based)"))
    lines += ["", "## Scores", "", "| metric | value |", "|---|---:|"]
    lines += [f"| {k} | {_num(v)} |" for k, v in (scores.get("headline") or {}).items()]
    for name, table in (scores.get("breakdowns") or {}).items():
        if not table:
            continue
        lines += ["", f"### by {name}", "", f"| {name} | accuracy | correct / total |", "|---|---:|---:|"]
        lines += [f"| {k} | {_num(v.get('accuracy'))} | {v.get('correct')}/{v.get('total')} |" for k, v in table.items()]
    comp = scores.get("completion") or {}
    if comp:
        length = comp.get("length") or {}
        refl = comp.get("reflective_words") or {}
        n = comp.get("completions", 0)
        lines += ["", "## Completions", "", "| statistic | value |", "|---|---:|",
                  f"| completions | {n} |",
                  f"| failed to generate | {comp.get('failed', 0)} |",
                  f"| mean length ({length.get('unit')}) | {_num(length.get('mean'))} |",
                  f"| median length | {_num(length.get('median'))} |",
                  f"| max length | {_num(length.get('max'))} |",
                  f"| truncated (hit max tokens) | {comp.get('truncated', 0)} |",
                  f"| missing `</answer>` | {comp.get('missing_answer_tag', 0)} |",
                  f"| well-formed `<think>…</think><answer>…</answer>` | {comp.get('well_formed_r1', 0)} |",
                  f"| re-asked for a missing `</answer>` | {comp.get('re_asked', 0)} |",
                  f"| answered on a re-ask | {comp.get('regenerated', 0)} |",
                  f"| reflective words per completion | {_num(refl.get('per_completion'))} |",
                  f"| completions with any reflective word | {_num(100 * (refl.get('share_with_any') or 0.0))}% |"]
        total = refl.get("total") or {}
        if total:
            lines += ["", "| reflective word | count |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in total.items()]
    lines += ["", f"Official result file: `{scores.get('result_file')}`; per-item verdicts: `verdicts.jsonl`; raw "
              "generations: `generations.jsonl`.", ""]
    return "\n".join(lines)


def write_run_report(run_dir: Path | str) -> Path:
    """Render ``run_dir/scores.json`` into ``run_dir/report.md``; returns the path."""
    run_dir = Path(run_dir)
    path = run_dir / "scores.json"
    if not path.exists():
        raise ConfigError(f"{run_dir} has no scores.json")
    out = run_dir / "report.md"
    write_text(out, render_run_report(json.loads(path.read_text(encoding="utf-8"))))
    return out
