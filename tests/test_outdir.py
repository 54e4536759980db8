"""Output folders (issue 22, item 1): a command never deletes or silently replaces a folder it did not make."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from visionr1.cli import app


def _said(res) -> str:
    return " ".join(res.output.split())


def _notes(path):
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("my notes")
    return path


def test_claim_marks_new_and_empty_folders_and_refuses_foreign_ones(tmp_path):
    from visionr1.outdir import MARKER, OutputDirError, check_output_dir, claim_output_dir, owner

    claim_output_dir(tmp_path / "new", "visionr1 eval")
    (tmp_path / "empty").mkdir()
    claim_output_dir(tmp_path / "empty", "visionr1 eval")
    assert owner(tmp_path / "new") == owner(tmp_path / "empty") == "visionr1 eval"
    assert check_output_dir(tmp_path / "new", "visionr1 eval") == "ours"
    assert check_output_dir(tmp_path / "new", "visionr1 sft") == "empty"  # marked, but nothing in it yet
    (tmp_path / "new" / "scores.json").write_text("{}")
    with pytest.raises(OutputDirError, match=r"holds the output of `visionr1 eval`, so `visionr1 sft` leaves it alone"):
        check_output_dir(tmp_path / "new", "visionr1 sft")
    mine = _notes(tmp_path / "mine")
    with pytest.raises(OutputDirError, match=r"notes\.txt.*new folder, or pass --force"):
        claim_output_dir(mine, "visionr1 eval")
    assert not (mine / MARKER).exists()
    assert claim_output_dir(mine, "visionr1 eval", force=True) == mine and (mine / "notes.txt").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputDirError, match="is a file"):
        check_output_dir(tmp_path / "file", "visionr1 eval")


def test_a_folder_caught_while_its_mark_is_being_written_is_still_empty(tmp_path):
    """Under ``accelerate launch`` the main process claims run_dir while the others check it: a check that lands
    between the mark's temporary file and its rename sees only that file, which is not somebody else's output."""
    from visionr1.outdir import MARKER, OutputDirError, check_output_dir

    run = tmp_path / "run"
    run.mkdir()
    (run / f".{MARKER}.k2j4.tmp").write_text('{"made_by": "visionr1 grpo"}')
    assert check_output_dir(run, "visionr1 grpo") == "empty"
    (run / "notes.txt").write_text("x")
    with pytest.raises(OutputDirError, match=r"\(notes\.txt\)"):  # the temporary file is not listed as a stranger
        check_output_dir(run, "visionr1 grpo")


def test_an_older_folder_of_the_command_is_recognised_without_a_marker(tmp_path):
    from visionr1.outdir import check_output_dir

    old = _notes(tmp_path / "old")
    assert check_output_dir(old, "visionr1 x", looks_ours=lambda p: (p / "notes.txt").exists()) == "ours"


def test_remove_output_dir_deletes_only_what_the_command_made(tmp_path):
    """The helper a caller that reruns a stage from scratch (the demo's stage folders) clears it with."""
    from visionr1.outdir import OutputDirError, claim_output_dir, remove_output_dir

    claim_output_dir(tmp_path / "sft", "visionr1 sft")
    (tmp_path / "sft" / "metrics.jsonl").write_text("{}\n")
    assert remove_output_dir(tmp_path / "sft", "visionr1 sft") and not (tmp_path / "sft").exists()
    assert remove_output_dir(tmp_path / "sft", "visionr1 sft") is False  # nothing there: nothing to do
    mine = _notes(tmp_path / "mine")
    with pytest.raises(OutputDirError, match="deleted and made again"):
        remove_output_dir(mine, "visionr1 sft")
    assert (mine / "notes.txt").read_text() == "my notes"


def test_tiny_model_never_deletes_a_folder_it_did_not_make(tmp_path):
    important = _notes(tmp_path / "important")
    res = CliRunner().invoke(app, ["tiny-model", "--out", str(important)])
    assert res.exit_code == 2 and "notes.txt" in _said(res) and "--force" in _said(res)
    assert (important / "notes.txt").read_text() == "my notes"
    # another command's run folder is refused the same way
    from visionr1.outdir import claim_output_dir, owner

    claim_output_dir(tmp_path / "grpo", "visionr1 grpo")
    (tmp_path / "grpo" / "metrics.jsonl").write_text("{}\n")
    res = CliRunner().invoke(app, ["tiny-model", "--out", str(tmp_path / "grpo")])
    assert res.exit_code == 2 and "holds the output of `visionr1 grpo`" in _said(res)
    assert (tmp_path / "grpo" / "metrics.jsonl").exists()
    # its own folder is rebuilt as before; --force replaces a foreign one, as asked
    for _ in range(2):
        assert CliRunner().invoke(app, ["tiny-model", "--out", str(tmp_path / "tiny")]).exit_code == 0
    assert (tmp_path / "tiny" / "config.json").is_file() and owner(tmp_path / "tiny") == "visionr1 tiny-model"
    assert CliRunner().invoke(app, ["tiny-model", "--out", str(important), "--force"]).exit_code == 0
    assert not (important / "notes.txt").exists() and (important / "config.json").is_file()


def test_synth_refuses_a_foreign_folder_and_rebuilds_its_own_set_whole(tmp_path):
    mine = _notes(tmp_path / "mine")
    res = CliRunner().invoke(app, ["synth", "--out", str(mine), "--n", "4"])
    assert res.exit_code == 2 and "notes.txt" in _said(res)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]

    out = tmp_path / "set"
    assert CliRunner().invoke(app, ["synth", "--out", str(out), "--n", "16", "--split-test", "4"]).exit_code == 0
    res = CliRunner().invoke(app, ["synth", "--out", str(out), "--n", "4"])
    assert res.exit_code == 0 and "replaced the set that was in" in _said(res) and "(16 train / 4 test records)" in _said(res)
    lines = (out / "train.jsonl").read_text().splitlines()
    assert len(lines) == 4 and not (out / "test.jsonl").exists()
    used = {p.split("/")[-1] for line in lines for p in json.loads(line)["images"]}
    assert {p.name for p in (out / "images").iterdir()} == used  # the old set's images are gone



