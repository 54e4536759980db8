"""The arrows point one way: stages hand work over through files and never import each other.

dataset → bridge → sft/grpo → eval → report; only ``cli`` and ``demo`` wire stages together, and the shared
pieces (data, models, grading, endpoints, config, r1, errors, files) import no stage. The house has floors
(:data:`FLOORS`): a module imports only from the floors below its own, never from one above.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "visionr1"
STAGES = {"bridge", "train", "eval", "report", "demo"}
SHARED = {"data", "models", "grading", "endpoints", "config", "r1", "errors", "rewards", "testing", "outdir", "files"}
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


# ----------------------------------------------------------------------------- floors: no import points upward

FLOORS = [  # bottom to top: each top-level module or folder imports only from the floors below it
    {"errors"},  # the exceptions: imports nothing of ours
    {"files", "r1", "config"},  # file I/O, the R1 contract, typed settings: stdlib (+ yaml for config) and errors
    {"outdir", "grading"},  # output folders (write through files); grading (the pure leaf, reads r1)
    {"data", "models", "endpoints", "rewards", "testing"},  # shared pieces the stages build on
    {"bridge", "train", "eval", "report"},  # the stages (which of them may import which: ALLOWED above)
    {"demo", "cli", "__main__"},  # what wires the stages together
]
FLOOR = {name: i for i, names in enumerate(FLOORS) for name in names}


def test_every_top_level_module_has_a_floor():
    tops = {_top(p) for p in SRC.rglob("*.py")} - {"__init__"}
    assert tops == set(FLOOR), f"put {sorted(tops - set(FLOOR))} on a floor; drop {sorted(set(FLOOR) - tops)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_from_a_floor_above_its_own(path):
    """outdir once imported data (and with it PIL) to write a file; a floor above would pull in its weight and its
    imports, and the house would no longer read bottom to top."""
    owner = _top(path)
    up = {m for m in _imports(path) - {owner} if FLOOR[m] >= FLOOR[owner] and FLOOR[m] != FLOOR["bridge"]}
    assert not up, f"{path.relative_to(SRC)} (floor {FLOOR[owner]}) imports {sorted(up)} from its floor or above"


def test_the_floor_check_sees_an_upward_import(tmp_path):
    planted = tmp_path / "outdir.py"
    planted.write_text("from visionr1.data.io import write_jsonl\n")
    assert _imports(planted) == {"data"} and FLOOR["data"] > FLOOR["outdir"]


# ----------------------------------------------------------------------------- one I/O floor


def _stdlib_or(path: Path, ours: set[str], *, when_imported: bool = False) -> set[str]:
    """What ``path`` imports that is neither the standard library nor one of ``ours`` (visionr1 top-level names);
    ``when_imported``: only what importing it imports (not the imports inside its functions)."""
    import sys

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in (tree.body if when_imported else ast.walk(tree)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            if root == "visionr1":
                if name.split(".")[1] not in ours:
                    found.add(name)
            elif root not in sys.stdlib_module_names and root != "__future__":
                found.add(name)
    return found


def test_the_io_module_imports_only_the_standard_library_and_errors():
    assert _stdlib_or(SRC / "files.py", {"errors"}) == set()
    # errors imports typer and rich only inside cli_errors, when a command ends on an error
    assert _stdlib_or(SRC / "errors.py", set(), when_imported=True) == set()
    assert _imports(SRC / "errors.py") == set()


def test_writing_an_output_folder_mark_loads_no_data_stack():
    """outdir writes through files: claiming a folder must not import PIL, pyarrow or our data readers."""
    import subprocess
    import sys

    code = ("import sys, tempfile, pathlib; from visionr1.outdir import claim_output_dir; "
            "claim_output_dir(pathlib.Path(tempfile.mkdtemp()) / 'x', 'visionr1 test'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'pyarrow', 'numpy', 'torch') "
            "or m.startswith('visionr1.data')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _calls(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Dotted names of the calls in ``tree`` (``os.replace``, ``tmp.rename``) with their lines."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts, f = [], node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name):
                parts.append(f.id)
            yield ".".join(reversed(parts)), node.lineno


HAND_RENAMES = ("os.replace", "os.rename", "shutil.move", "tempfile.mkstemp", "tempfile.mkdtemp",
                "tempfile.NamedTemporaryFile")


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_io_module_writes_a_file_beside_its_name_and_renames_it(path):
    """A temporary file renamed over the real one is how a crash never leaves half a file; it lives in
    visionr1.files (write_text/json/jsonl, replacing_file, replacing_dir), once, with its error handling."""
    if path == SRC / "files.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    by_hand = [f"{name} (line {line})" for name, line in _calls(tree)
               if name in HAND_RENAMES or name.endswith((".rename", ".replace_file")) and not name.startswith("str.")]
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    tmp_names = [f"{n.value!r} (line {n.lineno})" for n in ast.walk(tree)
                 if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
                 and n.value.rstrip("'\"").endswith((".tmp", ".partial"))]
    assert not by_hand + tmp_names, f"write through visionr1.files instead: {by_hand + tmp_names}"


def test_the_rename_check_sees_one_by_hand():
    tree = ast.parse("import os\ndef f(p):\n    tmp = p.with_suffix('.tmp')\n    os.replace(tmp, p)\n")
    assert ("os.replace", 4) in set(_calls(tree))


# ----------------------------------------------------------------------------- no work at import time


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_filters_warnings_when_imported(path):
    """A filter set at import time hides warnings for every program that imports us; filter where a warning is
    raised (``warnings.catch_warnings()`` around the call) or by its message and category, inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    found = [f"{name} (line {line})" for n in top_level for name, line in _calls(n)
             if name.split(".")[-1] in ("filterwarnings", "simplefilter")]
    assert not found, found


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_ignores_every_warning(path):
    """``filterwarnings("ignore")`` with no category or message silences the user's own warnings too."""
    calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr in ("filterwarnings", "simplefilter")]
    bare = [n.lineno for n in calls if n.args and getattr(n.args[0], "value", None) == "ignore"
            and len(n.args) == 1 and not n.keywords]
    assert not bare, f"{path.relative_to(SRC)}: a bare ignore-all filter at line(s) {bare}"


