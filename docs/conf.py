"""Sphinx configuration of the course website (`make site`).

`tools/build_site.py` copies this folder into a staging folder, adds one page per course notebook
(with a header saying which notebook to open and its parameters) and runs Sphinx on it. Notebooks are
rendered as committed (executed by the quick profile): myst-nb never runs them here.
"""

from __future__ import annotations

project = "Attention & memorability — a notebook course"
author = "the course authors"
copyright = "the course authors (code: MIT)"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax from a PyPI package: the site needs no CDN
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_static_path = ["_static"]
html_css_files = ["course.css"]

# Notebooks: render what is committed, never execute.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header", "misc.highlighting_failure"]

# API reference from docstrings.
autosummary_generate = False  # tools/build_site.py writes the module pages (labkit.__main__ must not be imported)
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
add_module_names = False

html_theme = "sphinx_book_theme"
html_title = "Attention & memorability"
html_theme_options = {
    "use_download_button": True,  # each chapter page offers its .ipynb
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the download button needs the .ipynb next to the page
