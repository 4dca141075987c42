"""Build the course website into site/ (`make site`).

Why a staging folder: the committed notebooks stay untouched while each chapter page gains a header
(which notebook to open, how to run it, its parameters from `read_params`) and loses what a static
page cannot show (Jupyter widget models, CDN stylesheets). Pages, the course map and the CLI help are
generated from the checkout, so a new notebook appears on the site without editing anything here.
Nothing is executed and nothing is downloaded: the notebooks are rendered as committed.

    python tools/build_site.py [--out site] [--src _build/site-src]
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.course.notebooks import course_notebooks  # noqa: E402
from labkit.course.params import Param, read_params  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_EXTERNAL_LINK_TAG = re.compile(r"<link[^>]+href=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


_WRITTEN: set[Path] = set()


def write_if_changed(path: Path, data: str | bytes) -> None:
    """Write only when the content differs, so Sphinx rebuilds only pages that changed."""
    raw = data.encode() if isinstance(data, str) else data
    _WRITTEN.add(path.resolve())
    if path.exists() and path.read_bytes() == raw:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if m:
                return m.group(1).strip()
    return fallback


# ---------------------------------------------------------------- widgets → static text
def _progress_text(model_id: str, state: dict) -> str | None:
    """tqdm.notebook's bar (HBox of HTML, FloatProgress, HTML) as the text tqdm prints in a terminal."""
    box = state.get(model_id, {}).get("state", {})
    kids = [c.removeprefix("IPY_MODEL_") for c in box.get("children", [])]
    if box.get("_model_name") != "HBoxModel" or len(kids) != 3:
        return None
    left, bar, right = (state.get(k, {}).get("state", {}) for k in kids)
    if bar.get("_model_name") not in ("FloatProgressModel", "IntProgressModel"):
        return None
    value, top = float(bar.get("value", 0)), float(bar.get("max", 0) or 0)
    filled = int(round(20 * value / top)) if top else 0
    text = lambda s: html.unescape(_TAGS.sub("", s.get("value", ""))).strip()  # noqa: E731
    # tqdm's left label already ends with the percentage ("epoch 2/8: 100%")
    return f"{text(left)}|{'█' * filled}{' ' * (20 - filled)}| {text(right)}".strip()


def staticize_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Widgets → their final text (progress bars) or a note; drop stylesheets fetched from CDNs.

    A static page cannot run widget models: myst-nb would pull the widget manager from a CDN and
    still show nothing offline. tqdm bars keep their final state (from the saved widget state).
    """
    nb = copy.deepcopy(nb)
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                model = data.pop(WIDGET_VIEW).get("model_id", "")
                bar = _progress_text(model, state)
                if bar is not None:
                    out["data"] = {"text/plain": bar}
                else:
                    out["data"] = {"text/markdown": "*(An interactive widget: open the notebook in Jupyter to use it.)*"}
            if "text/html" in data:
                data["text/html"] = _EXTERNAL_LINK_TAG.sub("", data["text/html"])
    return nb


# ---------------------------------------------------------------- chapter header
def _cell_text(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def params_table(params: dict[str, Param]) -> str:
    rows = ["| parameter | type | default | meaning |", "|---|---|---|---|"]
    for p in params.values():
        rows.append(f"| `{p.name}` | `{_cell_text(p.type)}` | `{_cell_text(repr(p.default))}` | {_cell_text(p.help)} |")
    return "\n".join(rows)


def chapter_header(path: Path, params: dict[str, Param]) -> str:
    example = next((p for p in params.values() if p.name not in ("profile", "data_root", "seed")), None)
    override = f" -p {example.name} {json.dumps(example.default) if isinstance(example.default, str) else example.default}" if example else ""
    return (
        ":::{admonition} Open this chapter as a notebook\n:class: tip\n"
        f"Notebook **`notebooks/{path.name}`** — this page shows it as committed, executed by the quick profile.\n\n"
        f"- step through it: `.venv/bin/jupyter lab notebooks/{path.name}`\n"
        f"- run it headless: `labkit run {path.stem}{override}` → `runs/{path.stem}/`\n"
        f"- list its parameters: `labkit params {path.stem}`\n"
        ":::\n\n"
        f"**Parameters** (the first code cell, tagged `parameters`; set them with `-p NAME VALUE`):\n\n"
        f"{params_table(params)}\n"
    )


def chapter(path: Path) -> tuple[nbformat.NotebookNode, str]:
    nb = nbformat.read(path, as_version=4)
    header = nbformat.v4.new_markdown_cell(chapter_header(path, read_params(path)))
    header.metadata["tags"] = ["course-header"]
    nb = staticize_outputs(nb)
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_md + 1, header)  # right below the title, which becomes the page title
    for c in nb.cells:
        c.pop("id", None)
    nb.nbformat_minor = 4  # ids dropped: a header cell without one is then valid
    return nb, notebook_title(nb, path.stem)


# ---------------------------------------------------------------- generated pages
def readme_block(readme: str, heading: str) -> str:
    """The first fenced code block under a README heading (the two commands stay in one place)."""
    section = readme.split(heading, 1)[1] if heading in readme else ""
    m = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    return m.group(1).rstrip() if m else ""


def index_page(chapters: list[tuple[Path, str]], readme: str) -> str:
    intro = readme.split("\n\n")[1].strip() if "\n\n" in readme else ""
    rows = "\n".join(
        f"| {p.stem[:2]} | [{title.split('·', 1)[-1].strip()}](chapters/{p.stem}.ipynb) | `notebooks/{p.name}` |"
        for p, title in chapters
    )
    toc = "\n".join(f"chapters/{p.stem}" for p, _ in chapters)
    return f"""# Attention & memorability — a notebook course

