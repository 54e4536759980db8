"""The user prompt's named forms (r1, raw), and reading a user turn back into its form."""

from __future__ import annotations

import pytest

from visionr1.errors import ConfigError
from visionr1.r1 import (
    USER_TEMPLATES,
    count_prompt_forms,
    detect_prompt_form,
    r1_instruction,
    read_user_prompt,
    render_user_prompt,
    template_form,
)


def test_raw_is_the_question_and_choices_only():
    assert render_user_prompt("How many circles?", None, "raw") == "How many circles?"
    mc = render_user_prompt(" Which is larger? ", ["3/11", "8/11"], "raw")
    assert mc == "Which is larger?\nChoices:\n(A) 3/11\n(B) 8/11"
    # r1 is the same question and choices plus the instruction
    assert render_user_prompt("Which is larger?", ["3/11", "8/11"]).startswith(mc + "\nThink step by step")
    assert render_user_prompt("q", None, "r1") == render_user_prompt("q") == render_user_prompt("q", None, None)


def test_a_template_file_still_works_and_a_bad_name_is_named(tmp_path):
    (tmp_path / "t.txt").write_text("Q: {question}\n{choices}Answer in <answer></answer>.\n")
    assert render_user_prompt("2+2?", None, tmp_path / "t.txt") == "Q: 2+2?\nAnswer in <answer></answer>."
    assert template_form(tmp_path / "t.txt") == "other"
    with pytest.raises(ConfigError, match=r"user template rw is neither a file nor one of the named forms \(r1, raw\)"):
        render_user_prompt("q", None, "rw")
    assert set(USER_TEMPLATES) == {"r1", "raw"} and all(p.is_file() for p in USER_TEMPLATES.values())


@pytest.mark.parametrize("text,form", [
    ("What is the area of the triangle?", "raw"),
    ("<image>Find x.\nChoices:\nA: 2\nB: 3", "raw"),  # Vision-R1-cold / geometry3k style
    ("Answer with one word.", "raw"),  # a dataset's own answer instruction is not a think/answer format
    (render_user_prompt("Find x.", ["2", "3"]), "r1"),
    (render_user_prompt("Find x."), "r1"),
    ("Find x. Think first inside <think> </think>, answer in <answer> </answer>.", "other"),
])
def test_detect_prompt_form(text, form):
    assert detect_prompt_form(text) == form


def test_count_forms_most_frequent_first():
    texts = ["a?", render_user_prompt("b?"), "c?", render_user_prompt("d?", ["x", "y"]), render_user_prompt("e?")]
    assert count_prompt_forms(texts) == {"r1": 3, "raw": 2}
    assert list(count_prompt_forms(texts)) == ["r1", "raw"]
    assert count_prompt_forms([]) == {}


def test_the_bridge_exports_in_a_named_form(tmp_path):
    """``prompts.user: raw`` (a Path after config parsing) names the raw form, unless a file of that name exists."""
    from pathlib import Path

    from visionr1.bridge.config import BridgeConfig
    from visionr1.config import from_dict

    cfg = from_dict(BridgeConfig, {"prompts": {"user": "raw"}})
    assert isinstance(cfg.prompts.user, Path)
    assert render_user_prompt("Find x.", ["1", "2"], cfg.prompts.user) == "Find x.\nChoices:\n(A) 1\n(B) 2"


@pytest.mark.parametrize("question", [
    render_user_prompt("Find x."),  # a question read from data we exported, instruction and all
    "Find x.\n" + r1_instruction(True),  # the multiple-choice wording
    "Find x. Think first inside <think> </think>, answer in <answer> </answer>.",  # its own wording
])
def test_a_question_that_carries_an_instruction_does_not_get_a_second(question):
    """Issue 33 item 1: GRPO rendered the bridge's user turn again and asked for the tags twice."""
    text = render_user_prompt(question)
    assert text.count("<think>") == 1 and text.count("<answer>") == 1
    assert detect_prompt_form(text) == detect_prompt_form(question)


@pytest.mark.parametrize("question,choices,template", [
    ("Which is larger?", ["3/11", "8/11"], "r1"), ("Which is larger?", ["3/11", "8/11"], "raw"),
    ("How many?", None, "r1"), ("How many?", None, "raw"),
    ("Line one.\nChoices: none of these\nLine three?", ["a", "b", "c"], "r1"),
])
def test_read_user_prompt_inverts_render(question, choices, template):
    back = read_user_prompt(render_user_prompt(question, choices, template))
    assert (back.question, back.choices, back.form) == (question, choices, template)


@pytest.mark.parametrize("text", ["Choices:\n(A) 1\n(B) 2", "Q?\nChoices:\n(A) 1", "Q?\nChoices:\n(A) 1\n(C) 2",
                                  "Q?\nChoices:\nA: 1\nB: 2"])
def test_read_user_prompt_leaves_other_choice_text_in_the_question(text):
    back = read_user_prompt(text)
    assert (back.question, back.choices) == (text, None)
