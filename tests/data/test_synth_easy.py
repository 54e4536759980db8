"""The easy demo families (shape_colour, colour_value, colour_count, shape_count, bigger_side): valid records, answers from
facts, disjoint splits."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from PIL import Image

from visionr1.data.io import read_jsonl
from visionr1.data.synth import TASKS, generate, synthesize
from visionr1.data.synth.colour_value import VALUE, held_out
from visionr1.data.synth.generator import EASY_TASKS

RECOMPUTE = {
    "shape_colour": lambda f: f["colour"],
    "colour_value": lambda f: str(VALUE[f["colour"]] + f["offset"]),
    "colour_count": lambda f: str(VALUE[f["colour"]] + f["offset"]),
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


@pytest.mark.parametrize("task", sorted(set(RECOMPUTE) - {"colour_value", "colour_count"}))
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


def test_colour_value_needs_the_image_and_every_step(tmp_path):
    """The question alone does not fix the answer (the colour is only in the picture), and the solution is the
    four steps: read the number, perceive the colour, recall its value, add."""
    for k in range(40):
        rec = generate("colour_value", random.Random(k), k, tmp_path, tmp_path, difficulty=1, image_size=112)
        f = rec.metadata["facts"]
        assert not any(c in rec.question for c in VALUE) and str(f["offset"]) in rec.question
        value = VALUE[f["colour"]]
        assert rec.metadata["solution"] == [f"The question adds {f['offset']}.", f"The shape is {f['colour']}.",
                                            f"{f['colour']}={value}.", f"{value}+{f['offset']}={rec.answer}."]
        skills = {s["skill"]: s for s in rec.metadata["subskills"]}
        assert skills["read"]["answer"] == rec.metadata["solution"][0] and rec.question in skills["read"]["question"]
        assert skills["perception"]["answer"] == rec.metadata["solution"][1]
        colour = skills["fact"]["question"].removeprefix("What is the value of ").rstrip("?")
        assert skills["fact"]["answer"] == f"{colour}={VALUE[colour]}."
    assert len(set(VALUE.values())) == len(VALUE)  # no two colours share a value: the colour decides the answer


def test_colour_value_asks_held_out_pairs_only_in_test_and_validation(tmp_path):
    """A third of the (colour, offset) pairs; every colour and every offset is still asked in training."""
    pairs = [(c, a) for c in VALUE for a in range(1, 10)]
    out = [p for p in pairs if held_out({"colour": p[0], "offset": p[1]})]
    assert len(out) == len(pairs) // 3
    assert {c for c, _ in pairs if (c, _) not in out} == set(VALUE) and len({a for c, a in pairs if (c, a) not in out}) == 9
    synthesize(tmp_path, n=120, seed=0, tasks=["colour_value"], split_test=30, split_val=30, image_size=56)
    split = {name: read_jsonl(tmp_path / f"{name}.jsonl").records for name in ("train", "test", "val")}
    assert not any(held_out(r.metadata["facts"]) for r in split["train"])
    assert all(held_out(r.metadata["facts"]) for r in [*split["test"], *split["val"]])


def test_colour_count_is_colour_value_solved_by_counting_up(tmp_path):
    """The same questions, answers, images and held-out pairs as colour_value; the sum is written as a count whose
    every number follows from the two before it, ending on the number the question adds."""
    from visionr1.data.synth.colour_count import count_up

    assert count_up(7, 3) == "Counting up 3 from 7: 8 (2 left), 9 (1 left), 10 (0 left)."
    assert count_up(9, 1) == "Counting up 1 from 9: 10 (0 left)."
    for k in range(40):
        a = generate("colour_value", random.Random(k), k, tmp_path / "a", tmp_path / "a", difficulty=1, image_size=56)
        b = generate("colour_count", random.Random(k), k, tmp_path / "b", tmp_path / "b", difficulty=1, image_size=56)
        assert (a.question, a.answer, a.metadata["facts"]) == (b.question, b.answer, b.metadata["facts"])
        assert (tmp_path / "a" / a.images[0]).read_bytes() == (tmp_path / "b" / b.images[0]).read_bytes()
        f = b.metadata["facts"]
        value = VALUE[f["colour"]]
        # the number added is read right before the count that uses it
        read, shape, fact, total = a.metadata["solution"]
        assert b.metadata["solution"] == [shape, fact, read, count_up(value, f["offset"]), total]
        add = {s["skill"]: s for s in b.metadata["subskills"]}["add"]
        x, y = (int(t) for t in add["question"].removeprefix("What is ").rstrip("?").split(" plus "))
        assert add["answer"] == f"{count_up(x, y)} {x}+{y}={x + y}. So the final answer is {x + y}."
    synthesize(tmp_path / "s", n=60, seed=0, tasks=["colour_count"], split_test=20, split_val=20, image_size=56)
    split = {name: read_jsonl(tmp_path / "s" / f"{name}.jsonl").records for name in ("train", "test", "val")}
    assert not any(held_out(r.metadata["facts"]) for r in split["train"])
    assert all(held_out(r.metadata["facts"]) for r in [*split["test"], *split["val"]])


def test_validation_split_is_disjoint_from_train_and_test(tmp_path):
    s = synthesize(tmp_path, n=40, seed=2, tasks=["shape_colour"], split_test=20, split_val=20, image_size=112,
                   difficulty=1)
    assert s["files"] == ["train.jsonl", "test.jsonl", "val.jsonl"] and s["splits"]["val"]["n"] == 20
    key = lambda r: repr(r.metadata["facts"])  # noqa: E731
    split = {name: read_jsonl(tmp_path / f"{name}.jsonl").records for name in ("train", "test", "val")}
    assert not {key(r) for r in split["val"]} & ({key(r) for r in split["train"]} | {key(r) for r in split["test"]})
    assert len({key(r) for r in split["val"]}) == 20 and split["val"][0].id == "shape_colour-val-00000"
    synthesize(tmp_path, n=4, seed=2, tasks=["shape_colour"], image_size=112)  # no validation split: no stale file
    assert not (tmp_path / "val.jsonl").exists()
