"""The built documentation and the results report, as a reader's browser sees them.

Run by ``.ci/run`` after ``make docs`` and ``make run`` (``pytest -m browser tests/browser``);
``make test`` deselects the ``browser`` marker, so it needs no browser. Every HTML file of both
sites is checked for broken internal links, anchors and images; a sample of pages is opened in
headless Chromium (Debian's ``chromium``, driven by playwright without any browser download),
which must log no console error, raise no page error, fail no request and ask for nothing off
the machine. Screenshots of the home page and a case page go to ``docs/_build/screenshots``.

Paths can be moved with ``EVALMODEL_DOCS_HTML``, ``EVALMODEL_RESULTS`` and ``CHROMIUM``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOCS = Path(os.environ.get("EVALMODEL_DOCS_HTML", ROOT / "docs" / "_build" / "html"))
RESULTS = Path(os.environ.get("EVALMODEL_RESULTS", ROOT / "results"))
SHOTS = DOCS.parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Pages opened in the browser (relative to their site); the link check covers every page.
DOC_PAGES = ("index.html", "quickstart.html", "methods/sdid.html", "data/index.html",
             "cases/trelleborg.html", "cases/lindangen.html", "api/index.html")
CASE_PAGE = "cases/trelleborg.html"


# -- static checks: every link, anchor and image of every page ------------------------------------

@dataclass
class Page:
    """The ids a page defines and the local URLs it uses."""

    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, str]] = field(default_factory=list)  # (tag.attr, url)
    base: str | None = None  # <base href>, against which relative URLs resolve


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if tag == "base" and "href" in a:
            self.page.base = a["href"]
        for key in ("id", "name") if tag == "a" else ("id",):
            if key in a:
                self.page.ids.add(a[key])
        for attr in ("href", "src"):
            if attr in a and tag in {"a", "img", "link", "script", "source", "iframe"}:
                self.page.links.append((f"{tag}.{attr}", a[attr]))


def parse(path: Path) -> Page:
    """Parse one HTML file."""
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector.page


def broken_links(site: Path) -> list[str]:
    """Every local link, anchor or image of ``site`` that does not resolve, as messages."""
    # _static holds the theme's assets (including template fragments), not pages.
    pages = {p: parse(p) for p in sorted(site.rglob("*.html"))
             if "_static" not in p.relative_to(site).parts}
    problems = []
    for path, page in pages.items():
        for where, url in page.links:
            parts = urlsplit(url)
            if parts.scheme in {"http", "https", "mailto", "data", "javascript"} or \
                    url.startswith("//"):
                continue
            folder = path.parent / (page.base or "")
            if not parts.path:
                target = folder.resolve() if page.base else path
            else:
                target = (folder / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            name = f"{path.relative_to(site)}: {where}={url!r}"
            if not target.is_file():
                problems.append(f"{name} -> missing file")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{name} -> no element with id {parts.fragment!r}")
    return problems


def test_docs_site_has_no_broken_internal_links() -> None:
    assert (DOCS / "index.html").is_file(), f"no built docs in {DOCS}: run `make docs` first"
    problems = broken_links(DOCS)
    assert not problems, "\n".join(problems[:40])


def test_results_report_has_no_broken_internal_links() -> None:
    assert (RESULTS / "index.html").is_file(), f"no report in {RESULTS}: run `make run` first"
    problems = broken_links(RESULTS)
    assert not problems, "\n".join(problems[:40])


# -- the browser ----------------------------------------------------------------------------------

def chromium_path() -> str:
    """Debian's chromium (or ``$CHROMIUM``); the test fails, not skips, without it."""
    for cand in (os.environ.get("CHROMIUM"), shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand:
            return cand
    pytest.fail("no chromium: install Debian's package (apt-get install -y chromium), as "
                ".ci/run does, or point $CHROMIUM at a Chromium binary")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A headless Chromium with a fresh profile; every request off the machine is refused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        context.route(lambda url: not url.startswith("file://"), lambda route: route.abort())
        yield context
        context.close()


@dataclass
class Visit:
    """What happened while one page loaded."""

    console_errors: list[str]
    page_errors: list[str]
    failed_requests: list[str]
    broken_images: list[str]

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed_requests,
                *(f"broken image {src}" for src in self.broken_images)]


_BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(img => !img.complete || img.naturalWidth === 0)
    .map(img => img.currentSrc || img.src)"""


def visit(context: object, path: Path, screenshot: Path | None = None) -> Visit:
    """Open ``path``, let it settle, collect errors, and optionally save a screenshot."""
    page = context.new_page()  # type: ignore[attr-defined]
    console: list[str] = []
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: console.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: failed.append(f"request failed: {r.url} ({r.failure})"))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # late scripts (MathJax typesetting, theme) report here
    broken = page.evaluate(_BROKEN_IMAGES)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=False)
    page.close()
    return Visit(console, errors, failed, list(broken))


@pytest.mark.parametrize("rel", DOC_PAGES)
def test_docs_page_loads_cleanly(browser: object, rel: str) -> None:
    path = DOCS / rel
    assert path.is_file(), f"{path} is missing: run `make docs` first"
    shot = {"index.html": SHOTS / "home.png", CASE_PAGE: SHOTS / "case-trelleborg.png"}.get(rel)
    result = visit(browser, path, screenshot=shot)
    assert not result.problems(), "\n".join(result.problems())
    if shot is not None:
        assert shot.stat().st_size > 10_000  # a real rendering, not a blank page


def test_results_report_loads_cleanly(browser: object) -> None:
    index = RESULTS / "index.html"
    assert index.is_file(), f"{index} is missing: run `make run` first"
    pages = [index, *sorted(RESULTS.glob("*/index.html"))]
    problems = []
    for i, path in enumerate(pages):
        shot = SHOTS / "results.png" if i == 0 else None
        problems += [f"{path.relative_to(RESULTS)}: {p}"
                     for p in visit(browser, path, screenshot=shot).problems()]
    assert not problems, "\n".join(problems)
