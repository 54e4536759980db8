from __future__ import annotations

import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from visionr1.data import Record, read_jsonl, read_parquet, read_records, read_sharegpt, write_jsonl, write_parquet, write_sharegpt
from visionr1.data.images import open_image, resolve_image_path
from visionr1.data.io import Conversation, infer_answer_type
from visionr1.errors import DataError, ImageError
from visionr1.r1 import format_r1


def _png(color="red", size=(32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def data_dir(tmp_path):
    (tmp_path / "images").mkdir()
    for c in ("red", "blue", "green"):
        (tmp_path / "images" / f"{c}.png").write_bytes(_png(c))
    records = [
        Record(id="count-1", images=["images/red.png"], question="How many red squares?", answer="3",
               answer_type="integer", source="synth/count", metadata={"difficulty": 1}),
        Record(id="mc-1", images=["images/blue.png", "images/green.png"], question="Which is longer?",
               answer="the left one", choices=["the left one", "the right one"], source="synth/compare"),
        Record(id="bar-1", images=["images/green.png"], question="Value of bar B?", answer="2.5",
               answer_type="float", metadata={"precision": 1}),
    ]
    write_jsonl(tmp_path / "train.jsonl", records)
    return tmp_path, records


def _pixels(path):
    return Image.open(path).convert("RGB").tobytes()


def test_jsonl_round_trip(data_dir):
    root, records = data_dir
    res = read_jsonl(root / "train.jsonl")
    assert res.errors == [] and res.records == records
    assert res.records[1].answer_letter == "A" and res.records[2].precision == 1
    assert read_records(root).records == records  # a folder with train.jsonl


def test_parquet_round_trip_embeds_images(data_dir, tmp_path_factory):
    root, records = data_dir
    elsewhere = tmp_path_factory.mktemp("moved")
    write_parquet(elsewhere / "set.parquet", read_jsonl(root / "train.jsonl"))
    res = read_parquet(elsewhere / "set.parquet")
    assert res.errors == []
    assert [r.id for r in res.records] == [r.id for r in records]
    assert [r.metadata for r in res.records] == [r.metadata for r in records]
    for old, new in zip(records, res.records):
        assert [_pixels(root / p) for p in old.images] == [_pixels(p) for p in res.image_paths(new)]


def test_a_saved_hf_dataset_is_read(data_dir, tmp_path_factory, save_hf_dataset):
    root, records = data_dir
    saved = save_hf_dataset(read_jsonl(root / "train.jsonl"), tmp_path_factory.mktemp("hf") / "ds")
    res = read_records(saved)
    assert res.errors == [] and [r.question for r in res.records] == [r.question for r in records]
    assert [r.choices for r in res.records] == [r.choices for r in records]
    assert _pixels(res.image_paths(res.records[1])[1]) == _pixels(root / "images/green.png")


def test_sharegpt_both_spellings_and_round_trip(data_dir):
    root, _ = data_dir
    from_value = [{"conversations": [{"from": "human", "value": "<image>How many?"},
                                     {"from": "gpt", "value": "<think>count</think><answer>3</answer>"}],
                   "image": "images/red.png"}]
    role_content = [{"conversations": [{"role": "user", "content": "<image>Which colour?"},
                                       {"role": "assistant", "content": "<think>look</think><answer>blue</answer>"}],
                     "images": ["images/blue.png"]}]
    (root / "a.json").write_text(json.dumps(from_value))
    (root / "b.json").write_text(json.dumps(role_content))
    (a,), errs_a = read_sharegpt(root / "a.json")
    (b,), errs_b = read_sharegpt(root / "b.json")
    assert errs_a == errs_b == []
    assert a.messages[0] == {"role": "user", "content": "<image>How many?"} and a.images == ["images/red.png"]
    assert b.messages[1]["role"] == "assistant" and b.images == ["images/blue.png"]
    rec = read_records(root / "a.json").records[0]
    assert (rec.question, rec.answer, rec.answer_type) == ("How many?", "3", "integer")
    write_sharegpt(root / "c.json", [a, b])
    again, errs = read_sharegpt(root / "c.json")
    assert errs == [] and [c.messages for c in again] == [a.messages, b.messages]
    assert json.loads((root / "c.json").read_text())[0].keys() >= {"conversations", "images"}


@pytest.mark.parametrize("reply,gold", [
    ("<think>9 + 20</think><answer> Final Answer:29 </answer>", "29"),  # the paper's form (Vision-R1-cold, our bridge)
    ("<think>9 + 20</think><answer> final answer: 29 </answer>", "29"),
    ("<think>9 + 20</think><answer>29</answer>", "29"),
    ("29", "29"),  # no tag: the reply is the answer
    # the last closed tag, as the grader reads a reply (visionr1.r1.tagged_answer); one never closed is no answer tag
    ("<think>9 + 20 is not</think><answer>28</answer> wait <answer> Final Answer:29 </answer>", "29"),
])
def test_sharegpt_answers_in_r1_form_are_the_bare_answer(data_dir, reply, gold):
    """Issue 33 item 1: ``Final Answer:29`` is the paper's form, not the answer; the reward of a correct completion
    against the gold read back is 1.0 (it was 0.0, so GRPO on the bridge's own export trained on zero reward)."""
    from visionr1.grading.rewards import hard_format_result_reward

    root, _ = data_dir
    ex = {"id": "q", "conversations": [{"role": "user", "content": "<image>What is 9 + 20?"},
                                       {"role": "assistant", "content": reply}], "images": ["images/red.png"]}
    (root / "cold.sharegpt.json").write_text(json.dumps([ex]))
    (rec,) = read_records(root / "cold.sharegpt.json").records
    assert (rec.answer, rec.answer_type) == (gold, "integer")
    assert hard_format_result_reward("<think>9 + 20</think><answer> Final Answer:29 </answer>", rec.answer) == 1.0


def test_sharegpt_we_wrote_reads_back_to_its_record_and_gets_the_instruction_once(data_dir):
    """The bridge's export renders the r1 prompt (question, choices, instruction) and answers a choice letter:
    read back, it is the record again (question, choices, the choice's text), and GRPO's prompt from it holds the
    instruction once."""
    from visionr1.r1 import r1_instruction, render_user_prompt
    from visionr1.train.config import GRPODataSettings
    from visionr1.train.data import grpo_prompt

    root, records = data_dir
    convs = [Conversation(id=r.id, images=r.images, messages=[
        {"role": "user", "content": render_user_prompt(r.question, r.choices)},
        {"role": "assistant", "content": format_r1("thought", r.answer_letter or r.answer)}]) for r in records]
    write_sharegpt(root / "cold.sharegpt.json", convs)
    back = read_records(root / "cold.sharegpt.json")
    assert back.errors == []
    assert [(r.question, r.choices, r.answer) for r in back.records] == [(r.question, r.choices, r.answer) for r in records]
    for r in back.records:
        (user,) = grpo_prompt(r.question, r.choices, GRPODataSettings(path="x"))
        assert user["content"] == render_user_prompt(r.question, r.choices)
        assert user["content"].count(r1_instruction(bool(r.choices))) == 1
    # a turn that lists choices its answer is not among keeps its text whole (not a question we rendered)
    odd = Conversation(id="odd", images=[], messages=[
        {"role": "user", "content": "Pick one.\nChoices:\n(A) x\n(B) y"}, {"role": "assistant", "content": "<answer>z</answer>"}])
    rec = odd.to_record()
    assert (rec.question, rec.choices, rec.answer) == ("Pick one.\nChoices:\n(A) x\n(B) y", None, "z")


def test_one_parser_reads_every_chat_spelling_the_same_way_for_records_and_sft(data_dir):
    """ShareGPT from/value with a placeholder, role/content with none (images go first), and TRL messages with
    content blocks (the bridge's cold.jsonl) are one example; the SFT reader gets the same rows from each."""
    from visionr1.train.data import _sft_examples

    root, _ = data_dir
    reply = "<think>look</think><answer>blue</answer>"
    spellings = {
        "from_value": {"id": "x", "conversations": [{"from": "human", "value": "<image>Which colour?"},
                                                    {"from": "gpt", "value": reply}], "image": "images/blue.png"},
        "no_placeholder": {"id": "x", "conversations": [{"role": "user", "content": "Which colour?"},
                                                        {"role": "assistant", "content": reply}], "images": ["images/blue.png"]},
        "blocks": {"id": "x", "messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Which colour?"}]},
                                           {"role": "assistant", "content": [{"type": "text", "text": reply}]}],
                   "images": ["images/blue.png"]},
    }
    convs, rows = {}, {}
    for name, ex in spellings.items():
        (root / f"{name}.jsonl").write_text(json.dumps(ex) + "\n")
        (convs[name],), errs = read_sharegpt(root / f"{name}.jsonl")
        rows[name], sft_errs = _sft_examples(root / f"{name}.jsonl")
        assert errs == sft_errs == [], name
    assert convs["from_value"].messages == convs["no_placeholder"].messages == convs["blocks"].messages
    assert convs["blocks"].messages[0] == {"role": "user", "content": "<image>Which colour?"}
    assert rows["from_value"] == rows["no_placeholder"] == rows["blocks"]
    (row,) = rows["blocks"]
    assert row["messages"][0]["content"] == [{"type": "image", "text": None}, {"type": "text", "text": "Which colour?"}]
    assert row["images"] == [str((root / "images/blue.png").resolve())]
    # a line that is not JSON is one bad item; the other lines are read
    (root / "mixed.jsonl").write_text(json.dumps(spellings["blocks"]) + "\n{not json\n")
    convs_m, errs_m = read_sharegpt(root / "mixed.jsonl")
    assert [c.id for c in convs_m] == ["x"] and [e.item for e in errs_m] == ["line 2"]


