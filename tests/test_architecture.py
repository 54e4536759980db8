"""The arrows point one way: stages hand work over through files and never import each other.

dataset → bridge → sft/grpo → eval → report; only ``cli`` and ``demo`` wire stages together, and the shared
pieces (data, models, grading, endpoints, config, r1, errors) import no stage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "visionr1"
STAGES = {"bridge", "train", "eval", "report", "demo"}
SHARED = {"data", "models", "grading", "endpoints", "config", "r1", "errors", "rewards", "testing", "outdir"}
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
    """Grading imports nothing of ours but the R1 contract (r1.py), which imports only errors.py, which imports
    nothing of ours."""
    for path in (SRC / "grading").rglob("*.py"):
        assert _imports(path) <= {"grading", "r1"}, path
    assert _imports(SRC / "r1.py") <= {"errors"}
    assert _imports(SRC / "errors.py") == set()


def test_only_validation_reaches_from_train_into_eval():
    users = {p.name for p in (SRC / "train").rglob("*.py") if "eval" in _imports(p)}
    assert users <= {"validation.py"}, users


# ----------------------------------------------------------------------------- no import circle between modules


def _module_name(path: Path) -> str:
    parts = ["visionr1", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _module_imports(name: str, path: Path) -> set[str]:
    """The visionr1 modules ``name`` imports anywhere in its file (top level or inside a function): an import
    inside a function still ties the two modules together, it only defers the cost."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # `from pkg import name`: the module, else the package
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_cycle_finder_finds_a_planted_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_between_modules():
    graph = {name: _module_imports(name, path) for name, path in MODULES.items()}
    assert "visionr1.bridge.pipeline" in graph["visionr1.bridge.run"]  # the walker sees imports at all
    assert _cycles(graph) == []
