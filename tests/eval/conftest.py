"""Fixture locations for the eval tests: each benchmark in its HF layout and in a second layout."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# benchmark -> (HF / official layout, second layout (VLMEvalKit TSV where it has one), canned responses)
LAYOUTS = {
    "mathvista": (FIXTURES / "mathvista_eval", FIXTURES / "mathvista_eval" / "MathVista_MINI.tsv",
                  FIXTURES / "mathvista_eval" / "responses.json"),
    "mathverse": (FIXTURES / "mathverse", FIXTURES / "mathverse" / "MathVerse_MINI.tsv",
                  FIXTURES / "mathverse" / "responses.json"),
    "mmmath": (FIXTURES / "mmmath" / "MM_Math.json", FIXTURES / "mmmath", FIXTURES / "mmmath" / "responses.json"),
    "dynamath": (FIXTURES / "dynamath", FIXTURES / "dynamath" / "DynaMath.tsv", FIXTURES / "dynamath" / "responses.json"),
    "mathvision": (FIXTURES / "mathvision", FIXTURES / "mathvision" / "MathVision_MINI.tsv",
                   FIXTURES / "mathvision" / "responses.json"),
    "wemath": (FIXTURES / "wemath" / "testmini.json", FIXTURES / "wemath" / "WeMath.tsv",
               FIXTURES / "wemath" / "responses.json"),
    # our own sets (`visionr1 synth` output): a folder holding test.jsonl, and the file itself
    "records": (FIXTURES / "records", FIXTURES / "records" / "test.jsonl", FIXTURES / "records" / "responses.json"),
}
