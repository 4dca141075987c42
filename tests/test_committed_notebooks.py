"""What a learner reads in the committed notebooks (and in the student versions) stays clean: exercises numbered in
reading order with the opening's count right, no widget views or saved widget state, no URL in an output, no stderr
noise, and every notebook under 1.5 MB."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from helpers import ROOT

from labkit.course.student import build_student

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 1_500_000
WIDGET = "application/vnd.jupyter.widget-view+json"
STDERR_OK = "shows-stderr"  # tag for a cell whose stderr output is the lesson (none today)
NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
_EXERCISE = re.compile(r"\*\*Exercise (\d+) ·")
_COUNT = re.compile(r"\b(two|three|four|five|six) (?:\*\*)?exercises", re.I)


def _exercise_numbers(nb: nbformat.NotebookNode) -> list[int]:
    return [int(n) for c in nb.cells if c.cell_type == "markdown" for n in _EXERCISE.findall(c.source)]


def test_there_are_committed_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercises_are_numbered_in_reading_order_and_counted_right(path):
    nb = nbformat.read(path, as_version=4)
    numbers = _exercise_numbers(nb)
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: exercises in the order {numbers}"
    if numbers:
        opening = nb.cells[0].source
        counts = {m.lower() for m in _COUNT.findall(opening)}
        assert counts == {NUMBERS[len(numbers)]}, f"{path.name}: the opening counts {counts}, the text has {len(numbers)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_hold_no_junk(path):
    assert path.stat().st_size <= MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.2f} MB"
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, f"{path.name} saves widget state"
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            assert WIDGET not in out.get("data", {}), f"{path.name} cell {i}: a widget view (a headless progress bar?)"
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                assert STDERR_OK in cell.metadata.get("tags", []), f"{path.name} cell {i}: stderr {out['text'][:80]!r}"
            text = json.dumps({k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")}) + \
                str(out.get("text", ""))
            assert not re.search(r"https?://", text), f"{path.name} cell {i}: an output holds a URL"


def test_student_notebooks_keep_the_same_rules(tmp_path):
    build_student(NOTEBOOKS, tmp_path)
    for path in sorted(tmp_path.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert path.stat().st_size <= MAX_BYTES
        assert all(not c.get("outputs") for c in nb.cells), f"student {path.name} keeps outputs"
        assert _exercise_numbers(nb) == list(range(1, len(_exercise_numbers(nb)) + 1))
