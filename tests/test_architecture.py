"""The arrows point one way: stages hand work over through files and never import each other.

dataset → bridge → sft/grpo → eval → report; only ``cli`` and ``demo`` wire stages together, and the shared
pieces (data, models, grading, endpoints, config, prompting, errors) import no stage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "visionr1"
STAGES = {"bridge", "train", "eval", "report", "demo"}
SHARED = {"data", "models", "grading", "endpoints", "config", "prompting", "errors", "rewards", "testing", "outdir"}
ALLOWED = {  # stage -> the other stages it may import
    "bridge": set(),
    "train": {"eval"},  # validation during training runs eval's code path on the policy (train/validation.py only)
    "eval": {"report"},  # eval writes report.md through the report module (which only reads)
    "report": set(),
    "demo": {"bridge", "train", "eval", "report"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("visionr1."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("visionr1.")}
    return found


def _top(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


FILES = sorted(p for p in SRC.rglob("*.py") if _top(p) not in {"cli", "__main__", "__init__"})


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_point_one_way(path):
    owner = _top(path)
    imported = _imports(path) - {owner}
    if owner in SHARED:
        assert not imported & STAGES, f"{owner} is shared but imports stage(s) {imported & STAGES}"
    else:
        assert owner in STAGES, f"unclassified top-level module {owner!r}: add it to STAGES or SHARED"
        assert imported & STAGES <= ALLOWED[owner], f"{owner} imports {imported & STAGES - ALLOWED[owner]}"


def test_grading_is_a_pure_leaf():
    for path in (SRC / "grading").rglob("*.py"):
        assert _imports(path) <= {"grading"}, path


def test_only_validation_reaches_from_train_into_eval():
    users = {p.name for p in (SRC / "train").rglob("*.py") if "eval" in _imports(p)}
    assert users <= {"validation.py"}, users