IMPORT_PROBE = r"""
import atexit, importlib, json, logging, os, signal, sys, threading, warnings
from pathlib import Path

SRC = sys.argv[1]
calls = []  # what a file of ours did while a module was imported


def ours(frame):  # the file of ours that made this call, else None (past os.environ's and MutableMapping's frames)
    while frame is not None and frame.f_globals.get("__name__") in ("os", "_collections_abc"):
        frame = frame.f_back
    name = frame.f_code.co_filename if frame is not None else ""
    return str(Path(name).relative_to(SRC)) if name.startswith(SRC) else None


def watched(owner, name, what):
    real = getattr(owner, name)

    def call(*args, **kwargs):
        where = ours(sys._getframe(1))
        if where:
            calls.append(f"{what(args)} from {where}")
        return real(*args, **kwargs)

    setattr(owner, name, call)


for owner, name in ((warnings, "filterwarnings"), (warnings, "simplefilter"), (atexit, "register"),
                    (signal, "signal"), (logging, "basicConfig"), (logging, "captureWarnings")):
    watched(owner, name, lambda args, what=f"{owner.__name__}.{name}": what)
for name, done in (("__setitem__", "set"), ("__delitem__", "removed")):
    watched(type(os.environ), name, lambda args, done=done: f"os.environ[{args[1]!r}] {done}")


def children():
    found = set()
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        try:
            found |= set((task / "children").read_text().split())
        except OSError:
            pass
    return found


def state():
    root = logging.getLogger()
    return {t.ident for t in threading.enumerate()}, children(), (list(root.handlers), root.level)


found = {}
for module in json.loads(sys.stdin.read()):
    threads, procs, root = state()
    del calls[:]
    try:
        importlib.import_module(module)
    except Exception as e:
        calls.append(f"import failed: {type(e).__name__}: {e}")
    threads2, procs2, root2 = state()
    found[module] = [*dict.fromkeys(calls), *(["started a thread"] if threads2 - threads else []),
                     *(["started a process"] if procs2 - procs else []),
                     *(["configured the root logger"] if root2 != root else [])]
supervisor = sys.modules.get("visionr1.grading.supervisor")
if supervisor is not None:
    found["(the grading worker's supervisor)"] = [] if supervisor._SUPERVISOR is None else ["made at import"]
print(json.dumps(found))
"""

IMPORTED = sorted(set(MODULES) - {"visionr1.__main__"})  # __main__ runs the CLI


