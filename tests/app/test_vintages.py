"""Every vintage and quarter the picker lists opens; unknown ones fall back with a notice."""

from __future__ import annotations

import re
from html import unescape

import pytest

PAGES = ["/", "/segments", "/platforms", "/defi", "/double-counting", "/platforms/Tether"]
_SELECT = r'<select name="{}" id="{}">(.*?)</select>'


def options(html: str, name: str) -> list[str]:
    """The non-empty option values of the picker's ``name`` select."""
    found = re.search(_SELECT.format(name, name), html, re.S)
    assert found, f"no {name} picker"
    return [v for v in re.findall(r'<option value="([^"]*)"', found.group(1)) if v]


def selected(html: str, name: str) -> str:
    found = re.search(_SELECT.format(name, name), html, re.S)
    assert found
    return re.search(r'<option value="([^"]*)" selected>', found.group(1)).group(1)


def notice(html: str) -> str:
    found = re.search(r'<div class="notice"[^>]*>(.*?)</div>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def test_every_listed_vintage_and_quarter_opens(client):
    """Each vintage the picker lists, with each quarter it then lists, answers 200."""
    vintages = options(client.get("/").text, "vintage")
    assert vintages, "the picker lists no vintage"
    opened = 0
    for v in vintages:
        r = client.get("/", params={"vintage": v})
        assert r.status_code == 200, (v, r.text[:300])
        assert notice(r.text) == "", f"listed vintage {v} needed a fallback"
        for p in options(r.text, "period"):
            r2 = client.get("/", params={"vintage": v, "period": p})
            assert r2.status_code == 200 and selected(r2.text, "period") == p, (v, p)
            assert notice(r2.text) == "", f"listed quarter {p} at {v} needed a fallback"
            opened += 1
    print(f"{len(vintages)} listed vintages, {opened} vintage x quarter pairs: all 200")


@pytest.mark.parametrize("path", PAGES)
def test_every_vintage_of_the_data_opens_on_every_page(client, path):
    """A vintage before any quarter had a size (2022-12-01) shows the first figures, noticed."""
    from lendscope.app.data import Data
    from tests.helpers import NO_DB

    d = Data(NO_DB)
    assert len(d.vintages) == 20
    for v in d.vintages:
        r = client.get(path, params={"vintage": str(v)})
        assert r.status_code == 200, (path, v)
        if v < d.data_vintages[0]:
            assert f"No quarter's size was known yet on {v}" in notice(r.text)


def test_issue_examples(client):
    assert client.get("/?period=2022Q4").status_code == 200
    r = client.get("/?vintage=2022-12-01")
    assert r.status_code == 200 and "first known" in notice(r.text)


def test_a_later_quarter_at_an_earlier_vintage_falls_back_to_the_nearest(client):
    r = client.get("/", params={"period": "2025Q3", "vintage": "2025-04-14"})
    assert r.status_code == 200
    assert selected(r.text, "period") == "2024Q4"
    assert "Q3 2025 has no data at vintage 2025-04-14" in notice(r.text)
    assert "nearest quarter with data, Q4 2024" in notice(r.text)
    # a gap quarter inside the data's range falls back too
    r = client.get("/segments", params={"period": "2022Q2"})
    assert r.status_code == 200 and "Q2 2022 has no data" in notice(r.text)


def test_outside_every_quarter_is_still_refused(client):
    r = client.get("/?period=1999Q1")
    assert r.status_code == 422


@pytest.mark.parametrize("path", ["/?period=1999Q1", "/platforms/nope", "/nope"])
def test_error_pages_keep_the_picker(client, path):
    r = client.get(path)
    assert r.status_code in (404, 422)
    assert options(r.text, "vintage") and options(r.text, "period")


def test_permalinks_and_menu_keep_period_and_vintage(client):
    r = client.get("/segments", params={"period": "2024Q4", "vintage": "2025-06-04"})
    assert r.status_code == 200
    link = re.search(r'<a href="([^"]+)" id="permalink"', r.text).group(1)
    assert unescape(link) == "/segments?period=2024Q4&vintage=2025-06-04"
    for href in ("/", "/platforms", "/defi", "/double-counting"):
        assert f'href="{href}?period=2024Q4&amp;vintage=2025-06-04"' in r.text
    assert (
        "/platforms/Tether?period=2024Q4&amp;vintage=2025-06-04"
        in client.get("/platforms", params={"period": "2024Q4", "vintage": "2025-06-04"}).text
    )
    # the latest view's permalink names the latest vintage and quarter explicitly
    r = client.get("/")
    link = unescape(re.search(r'<a href="([^"]+)" id="permalink"', r.text).group(1))
    assert re.fullmatch(r"/\?period=\d{4}Q[1-4]&vintage=\d{4}-\d{2}-\d{2}", link)
    assert client.get(link).status_code == 200
