"""visionr1.files: whole-or-nothing writes, folder replacement, and JSON Lines with errors naming file and line."""

from __future__ import annotations

import errno
import os

import pytest

from visionr1 import files
from visionr1.errors import DataError


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_written_files_get_the_mode_open_gives_and_leave_no_temporary_file(tmp_path):
    files.write_text(tmp_path / "sub" / "a.txt", "é\n")
    files.write_bytes(tmp_path / "b.bin", b"\x00\x01", sync=False)
    assert (tmp_path / "sub" / "a.txt").read_bytes() == "é\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "a.txt").stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "b.bin", "sub"]


def test_a_failed_write_keeps_the_old_file_whole(tmp_path):
    target = tmp_path / "scores.json"
    files.write_json(target, {"acc": 1})
    before = target.read_bytes()
    with pytest.raises(RuntimeError), files.replacing_file(target) as tmp:
        tmp.write_text('{"acc": ')  # half written when the run dies
        raise RuntimeError("killed")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]


def test_an_os_error_names_the_file_asked_for_not_the_temporary_one(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(OSError) as e:  # its folder cannot be made: a file is in the way
        files.write_text(tmp_path / "a_file" / "out.json", "{}")
    assert e.value.filename == str(tmp_path / "a_file" / "out.json")
    (tmp_path / "a_dir").mkdir()
    with pytest.raises(OSError) as e:  # the rename fails: a folder is in the way
        files.write_text(tmp_path / "a_dir", "{}")
    assert e.value.errno == errno.EISDIR and e.value.filename == str(tmp_path / "a_dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_dir", "a_file"]  # no temporary file left


@pytest.mark.parametrize(("kwargs", "text"), [
    ({}, '{\n "a": "é",\n "n": [\n  1\n ]\n}\n'),
    ({"indent": 4, "end": ""}, '{\n    "a": "é",\n    "n": [\n        1\n    ]\n}'),
    ({"indent": None, "ensure_ascii": True}, '{"a": "\\u00e9", "n": [1]}\n'),
])
def test_write_json_spells_json_as_json_dumps_does(tmp_path, kwargs, text):
    files.write_json(tmp_path / "x.json", {"a": "é", "n": [1]}, **kwargs)
    assert (tmp_path / "x.json").read_text(encoding="utf-8") == text


def test_jsonl_round_trip_keeps_a_line_separator_inside_a_value(tmp_path):
    rows = [{"q": "first\u2028second"}, {"q": "x", "n": float("nan")}, {"q": "ü"}]
    files.write_jsonl(tmp_path / "a.jsonl", rows[:1])
    files.append_jsonl(tmp_path / "a.jsonl", rows[1:])
    text = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert text.count("\n") == 3 and "\u2028" in text and "ü" in text  # written raw (ensure_ascii=False)
    back = files.read_jsonl(tmp_path / "a.jsonl")
    assert back[0] == rows[0] and back[2] == rows[2] and back[1]["n"] != back[1]["n"]  # NaN


def test_a_bad_line_is_an_error_naming_the_file_and_the_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n{"a": 3}\n', encoding="utf-8")
    with pytest.raises(DataError) as e:
        files.read_jsonl(path)
    assert str(e.value) == f"line 3 in {path}: invalid JSON: Expecting value at column 7"
    assert files.read_jsonl(path, skip_bad=True) == [{"a": 1}, {"a": 3}]
    assert files.loads_jsonl(path.read_text(), "given", skip_bad=True) == [{"a": 1}, {"a": 3}]
    with pytest.raises(DataError, match="^line 3 in given: invalid JSON"):
        files.loads_jsonl(path.read_text(), "given")
    values = [v for _, v in files.jsonl_values(path.read_text(), str(path))]
    assert values[0] == {"a": 1} and isinstance(values[1], DataError) and values[2] == {"a": 3}


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_lines_end_at_any_newline_and_only_there(tmp_path, end):
    text = end.join(['{"q": "a\u2028b\u0085c"}', '{"q": "d"}', ""])
    (tmp_path / "a.jsonl").write_bytes(text.encode("utf-8"))
    expected = [{"q": "a\u2028b\u0085c"}, {"q": "d"}]
    assert files.read_jsonl(tmp_path / "a.jsonl") == files.loads_jsonl(text, "t") == expected


def test_a_missing_file_is_empty_only_when_asked(tmp_path):
    assert files.read_jsonl(tmp_path / "none.jsonl", missing_ok=True) == []
    with pytest.raises(FileNotFoundError):
        files.read_jsonl(tmp_path / "none.jsonl")


def test_filter_jsonl_keeps_lines_byte_for_byte_and_drops_a_cut_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    kept = ['{"global_step": 1, "x": 1.50}', '{ "global_step":2 }']  # spelt as no json.dumps would spell them
    path.write_text("\n".join([*kept, '{"global_step": 3}', "", '{"global_st']), encoding="utf-8")
    assert files.filter_jsonl(path, lambda r: r["global_step"] <= 2) == 2
    assert path.read_text(encoding="utf-8") == "".join(line + "\n" for line in kept)
    assert files.filter_jsonl(tmp_path / "none.jsonl", lambda r: True) == 0
    assert not (tmp_path / "none.jsonl").exists()


def test_replacing_dir_swaps_a_whole_folder_in_or_leaves_the_old_one(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with pytest.raises(RuntimeError), files.replacing_dir(target) as scratch:
        (scratch / "new.bin").write_text("half")
        raise RuntimeError("killed while building")
    assert [p.name for p in target.iterdir()] == ["old.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no scratch folder left behind
    with files.replacing_dir(target) as scratch:
        (scratch / "new.bin").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.bin"]
    assert target.stat().st_mode & 0o777 == 0o777 & ~_umask()  # not mkdtemp's 0700
    with files.replacing_dir(tmp_path / "fresh" / "x") as scratch:
        (scratch / "f").write_text("1")
    assert (tmp_path / "fresh" / "x" / "f").read_text() == "1"
