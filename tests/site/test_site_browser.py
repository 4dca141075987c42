"""The built website (`make site`) in a real browser: chapters, figures, links, search, screenshots.

Run with `make site-test` (builds the site first). It needs Debian's chromium at /usr/bin/chromium (or
$CHROMIUM) and the `docs` extra; `pytest tests` leaves it out (marker `browser`, deselected in addopts).
The site is served from a local http.server on a free port; nothing outside 127.0.0.1 is contacted.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import nbformat
import pytest
from helpers import ROOT

from labkit.course.notebooks import course_notebooks
from labkit.course.params import read_params

pytestmark = pytest.mark.browser

SITE = Path(os.environ.get("LABKIT_SITE_DIR", ROOT / "site"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOKS = course_notebooks()
SHOTS = SITE / "screenshots"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="module")
def base_url():
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site at {SITE}: run `make site` first")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is missing: install the docs extra (pip install -e '.[docs]')")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, base_url):
    """A page that records every failed or non-2xx request to the local server."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.bad_requests = []
    pg.on("response", lambda r: r.url.startswith(base_url) and r.status >= 400 and pg.bad_requests.append(f"{r.status} {r.url}"))
    pg.on("requestfailed", lambda r: r.url.startswith(base_url) and pg.bad_requests.append(f"failed {r.url}"))
    pg.console_errors = []
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    ctx.close()


def _figures(nb_path: Path) -> int:
    nb = nbformat.read(nb_path, as_version=4)
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _words(nb_path: Path, prose_only: bool) -> Counter:
    nb = nbformat.read(nb_path, as_version=4)
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown" or not prose_only)
    if prose_only:
        text = re.sub(r"`[^`]*`|\$[^$]*\$|\([^)]*\)\]?|https?://\S+", " ", text)  # code, math, link targets
    return Counter(w.lower() for w in re.findall(r"[A-Za-z]{6,}", text))


def distinctive_term(nb_path: Path) -> str:
    """The chapter's most frequent prose word that appears nowhere in any other chapter."""
    words = _words(nb_path, prose_only=True)
    others = set().union(*(_words(p, prose_only=False) for p in NOTEBOOKS if p != nb_path))
    own = sorted((-n, w) for w, n in words.items() if w not in others)
    assert own, f"{nb_path.name}: no word of its own to search for"
    return own[0][1]


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_renders_with_its_figures_header_and_math(page, base_url, nb_path):
    page.goto(f"{base_url}chapters/{nb_path.stem}.html", wait_until="load")
    body = page.inner_text("article")
    assert f"notebooks/{nb_path.name}" in body, "the page must say which notebook to open"
    for name in read_params(nb_path):
        assert name in body, f"parameter {name!r} missing from the chapter's parameter table"
    page.wait_for_function("[...document.images].every(i => i.complete)")
    images = page.eval_on_selector_all("article img", "els => els.map(e => [e.currentSrc, e.naturalWidth])")
    broken = [src for src, w in images if w == 0]
    assert not broken, f"broken images: {broken}"
    assert len(images) >= _figures(nb_path), f"{len(images)} images on the page, the notebook has {_figures(nb_path)} figures"
    if page.locator("article .math").count():
        page.wait_for_selector("article mjx-container", timeout=15_000)  # MathJax (bundled) typeset the equations
    assert not page.bad_requests, page.bad_requests
    assert not page.console_errors, page.console_errors


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.hrefs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.hrefs.append(a["href"])


def test_every_internal_link_resolves(base_url):
    """Crawl the site from the home page: every same-site link answers 200 and every #anchor exists."""
    todo, seen, pages, anchors, bad = [base_url + "index.html"], set(), {}, [], []
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url) as r:
                body = r.read()
        except urllib.error.HTTPError as e:
            bad.append(f"{e.code} {url}")
            continue
        if not url.endswith(".html"):
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        pages[url] = parser.ids
        for href in parser.hrefs:
            target, frag = urldefrag(urljoin(url, href))
            if not target.startswith(base_url):
                continue
            todo.append(target)
            if frag and target.endswith(".html"):
                anchors.append((url, target, frag))
    missing = [f"{src} → {t}#{f}" for src, t, f in anchors if t in pages and f not in pages[t]]
    assert not bad, f"internal links that do not resolve: {bad}"
    assert not missing, f"anchors that do not exist: {missing[:20]}"
    chapters = {f"{base_url}chapters/{p.stem}.html" for p in NOTEBOOKS}
    assert chapters <= set(pages), f"chapters not reachable from the home page: {chapters - set(pages)}"
    assert any("/api/" in u for u in pages), "the API reference is not reachable"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_search_finds_a_term_from_each_chapter(page, base_url, nb_path):
    term = distinctive_term(nb_path)
    page.goto(f"{base_url}search.html?q={term}", wait_until="load")
    page.wait_for_function("document.querySelector('#search-results')?.innerText.includes('Search finished')",
                           timeout=20_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    chapter = f"chapters/{nb_path.stem}.html"
    assert any(urlsplit(h).path.endswith(chapter) for h in hits), f"searching {term!r} did not find {chapter}: {hits}"


def test_screenshots_for_review(page, base_url):
    """Home page and the figure-richest chapter (header, first figure), at a laptop's viewport, into site/screenshots/."""
    SHOTS.mkdir(exist_ok=True)
    page.goto(base_url + "index.html", wait_until="load")
    page.screenshot(path=str(SHOTS / "home.png"))
    richest = max(NOTEBOOKS, key=_figures)
    page.goto(f"{base_url}chapters/{richest.stem}.html", wait_until="load")
    page.locator("article .admonition").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)  # the header: which notebook to open, its parameters
    page.screenshot(path=str(SHOTS / f"{richest.stem}_header.png"))
    page.locator("article .cell_output img").first.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{richest.stem}_figure.png"))
    shots = sorted(p.name for p in SHOTS.glob("*.png"))
    assert len(shots) >= 3 and all((SHOTS / s).stat().st_size > 10_000 for s in shots), shots
