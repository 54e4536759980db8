"""Benchmark tables on disk (visionr1.data.tables, visionr1.data.splits): which split a folder or file holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from visionr1.data.splits import split_of

from visionr1.data.splits import split_name
from visionr1.data.tables import read_table
from visionr1.errors import DataError
from visionr1.eval.benchmarks import get_benchmark

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MATHVISION = FIXTURES / "mathvision" / "data"  # testmini (3 items) and test (4 items), HF's file names


@pytest.fixture
def hf_folder(tmp_path):
    """MathVision as `huggingface-cli download` leaves it: data/testmini-… and data/test-… parquet files."""
    shutil.copytree(MATHVISION, tmp_path / "MV" / "data")
    return tmp_path / "MV"


@pytest.mark.parametrize("split", ["testmni", "tes", "train", "testmini-text"])
def test_a_split_no_file_holds_is_an_error_naming_the_splits(hf_folder, split):
    """Issue 33 item 2: a typo read every parquet in the folder (testmini plus the unanswered test set)."""
    with pytest.raises(DataError, match=rf"holds no split '{split}'; the splits there are test, testmini"):
        read_table(hf_folder, split)
    with pytest.raises(DataError, match="the splits there are test, testmini"):
        get_benchmark("mathvision").load(hf_folder, split=split)


def test_the_split_that_is_there_is_read_alone(hf_folder):
    assert len(get_benchmark("mathvision").load(hf_folder, split="testmini")) == 3
    assert len(get_benchmark("mathvision").load(hf_folder, split="test")) == 4
    assert len(get_benchmark("mathvision").load(hf_folder)) == 3  # the benchmark's default split


def test_a_folder_holding_only_another_split_is_refused(hf_folder):
    """``--split test`` on a folder holding only testmini ran testmini and labelled the run test."""
    (hf_folder / "data" / "test-00000-of-00001.parquet").unlink()
    with pytest.raises(DataError, match="holds no split 'test'; the splits there are testmini"):
        get_benchmark("mathvision").load(hf_folder, split="test")
    only_test = hf_folder.parent / "only_test"
    shutil.copytree(MATHVISION, only_test, ignore=lambda _, names: [n for n in names if n.startswith("testmini")])
    with pytest.raises(DataError, match="holds no split 'testmini'; the splits there are test"):
        get_benchmark("mathvision").load(only_test)  # the default split is not there either


def test_a_file_named_for_one_split_is_not_read_as_another():
    """A file given alone is the split its name says (no --split: that one, and the run is labelled so); asking it
    for another split is an error."""
    with pytest.raises(DataError, match=r"holds the split 'test' \(by its name\), not 'testmini'; give --split test"):
        get_benchmark("mathvision").load(MATHVISION / "test-00000-of-00001.parquet", split="testmini")
    assert len(get_benchmark("mathvision").load(MATHVISION / "test-00000-of-00001.parquet", split="test")) == 4
    assert len(get_benchmark("mathvision").load(MATHVISION / "test-00000-of-00001.parquet")) == 4
    assert split_of(MATHVISION / "test-00000-of-00001.parquet", None, "testmini") == "test"
    with pytest.raises(DataError, match="holds the split 'testmini'"):  # We-Math's release file is testmini.json
        get_benchmark("wemath").load(FIXTURES / "wemath" / "testmini.json", split="test")


def test_tables_named_for_no_split_are_read_whatever_the_split_but_two_are_not_guessed_between(tmp_path):
    """VLMEvalKit's MathVision_MINI.tsv is the data; beside MathVision.tsv the folder no longer says which split is
    which (the first file, the full test set, was read as testmini)."""
    tsv = FIXTURES / "mathvision" / "MathVision_MINI.tsv"
    (tmp_path / "one").mkdir()
    shutil.copy(tsv, tmp_path / "one" / tsv.name)
    assert len(get_benchmark("mathvision").load(tmp_path / "one")) == 3
    shutil.copy(tsv, tmp_path / "one" / "MathVision.tsv")
    with pytest.raises(DataError, match="the splits there are MathVision, MathVision_MINI"):
        get_benchmark("mathvision").load(tmp_path / "one")
    assert len(get_benchmark("mathvision").load(tmp_path / "one", split="MathVision_MINI")) == 3


def test_a_saved_dataset_dict_without_the_split_is_an_error(tmp_path):
    import datasets

    ds = datasets.Dataset.from_parquet(str(MATHVISION / "testmini-00000-of-00001.parquet"))
    datasets.DatasetDict({"testmini": ds}).save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(DataError, match="holds no split 'test'; the splits there are testmini"):
        read_table(tmp_path / "saved", "test")
    assert len(read_table(tmp_path / "saved", "testmini")[0]) == 3


@pytest.mark.parametrize("name,split", [
    ("data/testmini-00000-of-00001.parquet", "testmini"),
    ("data/test-00000-of-00002-6b9c8a1f.parquet", "test"),
    ("default/testmini/0000.parquet", "testmini"),
    ("testmini.json", "testmini"),
    ("MathVista_MINI.tsv", "MathVista_MINI"),
])
def test_split_name(name, split):
    assert split_name(Path(name)) == split


def test_a_folder_inside_a_hidden_one_is_read(tmp_path):
    """The hub caches downloads under ~/.cache/huggingface: only hidden folders inside the data folder are skipped."""
    hub = tmp_path / ".cache" / "MV"
    shutil.copytree(MATHVISION, hub / "data")
    shutil.copytree(MATHVISION, hub / ".git" / "data")  # e.g. a clone's own files
    assert len(get_benchmark("mathvision").load(hub, split="test")) == 4