def test_sharegpt_bad_items_are_named_and_the_rest_kept(data_dir):
    root, _ = data_dir
    items = [
        {"id": "ok", "conversations": [{"from": "human", "value": "<image>q"}, {"from": "gpt", "value": "a"}], "image": "images/red.png"},
        {"id": "bad-role", "conversations": [{"from": "robot", "value": "q"}]},
        {"id": "two-tokens", "conversations": [{"from": "human", "value": "<image><image>q"}, {"from": "gpt", "value": "a"}], "images": ["images/red.png"]},
    ]
    (root / "mixed.json").write_text(json.dumps(items))
    convs, errors = read_sharegpt(root / "mixed.json")
    assert [c.id for c in convs] == ["ok"]
    assert {e.item for e in errors} == {"bad-role", "two-tokens"}
    assert "unknown role 'robot'" in str(errors[0]) and "mixed.json" in str(errors[0])


def test_geometry3k_layout(tmp_path):
    table = pa.Table.from_pylist([
        {"images": [{"bytes": _png("white"), "path": "0.png"}], "problem": "<image>Find x.", "answer": "25"},
        {"images": [{"bytes": _png("black"), "path": "1.png"}], "problem": "<image>Find the area.", "answer": "12\\sqrt{3}"},
    ])
    pq.write_table(table, tmp_path / "train-00000-of-00001.parquet")
    res = read_records(tmp_path / "train-00000-of-00001.parquet")
    assert res.errors == []
    assert [(r.question, r.answer, r.answer_type) for r in res.records] == [
        ("Find x.", "25", "integer"), ("Find the area.", "12\\sqrt{3}", "text")]
    assert all(p.exists() for r in res.records for p in res.image_paths(r))


