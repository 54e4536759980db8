"""The synthetic task generators: valid records, answers that follow from the facts, determinism, disjoint splits."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image

from visionr1.data.io import read_jsonl
from visionr1.data.synth import TASKS, generate, synthesize
from visionr1.errors import ConfigError

EXPECTED_TASKS = {"count", "bar_read", "digit_sum", "triangle_angle", "compare_length", "majority_colour"}


# ----------------------------------------------------------------------------- answers recomputed from facts
# Written independently of the generators: each reads only metadata["facts"] (and the question's own words).


def _count(facts: dict, rec) -> str:
    target = facts["target"]
    per_kind = facts["counts"][target["colour"]]
    return str(sum(per_kind.values()) if target["shape"] is None else per_kind[target["shape"]])


def _majority(facts: dict, rec) -> str:
    counts = facts["counts"]
    top = max(counts.values())
    winners = [c for c, v in counts.items() if v == top]
    assert len(winners) == 1, f"tie in {counts}"
    return winners[0]


def _bar(facts: dict, rec) -> str:
    value = facts["values"][facts["asked"]]
    return f"{value:.{rec.metadata['precision']}f}" if rec.answer_type == "float" else str(int(value))


def _digits(facts: dict, rec) -> str:
    target = facts["target_colour"]
    return str(sum(d for colour, ds in facts["digits"].items() if target in (None, colour) for d in ds))


def _triangle(facts: dict, rec) -> str:
    return str(180 - sum(facts["labelled"]))


def _lengths(facts: dict, rec) -> str:
    lengths = facts["lengths"]
    pick = max if facts["ask"] == "longest" else min
    best = pick(lengths.values())
    assert sum(v == best for v in lengths.values()) == 1
    return next(k for k, v in lengths.items() if v == best)


RECOMPUTE = {
    "count": _count,
    "majority_colour": _majority,
    "bar_read": _bar,
    "digit_sum": _digits,
    "triangle_angle": _triangle,
    "compare_length": _lengths,
}


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _content(rec) -> str:
    return json.dumps([rec.question, rec.answer, rec.choices, rec.metadata["facts"]], sort_keys=True)


# ----------------------------------------------------------------------------- one item


def test_registry_has_the_families():
    assert EXPECTED_TASKS <= set(TASKS)
    assert {s.multiple_choice for s in TASKS.values()} == {True, False}


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_items_are_valid_and_answers_follow_from_facts(tmp_path, task, difficulty):
    for k in range(12):
        rec = generate(task, random.Random(f"{task}/{difficulty}/{k}"), k, tmp_path / "images", tmp_path,
                       difficulty=difficulty)
        md = rec.metadata
        assert rec.id == f"{task}-train-{k:05d}" and rec.source == f"synth/{task}"
        assert md["task"] == task and md["difficulty"] == difficulty
        assert rec.images == [f"images/{rec.id}.png"]
        with Image.open(tmp_path / rec.images[0]) as im:
            assert im.size == (224, 224) and im.format == "PNG"
        assert RECOMPUTE[task](md["facts"], rec) == rec.answer
        assert isinstance(md["description"], str) and len(md["description"]) > 20
        assert md["solution"] and all(isinstance(s, str) and s for s in md["solution"])
        assert rec.answer in md["solution"][-1]
        if rec.choices is not None:
            assert len(rec.choices) == 4 and len(set(rec.choices)) == 4 and rec.answer in rec.choices
            assert rec.answer_type == "text"
        else:
            assert rec.answer_type in ("integer", "float")
            if rec.answer_type == "float":
                places = md["precision"]
                assert isinstance(places, int) and float(rec.answer) == round(float(rec.answer), places)
            else:
                assert re.fullmatch(r"-?\d+", rec.answer)
        # the text alone does not give the answer away
        assert not re.search(rf"(?<![\w.]){re.escape(rec.answer)}(?![\w.])", rec.question)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_questions_need_the_image(tmp_path, task):
    """The same question text comes with different answers: only the image tells them apart."""
    answers = defaultdict(set)
    for k in range(40):
        rec = generate(task, random.Random(k), k, tmp_path, tmp_path)
        answers[rec.question].add(rec.answer)
    assert max(len(a) for a in answers.values()) >= 2


def test_image_size_is_configurable(tmp_path):
    for k, task in enumerate(TASKS):
        rec = generate(task, random.Random(k), k, tmp_path / "images", tmp_path, image_size=112)
        with Image.open(tmp_path / rec.images[0]) as im:
            assert im.size == (112, 112)


def test_mixes_answer_types_across_families(tmp_path):
    types = {generate(t, random.Random(k), k, tmp_path, tmp_path, difficulty=d).answer_type
             for t in TASKS for d in (1, 3) for k in range(3)}
    assert {"integer", "float", "text"} <= types


def test_unknown_task_lists_valid_names(tmp_path):
    with pytest.raises(ConfigError) as e:
        generate("nope", random.Random(0), 0, tmp_path, tmp_path)
    assert all(name in str(e.value) for name in TASKS)
    with pytest.raises(ConfigError, match="count"):
        synthesize(tmp_path, n=2, seed=0, tasks=["count", "nope"])


@pytest.mark.parametrize("bad", [0, 4, "hardest"])
def test_bad_difficulty_is_a_config_error(tmp_path, bad):
    with pytest.raises(ConfigError, match="difficulty"):
        synthesize(tmp_path, n=2, seed=0, difficulty=bad)


def test_named_difficulty(tmp_path):
    s = synthesize(tmp_path, n=6, seed=0, difficulty="hard")
    assert s["splits"]["train"]["difficulty"] == {3: 6}


# ----------------------------------------------------------------------------- data sets


def test_synthesize_layout_and_counts(tmp_path):
    s = synthesize(tmp_path, n=13, seed=3, split_test=7)
    assert s["files"] == ["train.jsonl", "test.jsonl"]
    train = read_jsonl(tmp_path / "train.jsonl").raise_if_errors().records  # also checks the images exist
    test = read_jsonl(tmp_path / "test.jsonl").raise_if_errors().records
    assert len(train) == 13 and len(test) == 7
    assert [r.id for r in train[:3]] == ["count-train-00000", "majority_colour-train-00001", "bar_read-train-00002"]
    assert s["splits"]["train"]["tasks"] == {t: sum(r.metadata["task"] == t for r in train) for t in TASKS}
    assert sum(s["splits"]["test"]["tasks"].values()) == 7
    assert len(list((tmp_path / "images").glob("*.png"))) == 20


def test_no_test_file_without_a_test_split(tmp_path):
    synthesize(tmp_path, n=4, seed=0, tasks=["digit_sum"], split_test=2)  # a set with a test split, rebuilt without
    s = synthesize(tmp_path, n=4, seed=0, tasks=["digit_sum"])
    assert s["files"] == ["train.jsonl"] and "test" not in s["splits"]
    assert not (tmp_path / "test.jsonl").exists()
    assert {r.metadata["task"] for r in read_jsonl(tmp_path / "train.jsonl").records} == {"digit_sum"}


def test_byte_identical_for_a_seed(tmp_path):
    args = dict(n=18, seed=7, split_test=6)
    synthesize(tmp_path / "a", **args)
    synthesize(tmp_path / "b", **args)
    synthesize(tmp_path / "c", **{**args, "seed": 8})
    a, b, c = (_file_hashes(tmp_path / d) for d in "abc")
    assert len(a) == 2 + 24 + 1 and a == b  # the JSONL files, the images, the output-folder marker
    assert a["train.jsonl"] != c["train.jsonl"]


def test_items_do_not_depend_on_how_many_are_made(tmp_path):
    synthesize(tmp_path / "small", n=6, seed=1)
    synthesize(tmp_path / "big", n=12, seed=1)
    small = (tmp_path / "small" / "train.jsonl").read_text().splitlines()
    big = (tmp_path / "big" / "train.jsonl").read_text().splitlines()
    assert big[:6] == small
    a, b = _file_hashes(tmp_path / "small" / "images"), _file_hashes(tmp_path / "big" / "images")
    assert all(b[k] == v for k, v in a.items())


def test_train_and_test_are_disjoint_in_content(tmp_path):
    # a small problem space (easy triangles: about 30 distinct problems) forces collisions and redraws
    s = synthesize(tmp_path, n=60, seed=0, tasks=["triangle_angle", "digit_sum"], split_test=16, difficulty=1)
    train = read_jsonl(tmp_path / "train.jsonl").records
    test = read_jsonl(tmp_path / "test.jsonl").records
    assert s["splits"]["train"]["redraws"] > 0
    assert not {r.id for r in train} & {r.id for r in test}
    assert not {_content(r) for r in train} & {_content(r) for r in test}
    assert len({_content(r) for r in test}) == len(test)
    png = _file_hashes(tmp_path)
    assert not {png[r.images[0]] for r in train} & {png[r.images[0]] for r in test}


def test_too_small_a_space_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="split-test"):
        synthesize(tmp_path, n=1, seed=0, tasks=["triangle_angle"], split_test=80, difficulty=1)
