"""The website's staging step (tools/build_site.py) without Sphinx: headers, widgets, generated pages."""

import re

import nbformat
import pytest
from helpers import ROOT, load_tool

from labkit.course.notebooks import course_notebooks
from labkit.course.params import read_params

build_site = load_tool("build_site")


def _tqdm_notebook() -> nbformat.NotebookNode:
    """A cell with a finished tqdm.notebook bar, one with another widget, one with a CDN stylesheet."""
    state = {
        "box": {"model_name": "HBoxModel", "state": {"_model_name": "HBoxModel",
                "children": ["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]}},
        "left": {"state": {"_model_name": "HTMLModel", "value": "epoch 2/8: 100%"}},
        "bar": {"state": {"_model_name": "FloatProgressModel", "value": 125.0, "max": 125.0}},
        "right": {"state": {"_model_name": "HTMLModel", "value": " 125/125 [00:07&lt;00:00, 16.85it/s]"}},
        "slider": {"state": {"_model_name": "FloatSliderModel", "value": 0.0}},
    }
    view = "application/vnd.jupyter.widget-view+json"
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    cell = nbformat.v4.new_code_cell("train()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", {view: {"model_id": "box"}, "text/plain": "epoch 2/8: 0%| | 0/125"}),
        nbformat.v4.new_output("display_data", {view: {"model_id": "slider"}, "text/plain": "interactive(...)"}),
        nbformat.v4.new_output("display_data", {"text/html": '<link rel="stylesheet"\nhref="https://cdn.example/fa.css">\n<p>anim</p>'}),
    ]
    nb.cells.append(cell)
    return nb


def test_widgets_become_their_final_text_and_cdn_stylesheets_go():
    nb = build_site.staticize_outputs(_tqdm_notebook())
    bar, other, anim = nb.cells[0].outputs
    assert bar.data == {"text/plain": "epoch 2/8: 100%|" + "█" * 20 + "| 125/125 [00:07<00:00, 16.85it/s]"}
    assert "open the notebook in Jupyter" in other.data["text/markdown"]
    assert anim.data["text/html"] == "<p>anim</p>"
    assert "widgets" not in nb.metadata  # myst-nb would otherwise load the widget manager from a CDN


def test_half_finished_bar_is_drawn_half_full():
    nb = _tqdm_notebook()
    nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]["bar"]["state"]["value"] = 62.5
    text = build_site.staticize_outputs(nb).cells[0].outputs[0].data["text/plain"]
    assert "|" + "█" * 10 + " " * 10 + "|" in text


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.stem)
def test_chapter_says_which_notebook_and_lists_every_parameter(path):
    nb, title = build_site.chapter(path)
    header = next(c.source for c in nb.cells if "course-header" in c.metadata.get("tags", []))
    assert f"notebooks/{path.name}" in header and f"labkit run {path.stem}" in header
    rows = [r for r in header.splitlines() if r.startswith("| `")]
    assert [re.match(r"\| `(\w+)`", r).group(1) for r in rows] == list(read_params(path))
    assert all(r.count(" | ") == 3 for r in rows), "a '|' in a help text must be escaped, not split the row"
    assert title.startswith(path.stem[:2])
    nbformat.validate(nb)


def test_home_page_lists_chapters_in_order_with_the_readme_commands():
    chapters = [(p, p.stem) for p in course_notebooks()]
    readme = (ROOT / "README.md").read_text()
    page = build_site.index_page(chapters, readme)
    links = re.findall(r"\(chapters/(\w+)\.ipynb\)", page)
    assert links == [p.stem for p in course_notebooks()]
    assert "make course" in page and "make test" in page


def test_api_pages_cover_every_module_but_never_import_main():
    names = [n for n, _ in build_site.labkit_modules()]
    assert "labkit.__main__" not in names  # importing it would run the CLI
    assert {"labkit", "labkit.core.env", "labkit.course.params", "labkit.train"} <= set(names)