@pytest.mark.parametrize("rel", ["../outside.png", "/etc/passwd", "images/../../outside.png"])
def test_paths_outside_the_root_are_refused(data_dir, rel):
    root, _ = data_dir
    (root.parent / "outside.png").write_bytes(_png())
    with pytest.raises(ImageError, match="escapes the data root"):
        resolve_image_path(root, rel, "item-7")


def test_symlink_escaping_the_root_is_refused(data_dir):
    root, _ = data_dir
    (root.parent / "secret.png").write_bytes(_png())
    os.symlink(root.parent / "secret.png", root / "images" / "link.png")
    write_jsonl(root / "x.jsonl", [Record(id="s", images=["images/link.png"], question="q", answer="1")])
    res = read_jsonl(root / "x.jsonl")
    assert res.records == [] and "escapes the data root" in str(res.errors[0]) and res.errors[0].item == "s"


def test_load_result_resolves_its_root_once_and_still_confines(data_dir, monkeypatch):
    root, _ = data_dir
    (root.parent / "outside.png").write_bytes(_png())
    link = root.parent / "root-link"
    os.symlink(root, link)  # a root reached through a symlink: confinement compares resolved paths
    many = [Record(id=f"r{i}", images=["images/red.png", "images/blue.png"], question="q", answer="1") for i in range(5)]
    bad = [Record(id=f"bad-{i}", images=[rel], question="q", answer="1")
           for i, rel in enumerate(["../outside.png", "/etc/passwd", "images/../../outside.png", ""])]
    res = read_jsonl(link / "train.jsonl")
    real = root.resolve()
    calls = []
    real_resolve = type(root).resolve
    monkeypatch.setattr(type(root), "resolve", lambda self, *a, **k: calls.append(self) or real_resolve(self, *a, **k))
    paths = [res.image_paths(r) for r in many]
    for r in many:
        res.check_images(r)
    assert paths == [[real / "images/red.png", real / "images/blue.png"]] * 5
    assert calls.count(link) == 0  # read_jsonl resolved the root already; 2 x 5 x 2 image paths, no root
    assert len(calls) == 20
    for r in bad:
        with pytest.raises(ImageError, match="escapes the data root|empty image path"):
            res.image_paths(r)
        with pytest.raises(ImageError, match="escapes the data root|empty image path"):
            res.check_images(r)
    res.root = root  # another root: resolved anew
    assert res.image_paths(many[0])[0] == real / "images/red.png" and calls[-3] == root


