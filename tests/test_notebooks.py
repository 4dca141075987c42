"""The committed notebooks: conventions hold, they are executed, and what they call exists in labkit."""

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit.course.notebooks import course_notebooks
from labkit.course.params import read_params

ROOT = Path(__file__).resolve().parents[1]
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


BUILDERS = sorted((ROOT / "tools").glob("build_notebook_*.py"))


@pytest.mark.parametrize("builder", BUILDERS, ids=[b.stem for b in BUILDERS])
def test_builder_writes_the_committed_notebooks_cells(builder, tmp_path):
    """A notebook edited by hand and its builder must not drift apart: same cells, same sources, same tags."""
    r = subprocess.run([sys.executable, str(builder)], env={**os.environ, "NBBUILD_OUT": str(tmp_path)},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    (built,) = tmp_path.glob("*.ipynb")
    committed = ROOT / "notebooks" / built.name
    cells = lambda p: [(c.id, c.cell_type, c.source, c.metadata.get("tags", [])) for c in nbformat.read(p, 4).cells]  # noqa: E731
    want, got = cells(committed), cells(built)
    diff = next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), min(len(want), len(got)))
    assert got == want, (f"{builder.name} and notebooks/{built.name} differ from cell {diff} on: rebuild with "
                         f"`python {builder.relative_to(ROOT)}` then `labkit run {built.stem[:2]} --inplace`")
