"""grading/ is a pure leaf: it imports only the standard library, math-verify (and its deps) and the R1 contract
(visionr1/r1.py, itself standard library only)."""

import ast
import sys
from pathlib import Path

import visionr1.grading

ALLOWED_THIRD_PARTY = {"math_verify", "sympy", "latex2sympy2_extended"}


def test_grading_imports_only_stdlib_and_math_verify():
    root = Path(visionr1.grading.__file__).parent
    bad = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if name.startswith("visionr1.grading") or name == "visionr1.r1" or top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
                    continue
                bad.append(f"{path.name}: {name}")
    assert not bad, bad