def test_corrupt_missing_and_huge_images_are_per_item_errors(data_dir):
    root, records = data_dir
    (root / "images" / "corrupt.png").write_bytes(_png()[:40])
    (root / "images" / "text.png").write_text("not an image")
    big = root / "images" / "bomb.png"
    Image.new("1", (9000, 9000)).save(big)  # 81 Mpx, compresses to a few KB
    extra = [Record(id=f"bad-{n}", images=[f"images/{n}.png"], question="q", answer="1") for n in ("corrupt", "text", "bomb", "missing")]
    write_jsonl(root / "mixed.jsonl", records + extra)
    res = read_jsonl(root / "mixed.jsonl")
    assert res.records == records
    reasons = {e.item: e.reason for e in res.errors}
    assert set(reasons) == {"bad-corrupt", "bad-text", "bad-bomb", "bad-missing"}
    assert "corrupt" in reasons["bad-corrupt"] and "not found" in reasons["bad-missing"]
    assert "pixels" in reasons["bad-bomb"] or "too large" in reasons["bad-bomb"]
    with pytest.raises(DataError, match="4 item"):
        res.raise_if_errors()


def test_bad_lines_are_reported_with_line_numbers(data_dir):
    root, records = data_dir
    lines = (root / "train.jsonl").read_text().splitlines()
    lines.insert(1, "{not json")
    lines.append(json.dumps({"id": "x", "question": "q"}))
    lines.append(json.dumps({"id": "count-1", "question": "q", "answer": "2"}))
    lines.append(json.dumps({"id": "y", "question": "q", "answer": "2", "colour": "red"}))
    (root / "bad.jsonl").write_text("\n".join(lines) + "\n")
    res = read_jsonl(root / "bad.jsonl", check_images=False)
    assert [r.id for r in res.records] == [r.id for r in records]
    msgs = [str(e) for e in res.errors]
    assert "line 2" in msgs[0] and "invalid JSON" in msgs[0]
    assert "missing field(s) ['answer']" in msgs[1]
    assert "duplicate id" in msgs[2]
    assert "unknown field(s) ['colour']" in msgs[3]


def test_record_validation_names_the_item():
    with pytest.raises(DataError, match="q7.*not one of the choices"):
        Record(id="q7", question="?", answer="C", choices=["A", "B"])
    with pytest.raises(DataError, match="answer_type"):
        Record(id="q8", question="?", answer="1", answer_type="number")


@pytest.mark.parametrize("answer,kind", [("3", "integer"), ("-2.50", "float"), (".5", "float"), ("[1, 2]", "list"), ("\\frac{1}{2}", "text")])
def test_infer_answer_type(answer, kind):
    assert infer_answer_type(answer) == kind


def test_open_image_from_bytes_converts_to_rgb():
    img = open_image(_png("blue"), "b")
    assert img.mode == "RGB" and img.size == (32, 24)
    with pytest.raises(ImageError, match="item-x"):
        open_image(b"\x89PNG garbage", "item-x")


