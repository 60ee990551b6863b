"""The preview in a real browser: an invalid edit shows the overlay with the located error
over the last good page, and a draft shows under its banner."""

from __future__ import annotations

import json
import time

import pytest
from conftest import SiteDir
from preview_server import get, preview

pytestmark = pytest.mark.browser
FILE = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"


def test_the_overlay_lists_the_error_over_the_last_good_page(page: object, minimal: SiteDir) -> None:
    with preview(minimal.root) as base:
        minimal.write(FILE, minimal.read(FILE).replace("unit: tilapalvelut-liikelaitos",
                                                       "unit: tilapalvelut-liikalaitos"))
        # (Playwright runs its own event loop here, so poll rather than listen to the websocket.)
        deadline = time.monotonic() + 20
        while not json.loads(get(base + "_preview/status.json"))["problems"]:
            assert time.monotonic() < deadline, "the rebuild never reported the error"
            time.sleep(0.05)
        page.goto(base + "fi/2021/2.2/index.html")
        overlay = page.locator(".preview-overlay")
        overlay.wait_for(timeout=10000)
        assert overlay.get_attribute("role") == "alert"
        assert "Sivuston rakentaminen epäonnistui" in overlay.inner_text()
        assert (f"{FILE}:3: error: unit 'tilapalvelut-liikalaitos' is unknown; "
                "did you mean 'tilapalvelut-liikelaitos'?") in overlay.inner_text()
        assert "Tilat ovat kunnossa." in page.locator("main").inner_text()


def test_a_draft_shows_in_the_preview_with_its_banner(page: object, minimal: SiteDir) -> None:
    minimal.write("content/2021/1.1.1-tilapalvelut-liikelaitos.fi.md",
                  '---\nsection: "1.1.1"\nunit: tilapalvelut-liikelaitos\ndraft: true\n---\n\nLuonnosteksti.\n')
    with preview(minimal.root) as base:
        page.goto(base + "fi/2021/1.1.1/index.html")
        assert page.locator(".draft-banner").inner_text() == "Luonnos – ei julkaistu"
        assert "Luonnosteksti." in page.locator("main").inner_text()
        assert page.locator(".preview-overlay").count() == 0


def test_the_overlay_speaks_swedish_on_a_swedish_page(page: object, minimal: SiteDir) -> None:
    with preview(minimal.root) as base:
        minimal.write(FILE, minimal.read(FILE).replace("unit: tilapalvelut-liikelaitos",
                                                       "unit: tilapalvelut-liikalaitos"))
        deadline = time.monotonic() + 20
        while not json.loads(get(base + "_preview/status.json"))["problems"]:
            assert time.monotonic() < deadline, "the rebuild never reported the error"
            time.sleep(0.05)
        page.goto(base + "sv/2021/2.2/index.html")
        overlay = page.locator(".preview-overlay")
        overlay.wait_for(timeout=10000)
        assert overlay.locator("h2").inner_text() == "Webbplatsen kunde inte byggas"
        assert "Rätta dessa fel så uppdateras sidan." in overlay.inner_text()
