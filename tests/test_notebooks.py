"""The committed notebooks: conventions hold, they are executed, and what they call exists in labkit."""

import ast
import importlib
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT

from labkit.course.notebooks import course_notebooks
from labkit.course.pairing import SYNC_COMMAND, first_difference, sync
from labkit.course.params import read_params

NOTEBOOKS = course_notebooks()
IDS = [nb.stem for nb in NOTEBOOKS]


def test_course_starts_with_00():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_follow_the_convention(path):
    params = read_params(path)
    assert params["profile"].default == "quick" and params["profile"].choices == ("quick", "full")
    assert params["data_root"].default is None and params["data_root"].type == "Optional[str]"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_notebook_is_executed_top_to_bottom(path):
    """Readers browsing the repository see figures: the committed copy must be a full, clean run."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: run it with `labkit run {path.stem} --inplace`"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error output"
    assert not any(c.metadata.get("tags") == ["injected-parameters"] for c in code), \
        f"{path.name} was committed with non-default parameters"


def _labkit_references(source: str) -> set[str]:
    """Dotted names reached from `import labkit` / `from labkit... import x` in one notebook's code."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    refs: set[str] = set()
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "labkit":
                    aliases[a.asname or a.name.split(".")[0]] = a.asname and a.name or "labkit"
                    refs.add(a.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "labkit":
            for a in node.names:
                refs.add(f"{node.module}.{a.name}")
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, cur = [], node
            while isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id in aliases:
                refs.add(".".join([aliases[cur.id], *reversed(chain)]))
    return refs


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_drift_check_catches_a_missing_name():
    refs = _labkit_references("import labkit\nfrom labkit.viz import course\nlabkit.no_such_thing()\ncourse.draw_course_map()")
    assert {"labkit.no_such_thing", "labkit.viz.course.draw_course_map"} <= refs
    assert not _resolves("labkit.no_such_thing") and _resolves("labkit.viz.course.draw_course_map")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_labkit_name_a_notebook_uses_exists(path):
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    missing = sorted(r for r in _labkit_references(source) if not _resolves(r))
    assert not missing, f"{path.name} uses names labkit does not have: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_equals_its_text_source(path):
    """The .py text source is what people review: the committed .ipynb must hold exactly its cells and tags."""
    problem = first_difference(path)
    assert problem is None, f"{problem}: run `{SYNC_COMMAND} {path.stem[:2]}` (then `labkit run {path.stem[:2]} --inplace`)"


def test_every_text_source_has_its_notebook():
    texts = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
    assert texts == set(IDS), f"text sources without a notebook (or the reverse): {texts ^ set(IDS)}"


def test_jupytext_pairs_the_course_notebooks():
    """JupyterLab saves both sides only if the repository's jupytext configuration pairs them."""
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    cfg = load_jupytext_configuration_file(find_jupytext_configuration_file(str(ROOT / "notebooks")))
    for nb in NOTEBOOKS:
        assert "py:percent" in str(cfg.default_formats(str(nb))), nb.name
    assert cfg.cell_metadata_filter == "tags,-all"


PARTS = [
    ("markdown", "# Title\n\nA paragraph with `code` and $\\alpha$.", ()),
    ("code", "from typing import Optional\n\nepochs: int = 3  # training epochs\ndata_root: Optional[str] = None  # x",
     ("parameters",)),
    ("code", "# NBVAL_CHECK_OUTPUT\nprint(round(0.123456, 3))", ()),
    ("code", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", ()),
    ("markdown", "Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", ()),
    ("code", "%timeit f(1)\n!echo hi", ("nbval-skip", "raises-exception")),
    ("code", "x = 1\n\n\ny = 2", ()),
]


def test_round_trip_keeps_tags_markers_and_solution_regions(tmp_path):
    import jupytext

    nb = nbformat.v4.new_notebook()
    new = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    for kind, src, tags in PARTS:
        nb.cells.append(new[kind](src, metadata={"tags": list(tags)} if tags else {}))
    text = jupytext.writes(nb, fmt="py:percent")
    back = jupytext.reads(text, fmt="py:percent")
    assert [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in back.cells] == PARTS


def _pair_in(tmp_path: Path, stem: str) -> Path:
    """A copy of one course notebook, its text source and the jupytext configuration, as in a fresh clone."""
    import shutil

    for name in (f"{stem}.ipynb", f"{stem}.py", "jupytext.toml"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / name)
    return tmp_path / f"{stem}.ipynb"


def _bump(path: Path) -> None:
    """Make ``path`` the newer side of the pair (jupytext's sync takes the inputs from the newer file)."""
    t = path.stat().st_mtime + 10
    os.utime(path, (t, t))


def test_an_edit_of_the_text_source_reaches_the_notebook_and_keeps_outputs(tmp_path):
    nb_path = _pair_in(tmp_path, "04_ram")
    text = nb_path.with_suffix(".py")
    before = nbformat.read(nb_path, as_version=4)
    i = next(k for k, c in enumerate(before.cells) if c.cell_type == "code" and c.outputs and "parameters" not in c.metadata.get("tags", []))
    first_line = before.cells[i].source.splitlines()[0]
    text.write_text(text.read_text().replace(first_line, first_line + "  # edited in the text source", 1))
    text.write_text(text.read_text().replace("# # 04", "# # 04 (edited)", 1))
    _bump(text)
    sync([nb_path])
    after = nbformat.read(nb_path, as_version=4)
    assert after.cells[i].source.splitlines()[0].endswith("# edited in the text source")
    assert after.cells[0].source.startswith("# 04 (edited)")
    assert after.cells[i].outputs == before.cells[i].outputs and after.cells[i].execution_count == before.cells[i].execution_count
    assert [c.id for c in after.cells] == [c.id for c in before.cells]
    assert first_difference(nb_path) is None


def test_an_edit_of_the_notebook_json_reaches_the_text_source(tmp_path):
    nb_path = _pair_in(tmp_path, "03_amnet")
    raw = json.loads(nb_path.read_text())
    md = next(c for c in raw["cells"] if c["cell_type"] == "markdown")
    md["source"] = [*md["source"], "\n", "A sentence added in JupyterLab."]
    nb_path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")
    _bump(nb_path)
    sync([nb_path])
    assert "# A sentence added in JupyterLab." in nb_path.with_suffix(".py").read_text()
    assert first_difference(nb_path) is None


def test_the_drift_check_names_the_cell_and_the_command(tmp_path):
    nb_path = _pair_in(tmp_path, "00_start_here")
    text = nb_path.with_suffix(".py")
    text.write_text(text.read_text() + "\n# %%\nprint('a new cell')\n")
    assert "has 12 cells" in first_difference(nb_path) or "differ at cell" in first_difference(nb_path)
    text.unlink()
    assert "has no text source" in first_difference(nb_path)


# Absolute paths of the machine that executed a notebook (its checkout, environment, home or temp folder).
MACHINE_PATH = re.compile(r"(?<![\w.])(/(home|root|work|tmp|Users|private|var/folders)/[^\s'\"]+|[A-Za-z]:\\\\|site-packages|\.venv/)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_outputs_hold_no_machine_paths(path):
    nb = nbformat.read(path, as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if not k.startswith("image/")]
            texts += [out.get("evalue", "")] + list(out.get("traceback", []))
            for t in texts:
                m = MACHINE_PATH.search(t if isinstance(t, str) else json.dumps(t))
                if m:
                    found.append(f"cell {i}: {m.group(0)[:80]}")
    assert not found, f"{path.name} outputs show paths of the machine that ran it: {found[:5]}"


def test_the_path_check_catches_a_path():
    assert MACHINE_PATH.search("weights loaded from /home/ana/course/.venv/lib/model.pt")
    assert MACHINE_PATH.search("table: /tmp/amnet_x1/sweep.md")
    assert not MACHINE_PATH.search("table: output_dir/sweep/sweep.md; ratio 1/tmp")