# ----------------------------------------------------------------------------- a folder in use (issue 33 item 7)


def _holder(path, made_by="visionr1 bridge"):
    """Another process holding ``path`` as a running command would; it prints ``held`` once it does."""
    import subprocess
    import sys

    code = ("import sys, time; from visionr1.outdir import claim_output_dir; "
            f"claim_output_dir({str(path)!r}, {made_by!r}, hold=True); print('held', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_folder_another_run_holds_is_refused_at_once_and_free_when_it_ends(tmp_path):
    import signal

    from visionr1.outdir import LOCK, OutputDirInUse, check_output_dir, claim_output_dir, releases_held_dirs

    p = _holder(tmp_path / "run")
    try:
        with pytest.raises(OutputDirInUse, match=rf"run is in use by `visionr1 bridge` \(pid {p.pid}, since .*\); wait"):
            claim_output_dir(tmp_path / "run", "visionr1 bridge", hold=True)
        assert check_output_dir(tmp_path / "run", "visionr1 eval") == "empty"  # the lock is no content
    finally:
        p.send_signal(signal.SIGKILL)  # however it ends (kill -9 included), the folder is free again
        p.wait()

    @releases_held_dirs
    def run():
        claim_output_dir(tmp_path / "run", "visionr1 bridge", hold=True)
        claim_output_dir(tmp_path / "run", "visionr1 bridge", hold=True)  # holding it again is no error

    run()
    assert not (tmp_path / "run" / LOCK).exists()  # released and removed; the killed holder's was taken over
    q = _holder(tmp_path / "run")  # released when run() returned: another process takes it
    q.kill()
    q.wait()


@pytest.mark.parametrize("command", ["bridge", "eval", "sft", "grpo"])
def test_every_resumable_command_refuses_a_folder_in_use(tmp_path, command, tiny_model_dir):
    """Issue 33 item 7: two bridge runs into one --out both finished and paid every call twice; eval, sft and grpo
    resume into their folders the same way. The second run is refused before it reads or calls anything."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "run"
    p = _holder(out, f"visionr1 {command}")
    try:
        args = {"bridge": ["bridge", "--input", str(tmp_path / "none.jsonl"), "--out", str(out), "--teacher", "template",
                           "--no-progress"],
                "eval": ["eval", "--benchmark", "mathvista", "--data", str(repo / "tests/fixtures/mathvista_eval"),
                         "--out", str(out), "--canned", str(repo / "tests/fixtures/mathvista_eval/responses.json"),
                         "--no-progress"],
                "sft": ["sft", "--config", str(repo / "recipes/tiny_cpu/sft.yaml"), f"run_dir={out}",
                        f"model.path={tiny_model_dir}"],
                "grpo": ["grpo", "--config", str(repo / "recipes/tiny_cpu/grpo.yaml"), f"run_dir={out}",
                         f"model.path={tiny_model_dir}"]}[command]
        res = CliRunner().invoke(app, args)
        said = _said(res)
        assert res.exit_code == 2 and f"is in use by `visionr1 {command}` (pid {p.pid}" in said, said
    finally:
        p.kill()
        p.wait()