def test_unknown_format_is_a_clear_error(tmp_path):
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(DataError, match="unknown data format '.csv'"):
        read_records(tmp_path / "x.csv")


# ----------------------------------------------------------------------------- unreadable files (issue 22, item 4)


def _unreadable(tmp_path, data_dir, kind):
    """A file (or folder) of ``kind`` that its library cannot read at all."""
    root, _ = data_dir
    if kind == "truncated parquet":
        write_parquet(tmp_path / "set.parquet", read_jsonl(root / "train.jsonl"))
        blob = (tmp_path / "set.parquet").read_bytes()
        (tmp_path / "set.parquet").write_bytes(blob[: len(blob) // 2])  # a copy cut short
        return tmp_path / "set.parquet", "cannot be read as Parquet"
    if kind == "json that is not":
        (tmp_path / "set.json").write_text('{"conversations": [')
        return tmp_path / "set.json", "cannot be read as ShareGPT JSON"
    if kind == "not a saved dataset":
        (tmp_path / "hf").mkdir()
        (tmp_path / "hf" / "dataset_info.json").write_text("{}")
        return tmp_path / "hf", "cannot be read as a Hugging Face dataset"
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00binary" * 50)
    return tmp_path / "bin.jsonl", "cannot be read as JSONL text"


@pytest.mark.parametrize("kind", ["truncated parquet", "json that is not", "not a saved dataset", "binary jsonl"])
def test_an_unreadable_file_is_a_data_error_naming_it(tmp_path, data_dir, kind):
    path, said = _unreadable(tmp_path, data_dir, kind)
    with pytest.raises(DataError, match=said) as e:
        read_records(path)
    assert e.value.item == str(path)


def test_unreadable_benchmark_tables_are_data_errors(tmp_path, data_dir):
    from visionr1.data.tables import read_table

    path, _ = _unreadable(tmp_path, data_dir, "truncated parquet")
    with pytest.raises(DataError, match="cannot be read as Parquet"):
        read_table(path)
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(DataError, match="cannot be read as JSON"):
        read_table(tmp_path / "bad.json")
    hf, _ = _unreadable(tmp_path, data_dir, "not a saved dataset")
    with pytest.raises(DataError, match="cannot be read as a Hugging Face dataset"):
        read_table(hf)


@pytest.mark.parametrize("rows,missing,has", [
    ([{"images": [{"bytes": _png(), "path": "0.png"}], "problem": "<image>Find x."}], "'answer'", "images, problem"),
    ([{"images": [{"bytes": _png(), "path": "0.png"}], "answer": "3"}], "'id', 'question'", "images, answer"),
    ([{"id": "a", "question": "Find x.", "images": [{"bytes": _png(), "path": "0.png"}]}], "'answer'", "id, question, images"),
])
def test_a_table_without_a_column_its_layout_needs_is_refused_naming_it(tmp_path, rows, missing, has):
    """Issue 33 item 6: a geometry3k-layout parquet without ``answer`` was a KeyError in bridge, grpo and eval."""
    import datasets

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=rf"t.parquet: has no {missing} column \(its columns: {has}\)"):
        read_records(tmp_path / "t.parquet")
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(DataError, match=rf"saved: has no {missing} column"):
        read_records(tmp_path / "saved")


def test_the_commands_reading_records_say_which_column_is_missing(tmp_path, tiny_model_dir):
    from pathlib import Path

    from typer.testing import CliRunner

    from visionr1.cli import app

    data = tmp_path / "noanswer.parquet"
    pq.write_table(pa.Table.from_pylist([{"images": [{"bytes": _png(), "path": "0.png"}], "problem": "Find x."}]), data)
    recipes = Path(__file__).resolve().parents[2] / "recipes" / "tiny_cpu"
    for args in (["bridge", "--input", str(data), "--out", str(tmp_path / "b"), "--teacher", "template", "--no-progress"],
                 ["grpo", "--config", str(recipes / "grpo.yaml"), f"data.path={data}", f"model.path={tiny_model_dir}",
                  f"run_dir={tmp_path / 'g'}", "--dry-run"],
                 ["eval", "--benchmark", "records", "--data", str(data), "--out", str(tmp_path / "e"), "--canned",
                  str(data), "--no-progress"]):
        res = CliRunner().invoke(app, args)
        said = " ".join(res.output.split())
        assert res.exit_code == 2 and "Traceback" not in said, (args[0], res.output[-1500:])
        assert "noanswer.parquet: has no 'answer' column (its columns: images, problem)" in said, (args[0], said)


def _noise_png(seed: int) -> bytes:
    import random

    rng = random.Random(seed)
    img = Image.frombytes("RGB", (64, 48), bytes(rng.randrange(256) for _ in range(64 * 48 * 3)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _hub_folder(root):
    """A geometry3k-layout data set as `huggingface-cli download` leaves it: two train shards and a test split."""
    (root / "data").mkdir(parents=True)
    for name, rows in (("train-00000-of-00002", [0, 1]), ("train-00001-of-00002", [2, 3]), ("test-00000-of-00001", [4])):
        pq.write_table(pa.Table.from_pylist([
            {"images": [{"bytes": _noise_png(i), "path": f"{i}.png"}], "problem": f"<image>Item {i}?",
             "answer": str(i)} for i in rows]), root / "data" / f"{name}.parquet")
    (root / "README.md").write_text("a dataset card\n")
    return root


def test_a_hub_folder_of_parquet_shards_is_read_as_its_train_split(tmp_path):
    """Polish item of issue 33: a hub folder (data/train-*.parquet) was refused by bridge, grpo and decontaminate
    while eval read it. Now it is the train split's shards, in order; the test split is left alone."""
    hub = _hub_folder(tmp_path / "geo3k")
    res = read_records(hub)
    assert res.errors == [] and [r.answer for r in res.records] == ["0", "1", "2", "3"]
    assert len({r.id for r in res.records}) == 4 and all(p.is_file() for r in res.records for p in res.image_paths(r))
    (hub / "data" / "train-00000-of-00002.parquet").rename(hub / "data" / "val-00000-of-00001.parquet")
    (hub / "data" / "train-00001-of-00002.parquet").unlink()
    with pytest.raises(DataError, match="holds no split 'train'; the splits there are test, val"):
        read_records(hub)


def test_bridge_grpo_and_decontaminate_take_a_hub_folder(tmp_path, tiny_model_dir):
    from pathlib import Path

    from typer.testing import CliRunner

    from visionr1.cli import app

    hub = _hub_folder(tmp_path / "geo3k")
    recipes = Path(__file__).resolve().parents[2] / "recipes" / "tiny_cpu"
    res = CliRunner().invoke(app, ["bridge", "--input", str(hub), "--out", str(tmp_path / "b"), "--teacher", "template",
                                   "--dry-run"])
    assert res.exit_code == 0 and "dry run: 4 records" in " ".join(res.output.split()), res.output
    res = CliRunner().invoke(app, ["grpo", "--config", str(recipes / "grpo.yaml"), "--dry-run", f"data.path={hub}",
                                   f"model.path={tiny_model_dir}", f"run_dir={tmp_path / 'g'}"])
    assert res.exit_code == 0 and json.loads(res.stdout)["records"] == 4, res.output
    bench = tmp_path / "bench"
    bench.mkdir()
    write_jsonl(bench / "test.jsonl", [Record(id="b0", images=["b.png"], question="Item 2?", answer="2")])
    (bench / "b.png").write_bytes(_noise_png(2))  # item 2's picture
    res = CliRunner().invoke(app, ["data", "decontaminate", "--train", str(hub), "--against", f"records={bench}",
                                   "--out", str(tmp_path / "clean")])
    assert res.exit_code == 0, res.output
    clean = read_records(tmp_path / "clean")
    assert [r.answer for r in clean.records] == ["0", "1", "3"]  # item 2 is the benchmark's item
    assert sorted(p.name for p in (tmp_path / "clean" / "data").glob("*.parquet")) == [
        "train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]


def test_a_bad_jsonl_line_says_where_once(tmp_path):
    """Issue 33 polish: json's 'Invalid control character at' became 'at at column'."""
    (tmp_path / "t.jsonl").write_text('{"id": "a\tb"}\n')
    (err,) = read_jsonl(tmp_path / "t.jsonl").errors
    assert "line 1" in str(err) and "invalid JSON: Invalid control character at column " in str(err)
    assert " at at " not in str(err)
