"""The easy demo families (shape_colour, shape_count, bigger_side): valid records, answers from facts, disjoint splits."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from PIL import Image

from visionr1.data.io import read_jsonl
from visionr1.data.synth import TASKS, generate, synthesize
from visionr1.data.synth.generator import EASY_TASKS

RECOMPUTE = {
    "shape_colour": lambda f: f["colour"],
    "shape_count": lambda f: str(len(f["layout"])),
    "bigger_side": lambda f: "left" if f["layout"][1] > f["layout"][3] else "right",
}


def test_easy_families_are_asked_for_by_name_only():
    assert set(EASY_TASKS) == set(RECOMPUTE)
    assert not set(EASY_TASKS) & set(TASKS)  # the default mix (all of TASKS) is unchanged


@pytest.mark.parametrize("task", sorted(RECOMPUTE))
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_items_are_valid_and_answers_follow_from_facts(tmp_path, task, difficulty):
    for k in range(12):
        rec = generate(task, random.Random(f"{task}/{difficulty}/{k}"), k, tmp_path / "images", tmp_path,
                       difficulty=difficulty, image_size=112)
        assert rec.source == f"synth/{task}" and rec.metadata["difficulty"] == difficulty
        with Image.open(tmp_path / rec.images[0]) as im:
            assert im.size == (112, 112)
        assert RECOMPUTE[task](rec.metadata["facts"]) == rec.answer
        assert rec.answer in rec.metadata["solution"][-1]
        if task != "bigger_side":  # its question names both options
            assert rec.answer not in rec.question.split()
        assert rec.choices is None and rec.answer_type in ("text", "integer")


@pytest.mark.parametrize("task", sorted(RECOMPUTE))
def test_questions_need_the_image(tmp_path, task):
    answers = defaultdict(set)
    for k in range(30):
        rec = generate(task, random.Random(k), k, tmp_path, tmp_path, difficulty=1)
        answers[rec.question].add(rec.answer)
    assert max(len(a) for a in answers.values()) >= 2


def test_split_is_disjoint_and_deterministic(tmp_path):
    args = dict(n=60, seed=4, tasks=sorted(RECOMPUTE), split_test=30, image_size=112, difficulty=1)
    synthesize(tmp_path / "a", **args)
    synthesize(tmp_path / "b", **args)
    a_train = read_jsonl(tmp_path / "a" / "train.jsonl").records
    a_test = read_jsonl(tmp_path / "a" / "test.jsonl").records
    assert (tmp_path / "a" / "train.jsonl").read_bytes() == (tmp_path / "b" / "train.jsonl").read_bytes()
    key = lambda r: (r.metadata["task"], repr(r.metadata["facts"]))  # noqa: E731
    assert not {key(r) for r in a_train} & {key(r) for r in a_test}
    assert {r.metadata["task"] for r in a_test} == set(RECOMPUTE)