@pytest.fixture(scope="module")
def import_work() -> dict[str, list[str]]:
    """Each visionr1 module imported in turn in one fresh interpreter, with what that import did: an environment
    variable, a warnings filter, an atexit hook, a signal handler or logging set up from a file of ours; a thread or a
    child process started; the root logger configured. Libraries imported on the way may set variables and filters
    of their own (trl sets VLLM_LOGGING_LEVEL, torch's inductor TORCHINDUCTOR_CACHE_DIR): theirs, not counted."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_")}  # so that a setdefault of ours writes
    done = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(SRC) + "/"], input=json.dumps(IMPORTED), env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("module", IMPORTED)
def test_importing_a_module_does_no_work(import_work, module):
    """Importing any of our modules leaves the process as it was: no environment variable, warnings filter, signal
    handler, exit hook, logging set-up, thread or process. That work belongs in the command that needs it."""
    assert import_work[module] == [], f"importing {module}: {import_work[module]}"


def test_the_grading_worker_starts_on_first_use_not_on_import(import_work):
    assert import_work["(the grading worker's supervisor)"] == []


def test_the_import_probe_sees_work_done_at_import(tmp_path):
    import json
    import subprocess
    import sys

    (tmp_path / "busy.py").write_text("import os, threading, warnings\nos.environ['BUSY'] = '1'\n"
                                      "warnings.filterwarnings('ignore', category=FutureWarning)\n"
                                      "threading.Thread(target=threading.Event().wait, daemon=True).start()\n")
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n" + IMPORT_PROBE,
                           str(tmp_path) + "/"], input=json.dumps(["busy"]), capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["busy"] == ["os.environ['BUSY'] set from busy.py",
                                               "warnings.filterwarnings from busy.py", "started a thread"]


# ----------------------------------------------------------------------------- no long functions

LONGEST = 80
"""Lines a function of src/ may take, its docstring and nested functions included."""


def _long_functions() -> dict[tuple[str, str], int]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST:
                    found[(_rel(path), node.name)] = lines
    return found


def test_no_function_is_longer_than_80_lines():
    """A function that does not fit on a screen hides its steps; name them as functions of their own."""
    long = _long_functions()
    assert not long, f"longer than {LONGEST} lines: {sorted(f'{p}:{name} ({n} lines)' for (p, name), n in long.items())}"


# ----------------------------------------------------------------------------- one concept, one home


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC))


RELEASED_SCORERS = {"grading/mathvision.py", "grading/mmmath.py"}
"""Ports of a benchmark's released scorer, kept rule for rule (they read replies and letters as the release does;
grading/mathvision.py is loaded by file in the grading worker and imports nothing from visionr1)."""


def test_one_config_engine_reads_every_yaml_file():
    """Recipes, run folders' config.yaml and overrides are parsed by visionr1.config alone (load_yaml and the
    override parser), so every stage and the demo get the same errors and the same typing; writing YAML is free."""
    readers = {_rel(p) for p in SRC.rglob("*.py") if {name for name, _ in _calls(_tree(p))} & {"yaml.safe_load", "yaml.load", "yaml.full_load"}}
    assert readers == {"config.py"}, readers


def test_ptsts_stage_arithmetic_lives_in_one_module():
    """Step ranges, the stage of a step and matched compute: computed by train/ptst_plan.py, once, when a GRPO
    config is loaded (cfg.plan); everything else reads the plan."""
    defining = {_rel(p) for p in SRC.rglob("*.py") for n in ast.walk(_tree(p))
                if isinstance(n, ast.FunctionDef) and n.name in {"stage_at", "total_steps", "plan_ptst", "boundaries"}}
    assert defining == {"train/ptst_plan.py"}, defining
    planning = {_rel(p) for p in SRC.rglob("*.py") if "plan_ptst" in {name for name, _ in _calls(_tree(p))}}
    assert planning == {"train/config.py"}, planning


def test_one_scoring_loop_every_benchmark_plugs_into():
    """Each benchmark gives its reading, its result row and its metrics; the loop over items, both protocols, the
    judge's two passes and the scored-item bookkeeping live in eval/benchmarks/scoring.py alone."""
    from visionr1.eval.benchmarks import BENCHMARKS, OWN, get_benchmark
    from visionr1.eval.benchmarks import scoring

    for path in (SRC / "eval" / "benchmarks").glob("*.py"):
        if path.name == "scoring.py":
            continue
        defined = {n.name for n in ast.walk(_tree(path)) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & {"score", "score_protocols", "item_result", "Scored", "merge_protocols"}, path.name
    for name in {**BENCHMARKS, **OWN}:
        bench = get_benchmark(name)
        for piece in ("read", "result_row", "metrics", "PROTOCOLS"):
            assert hasattr(bench, piece), (name, piece)
        assert set(getattr(bench, "JUDGED", ())) <= set(bench.PROTOCOLS), name
    assert scoring.score_protocols and scoring.item_result


def test_the_judge_is_a_typed_object_not_a_dict():
    """The judge reaches the scorers as a JudgeSpec and an ItemJudge, never as a dict ``{"config", "store",
    "undecided_only", "client"}`` that a scorer fills in (its ``client``) as it goes."""
    keys = {"config", "undecided_only", "client"}
    for path in (SRC / "eval").rglob("*.py"):
        for node in ast.walk(_tree(path)):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                key = node.slice.value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                key = node.args[0].value
            assert key not in keys, f"{_rel(path)}:{node.lineno}: a judge dict's {key!r}"
    from visionr1.eval.judge import JudgeSpec

    assert [f for f in JudgeSpec.__dataclass_fields__] == ["config", "store", "undecided_only"]


TAG_NAMES = {"THINK_OPEN", "THINK_CLOSE", "ANSWER_OPEN", "ANSWER_CLOSE", "answer_tags", "FINAL_ANSWER_LABEL_RE"}
TAGS = {"<think>", "</think>", "<answer>", "</answer>"}


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_think_and_answer_tags_are_read_only_in_r1(path):
    """``<think>``/``<answer>`` are split and read in r1.py alone (split_reasoning, tagged_answer, …): no other module
    imports the tag constants or holds a tag as a string to look for (the released MM-Math scorer reads its pattern)."""
    if _rel(path) in {"r1.py"} | RELEASED_SCORERS:
        return
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module == "visionr1.r1":
            assert not {a.name for a in node.names} & TAG_NAMES, f"{_rel(path)}:{node.lineno} reads the R1 tags itself"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value.strip() not in TAGS, f"{_rel(path)}:{node.lineno} holds the tag {node.value!r}"


def _letter_arithmetic(node: ast.AST) -> bool:
    """``ord("A")``, ``chr(65 + i)``, ``chr(ord(...) + i)``, or a run of option letters written out (``"ABCDE"``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("ord", "chr") and node.args:
        arg = node.args[0]
        if node.func.id == "ord":
            return isinstance(arg, ast.Constant) and arg.value in ("A", "a")
        return any(isinstance(n, ast.Constant) and n.value in (65, 97) or isinstance(n, ast.Name) and n.id == "ord"
                   for n in ast.walk(arg))
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("ABC")


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_choice_letters_come_from_r1(path):
    """Option letters are r1's (LETTERS, choice_letter, letter_index): no module counts from ``A`` on its own (the
    released MATH-V scorer keeps the release's ``ord(answer) - ord("A")``)."""
    if _rel(path) in {"r1.py"} | RELEASED_SCORERS:
        return
    found = [n.lineno for n in ast.walk(_tree(path)) if _letter_arithmetic(n)]
    assert not found, f"{_rel(path)}: letter arithmetic on line(s) {found}; use visionr1.r1's letters"


def test_the_letter_check_finds_letter_arithmetic():
    assert all(_letter_arithmetic(ast.parse(src).body[0].value)
               for src in ('ord("A")', "chr(65 + i)", 'chr(ord("a") + 1)', '"ABCDE"'))
    assert not any(_letter_arithmetic(ast.parse(src).body[0].value) for src in ("ord(ch)", '"AB"', "chr(0x250)"))


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_one_sharegpt_reader(path):
    """ShareGPT's spelling (a turn's ``from`` speaker, ``human``/``gpt``) is read by data/io.py alone
    (read_sharegpt); every other module reads chat files through it."""
    if _rel(path) == "data/io.py":
        return
    spelled = [n.lineno for n in ast.walk(_tree(path))
               if isinstance(n, ast.Constant) and n.value in ("human", "gpt", "from")]
    assert not spelled, f"{_rel(path)} reads ShareGPT turns itself (line(s) {spelled}); use visionr1.data.read_sharegpt"
