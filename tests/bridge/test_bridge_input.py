"""Bad input items reach the outputs exactly as when every image is checked before the run, though the
bridge now checks native JSONL images in its workers while the calls run, and reads no further than
``--limit`` needs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from visionr1.bridge import run as bridge_run
from visionr1.bridge.config import BridgeConfig
from visionr1.bridge.run import run_bridge
from visionr1.config import EndpointConfig
from visionr1.data.io import read_records
from visionr1.testing import OpenAIServer
from visionr1.errors import DataError

OUTPUTS = ("cold.sharegpt.json", "cold.jsonl", "rejected.jsonl", "stats.json", "stats.md")
BAD = ("corrupt", "truncated", "missing", "escape", "text")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, synth_dir) -> Path:
    """The synth set with bad items spread through it: broken images, a bad line, a duplicate id."""
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(synth_dir / "images", root / "images")
    lines = (synth_dir / "train.jsonl").read_text().splitlines()
    good = [json.loads(line) for line in lines]
    png = (synth_dir / good[0]["images"][0]).read_bytes()
    (root / "images" / "corrupt.png").write_bytes(png[:40])
    (root / "images" / "truncated.png").write_bytes(png[: len(png) * 2 // 3])  # header and size fine, data cut
    (root / "images" / "text.png").write_text("not an image")
    (root.parent / "outside.png").write_bytes(png)
    paths = {"corrupt": "images/corrupt.png", "truncated": "images/truncated.png", "missing": "images/nope.png",
             "escape": "../outside.png", "text": "images/text.png"}
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i % 4 == 1 and i // 4 < len(BAD):  # a bad item after good records 1, 5, 9, ...
            kind = BAD[i // 4]
            out.append(json.dumps(dict(good[i], id=f"bad-{kind}", images=[paths[kind]])))
        if i == 6:
            out.append("{not json")
        if i == 12:
            out.append(json.dumps(dict(good[3], id=good[3]["id"])))  # duplicate id
    (root / "train.jsonl").write_text("\n".join(out) + "\n")
    return root


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def checked_first(monkeypatch):
    """The bridge as before: every image opened by the reader, before any call."""
    monkeypatch.setattr(bridge_run, "native_jsonl", lambda path: None)


def test_truncated_image_is_caught_by_the_reader(mixed):
    res = read_records(mixed)
    reasons = {e.item: e.reason for e in res.errors}
    assert {f"bad-{k}" for k in BAD} <= set(reasons)
    assert "corrupt" in reasons["bad-truncated"] and "truncated" in reasons["bad-truncated"].lower()
    assert "escapes the data root" in reasons["bad-escape"] and "not found" in reasons["bad-missing"]


@pytest.mark.parametrize("limit", [None, 7, 14])
def test_template_run_matches_checking_images_first(tmp_path, mixed, monkeypatch, limit):
    got = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        run_bridge(BridgeConfig(input=mixed, out=out, teacher="template", progress=False, workers=workers, limit=limit))
        got[workers] = outputs(out)
    checked_first(monkeypatch)
    run_bridge(BridgeConfig(input=mixed, out=tmp_path / "ref", teacher="template", progress=False, limit=limit))
    ref = outputs(tmp_path / "ref")
    assert got[1] == ref and got[2] == ref
    stats = json.loads(ref["stats.json"])
    rejected = [json.loads(line) for line in ref["rejected.jsonl"].decode().splitlines()]
    bad = [r for r in rejected if r["stage"] == "input"]
    assert all(r["reason"] == "bad_input" and r["detail"] for r in bad)
    assert stats["records"] - len(bad) == (limit if limit is not None else 48)
    if limit is None:
        assert {r["id"] for r in bad} >= {f"bad-{k}" for k in BAD}
    lines = [r for r in bad if r["id"].startswith("line ")]
    # the bad line follows good record 7: a run limited to the first 7 stops reading before it
    assert len(lines) == (0 if limit == 7 else 1)


def test_endpoint_run_with_workers_rejects_bad_images_and_resumes(tmp_path, mixed, fake_models, monkeypatch):
    ep = {"model": "fake", "timeout": 5.0, "concurrency": 8}

    def cfg(url: str, out: Path, workers: int) -> BridgeConfig:
        return BridgeConfig(input=mixed, out=out, mllm=EndpointConfig(base_url=url, **ep),
                            reasoner=EndpointConfig(base_url=url, **ep), progress=False, workers=workers, limit=20)

    with OpenAIServer(fake_models.respond) as server:
        run_bridge(cfg(server.url, tmp_path / "w2", 2))
        assert not any(e.key.startswith("bad-") for e in server.log)  # a bad record is never sent
        n = len(server.log)
        run_bridge(cfg(server.url, tmp_path / "w2", 2))  # resumed: replays everything
        assert len(server.log) == n
        checked_first(monkeypatch)
        run_bridge(cfg(server.url, tmp_path / "ref", 1))
    assert outputs(tmp_path / "w2") == outputs(tmp_path / "ref")
    rejected = (tmp_path / "w2" / "rejected.jsonl").read_text()
    for kind in ("corrupt", "truncated", "missing", "escape"):
        assert f'"id": "bad-{kind}", "stage": "input", "reason": "bad_input"' in rejected


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("workers", [1, 2])
def test_images_placed_during_the_run_match_the_export(tmp_path, synth_dir, monkeypatch, workers):
    """With workers, kept records' images go into RUN_DIR as they are kept; two image paths that share a destination
    are left to the export, which gives it to the first kept one, as before."""
    root = tmp_path / "in"
    shutil.copytree(synth_dir / "images", root / "images")
    good = [json.loads(line) for line in (synth_dir / "train.jsonl").read_text().splitlines()]
    shutil.copyfile(synth_dir / good[1]["images"][0], root / "pic.png")  # "pic.png" and "images/pic.png" both
    shutil.copyfile(synth_dir / good[2]["images"][0], root / "images" / "pic.png")  # land on images/pic.png
    rows = [*good[:10], dict(good[1], id="a-pic", images=["pic.png"]), *good[10:20],
            dict(good[2], id="b-pic", images=["images/pic.png"]), *good[20:]]
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def run(out: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
        run_bridge(BridgeConfig(input=root, out=out, teacher="template", progress=False, workers=workers))
        (out / "calls.sqlite").unlink()
        for p in out.glob("calls.sqlite-*"):
            p.unlink()
        (out / "runs.jsonl").unlink()
        return outputs(out), tree(out)

    early = run(tmp_path / "early")
    from visionr1.bridge import export

    placed = []
    monkeypatch.setattr(export, "place_early", lambda rec, *a: placed.append(rec.id))
    late = run(tmp_path / "late")
    assert bool(placed) == (workers > 1) and early == late  # (the parent places them while workers run)
    kept = {c["id"] for c in json.loads(early[0]["cold.sharegpt.json"])}
    assert {"a-pic", "b-pic"} <= kept
    assert any(k.startswith("images/_/") for k in early[1])  # the second one went aside


def test_the_export_leaves_images_placed_during_the_run_alone(tmp_path, synth_dir, monkeypatch):
    """Each image is placed once: the export skips those the parent placed while the workers ran."""
    from visionr1.bridge import export

    calls: list[str] = []
    place = export._place_image
    monkeypatch.setattr(export, "_place_image", lambda src, dst, mode: calls.append(dst.name) or place(src, dst, mode))
    out = tmp_path / "out"
    stats = run_bridge(BridgeConfig(input=synth_dir, out=out, teacher="template", progress=False, workers=2))
    images = sorted(p.name for p in (out / "images").rglob("*.png"))
    assert stats["kept"] and len(images) == len(set(images)) > 0
    assert sorted(calls) == images


def test_a_run_folder_belongs_to_one_input(tmp_path, synth_dir, monkeypatch):
    """Issue 33 item 8: a rerun with another --input silently replaced a 24-line cold.jsonl with 5 lines. Another
    input is refused (run and --dry-run) naming both, unless --force; the same input by another path is not."""
    from typer.testing import CliRunner

    from visionr1.cli import app

    other = tmp_path / "other"
    other.mkdir()
    shutil.copytree(synth_dir / "images", other / "images")
    lines = (synth_dir / "train.jsonl").read_text().splitlines()
    (other / "train.jsonl").write_text("\n".join(lines[:5]) + "\n")
    out = tmp_path / "run"
    args = ["bridge", "--out", str(out), "--teacher", "template", "--no-progress", "--input"]
    assert CliRunner().invoke(app, [*args, str(synth_dir)]).exit_code == 0
    before = outputs(out)
    kept = json.loads(before["stats.json"])["kept"]
    for extra in ([], ["--dry-run"]):
        res = CliRunner().invoke(app, [*args, str(other / "train.jsonl"), *extra])
        said = " ".join(res.output.split())
        assert res.exit_code == 2, res.output
        assert (f"is the bridge run of {synth_dir / 'train.jsonl'} ({kept} records kept), not of "
                f"{other / 'train.jsonl'}") in said and "--force" in said
        assert outputs(out) == before
    # the same input under another name (the file in the folder, a relative path) is the same run
    monkeypatch.chdir(synth_dir.parent)
    for same in (synth_dir / "train.jsonl", Path(synth_dir.name) / "." / "train.jsonl"):
        assert CliRunner().invoke(app, [*args, str(same)]).exit_code == 0
        assert outputs(out) == before
    res = CliRunner().invoke(app, [*args, str(other), "--force"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "stats.json").read_text())["records"] == 5
    assert CliRunner().invoke(app, [*args, str(other)]).exit_code == 0  # now the folder is this input's run


@pytest.mark.parametrize("case", ["no_solution", "bad_input", "empty"])
def test_a_run_that_keeps_nothing_exits_non_zero_saying_why(tmp_path, synth_dir, case):
    """Issue 33 item 9: ``kept 0`` exited 0, and the sft after it failed on the empty file with a JSON error."""
    from typer.testing import CliRunner

    from visionr1.cli import app
    from visionr1.train.config import SFTDataSettings
    from visionr1.train.data import build_sft_dataset

    rows = [json.loads(line) for line in (synth_dir / "train.jsonl").read_text().splitlines()][:4]
    if case == "no_solution":  # the template teacher needs synth's programmatic solutions
        rows = [dict(r, metadata={}) for r in rows]
    elif case == "bad_input":
        rows = [dict(r, images=["images/missing.png"]) for r in rows]
    else:
        rows = []
    (tmp_path / "in").mkdir()
    shutil.copytree(synth_dir / "images", tmp_path / "in" / "images")
    (tmp_path / "in" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(app, ["bridge", "--input", str(tmp_path / "in"), "--out", str(tmp_path / "run"),
                                   "--teacher", "template", "--no-progress"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "kept none of the records" in said and "nothing to learn from" in said, res.output
    assert {"no_solution": "4 no_solution (the template teacher writes chains only for records that carry",
            "bad_input": "4 bad_input (every input item is bad", "empty": "the input holds no records"}[case] in said
    assert (tmp_path / "run" / "rejected.jsonl").is_file() and (tmp_path / "run" / "stats.json").is_file()
    with pytest.raises(DataError, match=r"cold.jsonl: is empty: it holds no examples"):
        build_sft_dataset(SFTDataSettings(path=str(tmp_path / "run" / "cold.jsonl")))
