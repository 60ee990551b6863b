"""The preview server, driven over HTTP and its livereload websocket as a browser would."""

from __future__ import annotations

import json

from conftest import SiteDir
from preview_server import ReloadListener, get, preview

FILE = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"


def test_an_edit_is_rebuilt_served_and_the_page_told_to_reload(minimal: SiteDir) -> None:
    with preview(minimal.root) as base:
        page = base + "fi/2021/2.2/index.html"
        assert "Tilat ovat kunnossa." in get(page)
        listener = ReloadListener(base)
        try:
            minimal.write(FILE, minimal.read(FILE).replace("Tilat ovat kunnossa.", "Tilat on korjattu."))
            assert listener.wait_for_reload()["command"] == "reload"
            html = get(page)
            assert "Tilat on korjattu." in html and "Tilat ovat kunnossa." not in html
        finally:
            listener.close()


def test_an_invalid_edit_shows_the_errors_over_the_last_good_site_until_fixed(minimal: SiteDir) -> None:
    with preview(minimal.root) as base:
        page = base + "fi/2021/2.2/index.html"
        listener = ReloadListener(base)
        try:
            good = minimal.read(FILE)
            minimal.write(FILE, good.replace("Tilat ovat kunnossa.", "Uusi teksti.").replace(
                "unit: tilapalvelut-liikelaitos", "unit: tilapalvelut-liikalaitos"))
            listener.wait_for_reload()
            status = json.loads(get(base + "_preview/status.json"))
            assert [line for line in status["problems"] if ": error: " in line] == [
                f"{FILE}:3: error: unit 'tilapalvelut-liikalaitos' is unknown; "
                "did you mean 'tilapalvelut-liikelaitos'?"]
            html = get(page)
            assert "Tilat ovat kunnossa." in html and "Uusi teksti." not in html  # the last good page
            assert "_preview/overlay.js" in html
            minimal.write(FILE, good)
            listener.wait_for_reload()
            assert json.loads(get(base + "_preview/status.json"))["problems"] == []
            assert "Tilat ovat kunnossa." in get(page)
        finally:
            listener.close()


def test_the_preview_never_writes_into_site(minimal: SiteDir) -> None:
    with preview(minimal.root) as base:
        assert get(base + "fi/index.html")
    assert not (minimal.root / "site").exists()
    assert (minimal.root / ".preview").is_symlink()
