"""Reports read run folders only: comparison table, markdown, PNG bar chart, the `report` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from visionr1.cli import app
from visionr1.errors import ConfigError
from visionr1.eval.run import EvalConfig, run_eval
from visionr1.report import bar_chart, comparison_markdown, comparison_rows, load_run, render_run_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    good = FIXTURES / "mathvista_eval" / "responses.json"
    bad = root / "bad.json"
    bad.write_text(json.dumps({"1": "A", "2": "5", "3": "Wait. Hmm. 1.0"}))
    out = []
    for name, canned in (("model_a", good), ("model_b", bad)):
        run_eval(EvalConfig(benchmark="mathvista", data=FIXTURES / "mathvista_eval", out=root / name, canned=canned,
                            progress=False))
        out.append(root / name)
    run_eval(EvalConfig(benchmark="dynamath", data=FIXTURES / "dynamath", out=root / "dyn", progress=False,
                        canned=FIXTURES / "dynamath" / "responses.json"))
    out.append(root / "dyn")
    return out


def test_comparison_rows(runs):
    header, rows = comparison_rows([load_run(p) for p in runs])
    assert header == ["benchmark", "metric", "model_a", "model_b", "dyn"]
    by = {(r[0], r[1]): r[2:] for r in rows}
    assert by[("mathvista", "accuracy")] == [100.0, 0.0, None]
    assert by[("dynamath", "worst_case")] == [None, None, 50.0]
    assert by[("mathvista", "reflective words / completion")][1] == pytest.approx(2 / 3, abs=1e-3)
    md = comparison_markdown([load_run(p) for p in runs])
    assert md.startswith("| benchmark | metric | model_a | model_b | dyn |")


def test_bar_chart_png(runs, tmp_path):
    path = bar_chart([load_run(p) for p in runs], tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_report_markdown(runs):
    text = (runs[0] / "report.md").read_text()
    assert "# MathVista" in text and "### by task" in text and "### by skills" in text
    dyn = render_run_report(json.loads((runs[2] / "scores.json").read_text()))
    assert "worst_case" in dyn and "### by subject (worst)" in dyn


def test_report_command(runs, tmp_path):
    res = CliRunner().invoke(app, ["report", *map(str, runs), "--png", str(tmp_path / "c.png"),
                                   "--markdown", str(tmp_path / "c.md")])
    assert res.exit_code == 0, res.output
    assert "model_a" in res.output and (tmp_path / "c.png").exists() and (tmp_path / "c.md").exists()
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "no scores.json" in " ".join(res.output.split())  # rich wraps at the console width


def test_load_run_errors(tmp_path):
    with pytest.raises(ConfigError, match="not an eval run folder"):
        load_run(tmp_path)


def test_a_folder_that_does_not_exist_is_named_as_such(tmp_path):
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nonexistent")])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and f"{tmp_path / 'nonexistent'} does not exist" in said
    assert "not an eval run folder" not in said


def test_report_overwrites_only_files_it_wrote(runs, tmp_path):
    (tmp_path / "mine.png").write_bytes(b"not a plot")
    (tmp_path / "notes.md").write_text("# my notes\n")
    for option, path in (("--png", tmp_path / "mine.png"), ("--markdown", tmp_path / "notes.md")):
        res = CliRunner().invoke(app, ["report", *map(str, runs), option, str(path)])
        assert res.exit_code == 2 and "was not written by `visionr1 report`" in " ".join(res.output.split())
    assert (tmp_path / "mine.png").read_bytes() == b"not a plot" and (tmp_path / "notes.md").read_text() == "# my notes\n"
    args = ["report", *map(str, runs), "--png", str(tmp_path / "c.png"), "--markdown", str(tmp_path / "c.md")]
    for _ in range(2):  # its own files are rewritten on a rerun
        assert CliRunner().invoke(app, args).exit_code == 0
    assert CliRunner().invoke(app, ["report", *map(str, runs), "--png", str(tmp_path / "mine.png"), "--force"]).exit_code == 0


def test_reference_paper_adds_the_papers_columns(runs, tmp_path):
    """``report --reference paper``: Qwen2.5-VL-7B 68.1/46.7/34.1 and Vision-R1-7B 73.5/52.4/40.2 beside the runs."""
    from visionr1.report.reference import get_references

    header, rows = comparison_rows([load_run(p) for p in runs] + get_references("paper"))
    assert header[-2:] == ["Qwen2.5-VL-7B (paper)", "Vision-R1-7B (paper)"]
    by = {(r[0], r[1]): r[2:] for r in rows}
    assert by[("mathvista", "accuracy")] == [100.0, 0.0, None, 68.1, 73.5]
    assert by[("mathverse", "accuracy")] == [None, None, None, 46.7, 52.4]
    assert by[("mmmath", "accuracy")] == [None, None, None, 34.1, 40.2]
    assert by[("mathvista", "completion length")][3:] == [None, None]

    md = tmp_path / "c.md"
    res = CliRunner().invoke(app, ["report", str(runs[0]), "--reference", "paper", "--png", str(tmp_path / "c.png"),
                                   "--markdown", str(md)])
    assert res.exit_code == 0, res.output
    assert "Vision-R1-7B (paper)" in md.read_text() and "| mmmath | accuracy | – | 34.10 | 40.20 |" in md.read_text()
    assert "arXiv 2503.06749v1, Table 1" in res.output
    alone = CliRunner().invoke(app, ["report", "--reference", "paper", "--png", str(tmp_path / "p.png")])
    assert alone.exit_code == 0 and "73.50" in alone.output
    for args, message in ((["--reference", "blog"], "unknown reference 'blog'; valid: paper"), ([], "give run folders")):
        bad = CliRunner().invoke(app, ["report", *args])
        assert bad.exit_code == 2 and message in bad.output


def test_runs_laid_out_by_model_then_benchmark_are_one_column_per_model(tmp_path):
    """Issue 33 item 12: ``report runs/$M/*`` named the columns after the benchmark folders, one value each (a
    diagonal table) and no model anywhere. Now: a column per model folder, its benchmarks filled, the model named."""
    for model, canned in (("qwen-7b", {"mathvista": FIXTURES / "mathvista_eval" / "responses.json",
                                       "dynamath": FIXTURES / "dynamath" / "responses.json"}),
                          ("vision-r1", {"mathvista": FIXTURES / "mathvista_eval" / "responses.json"})):
        for bench, responses in canned.items():
            run_eval(EvalConfig(benchmark=bench, data=FIXTURES / ("mathvista_eval" if bench == "mathvista" else bench),
                                out=tmp_path / "runs" / model / bench, canned=responses, progress=False))
    folders = sorted((tmp_path / "runs").glob("*/*"))  # what the shell gives for runs/*/*
    header, rows = comparison_rows([load_run(p) for p in folders])
    assert header == ["benchmark", "metric", "qwen-7b", "vision-r1"]
    by = {(r[0], r[1]): r[2:] for r in rows}
    assert by[("", "model")] == ["dynamath/responses.json, mathvista_eval/responses.json", "mathvista_eval/responses.json"]
    assert by[("mathvista", "accuracy")] == [100.0, 100.0] and by[("dynamath", "worst_case")] == [50.0, None]
    res = CliRunner().invoke(app, ["report", *map(str, folders), "--png", str(tmp_path / "c.png")])
    assert res.exit_code == 0 and "qwen-7b" in res.output and "vision-r1" in res.output, res.output
    # a run folder not named after its benchmark keeps its own name; the same benchmark twice is not merged
    (tmp_path / "runs" / "qwen-7b" / "mathvista").rename(tmp_path / "runs" / "qwen-7b" / "mv-greedy")
    header, _ = comparison_rows([load_run(p) for p in sorted((tmp_path / "runs").glob("*/*"))])
    assert header == ["benchmark", "metric", "qwen-7b", "mv-greedy", "vision-r1"]


def test_without_png_no_figure_is_written_into_the_current_folder(runs, tmp_path, monkeypatch):
    """Issue 33 polish: ``report`` without ``--png`` wrote report.png into the current folder."""
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["report", *map(str, runs)])
    assert res.exit_code == 0 and "model_a" in res.output and "no figure (--png FILE writes the bar chart)" in res.output
    assert list(tmp_path.iterdir()) == []