{intro}

```{{image}} _static/course_map.png
:alt: Course map: the notebooks and which earlier notebook each builds on
:width: 100%
```

## The chapters

Each chapter is one Jupyter notebook, shown here as executed by the quick profile. Open the notebook to run
and change it; every page says which one and lists its parameters.

| # | chapter | notebook |
|---|---|---|
{rows}

## Two commands (fresh machine, Python 3.11)

```bash
{readme_block(readme, "## Two commands")}
```

Then `.venv/bin/jupyter lab` and open `notebooks/00_start_here.ipynb`. The website itself is built by
`make site` (into `site/`) and checked in a real browser by `make site-test`.

```{{toctree}}
:caption: Chapters
:maxdepth: 1
:hidden:

{toc}
```

```{{toctree}}
:caption: Using the course
:maxdepth: 2
:hidden:

running
teaching
```

```{{toctree}}
:caption: Reference
:maxdepth: 1
:hidden:

api
```
"""


def cli_help_page() -> str:
    from labkit.course.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    parts = ["# `labkit` command reference\n", "Generated from the command's own `--help`.\n",
             "```text\n" + parser.format_help().rstrip() + "\n```\n"]
    for name, p in sub.choices.items():
        parts.append(f"## `labkit {name}`\n\n```text\n{p.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


LAYERS = ["core", "data", "caffe", "models", "metrics", "train", "eval", "studies", "viz", "course"]


def labkit_modules() -> list[tuple[str, bool]]:
    """(module name, is a package) for every labkit module except ``__main__`` (importing it runs the CLI)."""
    import pkgutil

    import labkit

    found = [("labkit", True)]
    for info in pkgutil.walk_packages(labkit.__path__, "labkit."):
        if not info.name.endswith("__main__"):
            found.append((info.name, info.ispkg))
    return sorted(found)


def api_pages(src: Path) -> None:
    """One page per module (automodule), and the grouped index `api.md` includes."""
    modules = labkit_modules()
    for name, ispkg in modules:
        opts = "   :no-members:\n" if ispkg else "   :members:\n   :show-inheritance:\n"
        # Package pages keep to their docstring: their re-exports are documented where they are defined.
        page = f"{name}\n{'=' * len(name)}\n\n.. automodule:: {name}\n{opts}"
        write_if_changed(src / "api" / f"{name}.rst", page)
    layer = lambda n: n.split(".")[1] if n.count(".") else ""  # noqa: E731
    groups = [("", "the package")] + [(g, f"`labkit.{g}`") for g in LAYERS]
    groups += [(g, f"`labkit.{g}`") for g in sorted({layer(n) for n, _ in modules} - set(LAYERS) - {""})]
    out = []
    for key, label in groups:
        names = [n for n, _ in modules if layer(n) == key]
        if names:
            out.append(f"## {label}\n\n```{{eval-rst}}\n.. autosummary::\n\n" + "".join(f"   {n}\n" for n in names) + "```\n")
    toc = "".join(f"api/{n}\n" for n, _ in modules)
    out.append(f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}```\n")
    write_if_changed(src / "api_modules.md", "\n".join(out))


def course_map_png() -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    from labkit.viz.course import draw_course_map

    fig = draw_course_map()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def stage(src: Path) -> None:
    docs = ROOT / "docs"
    for f in docs.rglob("*"):
        if f.is_file() and "__pycache__" not in f.parts:
            write_if_changed(src / f.relative_to(docs), f.read_bytes())
    readme = (ROOT / "README.md").read_text()
    chapters = []
    for path in course_notebooks():
        nb, title = chapter(path)
        write_if_changed(src / "chapters" / f"{path.stem}.ipynb", nbformat.writes(nb))
        chapters.append((path, title))
    write_if_changed(src / "index.md", index_page(chapters, readme))
    write_if_changed(src / "cli.md", cli_help_page())
    api_pages(src)
    write_if_changed(src / "TEACHING.md", (ROOT / "notebooks" / "TEACHING.md").read_bytes())
    write_if_changed(src / "_static" / "course_map.png", course_map_png())
    for stale in [f for f in src.rglob("*") if f.is_file() and f.resolve() not in _WRITTEN]:
        stale.unlink()  # a removed notebook, module or page must not linger on the site


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "site")
    ap.add_argument("--src", type=Path, default=ROOT / "_build" / "site-src")
    ap.add_argument("--strict", action="store_true", help="fail on Sphinx warnings")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    stage(args.src)
    from sphinx.cmd.build import build_main

    opts = ["-b", "html", "-q", "-d", str(args.src.parent / "site-doctrees")]
    if args.strict:
        opts += ["-W", "--keep-going"]
    # Sphinx builds inside the staging folder's parent: myst-nb writes its figure files beside the
    # HTML folder (html/../jupyter_execute), which must not land in the repository root.
    html = args.src.parent / "site-html"
    rc = build_main([*opts, str(args.src), str(html)])
    if rc == 0:
        shutil.rmtree(args.out, ignore_errors=True)
        shutil.copytree(html, args.out, ignore=shutil.ignore_patterns(".doctrees", ".buildinfo"))
        print(f"site: {args.out}/index.html ({time.perf_counter() - t0:.0f} s)")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
