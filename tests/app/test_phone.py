"""No page scrolls sideways: every page in Chromium at a phone's and a desktop's width.

Screenshots go to ``$LENDSCOPE_ARTIFACTS`` (default ``build/screenshots``, git-ignored), outside
the source tree; their paths are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "overview": "/",
    "overview_2022q4": "/?period=2022Q4",
    "segments": "/segments",
    "platforms": "/platforms",
    "platform_tether": "/platforms/Tether",
    "platform_group": "/platforms/Galaxy%2BLedn",
    "defi": "/defi",
    "double_counting": "/double-counting",
    "methodology": "/methodology",
    "downloads": "/downloads",
    "old_vintage": "/?vintage=2022-12-01",
    "error": "/?period=1999Q1",
    "stress": "/stress-test",
}
try:  # every page of the menu, whichever router adds it
    from lendscope.app.factory import NAV

    PAGES |= {
        href.strip("/").replace("-", "_") or "home": href
        for _, href in NAV
        if href not in PAGES.values()
    }
except ImportError:  # pragma: no cover
    pass
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


def shots_dir() -> Path:
    """Where screenshots go: ``$LENDSCOPE_ARTIFACTS`` or ``build/screenshots``."""
    d = Path(os.environ.get("LENDSCOPE_ARTIFACTS") or ROOT / "build" / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(params=list(SIZES))
def sized(request, browser, base_url) -> Iterator:
    w, h = SIZES[request.param]
    ctx = browser.new_context(base_url=base_url, viewport={"width": w, "height": h})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text  # the 422 page
            else None
        ),
    )
    pg.errors = errors
    pg.size_name = request.param
    yield pg
    ctx.close()


def _charts_drawn(page) -> None:
    for el in page.locator(".vega[data-chart]").all():
        el.locator("svg").first.wait_for(state="attached", timeout=20_000)


def test_no_page_scrolls_sideways(sized):
    """document.documentElement.scrollWidth <= innerWidth on every page, phone and desktop."""
    wide = {}
    out = shots_dir()
    for name, path in PAGES.items():
        resp = sized.goto(path, wait_until="networkidle")
        assert resp is not None and resp.status < 500
        _charts_drawn(sized)
        sw, iw = sized.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if sw > iw:
            wide[path] = sw
        shot = out / f"{sized.size_name}-{name}.png"
        sized.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot} (scrollWidth {sw}, innerWidth {iw})")
    assert wide == {}, f"pages wider than {sized.size_name} viewport: {wide}"
    assert sized.errors == []


def test_dark_mode_uses_dark_colours(browser, base_url):
    """prefers-color-scheme: dark gives a dark page and charts drawn in light ink."""
    ctx = browser.new_context(
        base_url=base_url, color_scheme="dark", viewport={"width": 390, "height": 844}
    )
    pg = ctx.new_page()
    try:
        pg.goto("/", wait_until="networkidle")
        _charts_drawn(pg)
        bg = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(21, 23, 26)"
        label = pg.locator("#chart-size_by_segment svg text").first
        assert label.evaluate("e => getComputedStyle(e).fill") != "rgb(0, 0, 0)"
        shot = shots_dir() / "phone-dark-overview.png"
        pg.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    finally:
        ctx.close()
