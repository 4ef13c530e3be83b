"""Pages in a real browser: Playwright driving the system's Chromium, axe-core from web/node_modules
run inside each page (through the DevTools protocol, so the page's strict CSP stays on), and a check
that nothing is wider than the screen."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = 320, 1280
# Links the crawl does not follow: files to download and the JSON API, not pages.
NOT_PAGES = re.compile(r"(^/api/|\.(csv|svg|png|json|pdf|css|js|zip)$|/qr$|/download)")


def need_browser() -> None:
    """Skip where there is no browser; in CI its absence is a failure (.ci/run installs it)."""
    missing = [what for what, there in (("chromium", CHROMIUM), ("axe-core", AXE.exists())) if not there]
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright")
    if missing:
        if os.environ.get("CI"):
            raise RuntimeError(f"not installed: {', '.join(missing)}")
        pytest.skip(f"not installed: {', '.join(missing)}")


@asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    """One headless Chromium (the system's: Playwright downloads no browser here)."""
    from playwright.async_api import async_playwright

    need_browser()
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        try:
            yield browser
        finally:
            await browser.close()


def pattern(path: str) -> str:
    """A page's shape: ids and tokens stand for any, so each kind of page is checked once."""
    parts = urlsplit(path)
    segments = ["{id}" if s.isdigit() else "{token}" if len(s) > 20 else s for s in parts.path.split("/")]
    return "/".join(segments) + ("?" + re.sub(r"\d+", "{n}", parts.query) if parts.query else "")


@dataclass
class PageCheck:
    """Visits pages at a phone's and a desktop's width; collects what is wrong with them."""

    base: str
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    checked: list[str] = field(default_factory=list)

    async def check(self, page: object, label: str = "") -> None:
        """The page now shown: axe-core's violations and any overflow, at both widths."""
        from playwright.async_api import Page

        assert isinstance(page, Page)
        where = label or urlsplit(page.url).path
        if not await page.evaluate("typeof axe !== 'undefined'"):
            await page.evaluate(AXE.read_text())
        for width in (PHONE, DESKTOP):
            await page.set_viewport_size({"width": width, "height": 800 if width == PHONE else 900})
            wide = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if wide > 0:
                culprit = await page.evaluate(WIDEST)
                self.problems.append(f"{where} @{width}px: {wide}px too wide ({culprit})")
            found = await page.evaluate(RUN_AXE)
            self.problems.extend(f"{where} @{width}px: {v}" for v in found)
        self.checked.append(where)

    async def crawl(self, page: object, starts: Iterable[str], limit: int = 80) -> None:
        """Each start page and every page reachable by links from it (one of each shape)."""
        from playwright.async_api import Error, Page

        assert isinstance(page, Page)
        queue = list(starts)
        visited = 0
        while queue and visited < limit:
            url = urljoin(self.base, queue.pop(0))
            path = url[len(self.base) :] if url.startswith(self.base) else None
            if path is None or NOT_PAGES.search(urlsplit(path).path) or pattern(path) in self.seen:
                continue
            if "lang=" in urlsplit(path).query:  # the language switch: it would change every later page
                continue
            self.seen.add(pattern(path))
            try:
                response = await page.goto(url)
            except Error:  # a download, not a page
                continue
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            if response.status >= 500:
                self.problems.append(f"{path}: status {response.status}")
            visited += 1
            await self.check(page, pattern(path))
            hrefs = await page.eval_on_selector_all("a[href]", "as => as.map(a => a.href.split('#')[0])")
            queue.extend(h for h in hrefs if h.startswith(self.base))

    def report(self) -> str:
        pages = ", ".join(self.checked)
        found = "\n".join(self.problems)
        return f"{len(self.problems)} problems on {len(self.checked)} pages ({pages}):\n{found}"


RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => `${v.id} (${v.impact}): ${v.help} at ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""

# The element that sticks out furthest, to say where to look.
WIDEST = """() => {
  let worst = null, right = window.innerWidth;
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right > right + 0.5) { right = r.right; worst = e; }
  }
  if (!worst) return 'unknown';
  const name = typeof worst.className === 'string' ? worst.className.split(' ')[0] : '';
  const cls = name ? '.' + name : '';
  return `${worst.tagName.toLowerCase()}${cls} to ${Math.round(right)}px`;
}"""
