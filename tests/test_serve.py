"""The preview server, driven over HTTP and its livereload websocket as a browser would."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
from pathlib import Path

import pytest
from conftest import SiteDir
from preview_server import ReloadListener, get, preview

from sitegen.serve import relevant

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


def _log(root: Path) -> list[str]:
    """What the preview printed (preview_server logs it beside the site)."""
    (log,) = root.parent.glob("serve-*.log")
    return log.read_text(encoding="utf-8").splitlines()


def test_the_terminal_shows_one_line_per_rebuild_and_no_request_noise(minimal: SiteDir) -> None:
    original = "content/2021/1.1-konsernihallinto.fi.md"
    with preview(minimal.root) as base:
        get(base + "fi/index.html")
        get(base + "sv/index.html")
        with pytest.raises(urllib.error.HTTPError):
            get(base + "favicon.ico")  # browsers ask for it: a 404 is no error of the editor's
        listener = ReloadListener(base)
        try:
            minimal.write(original, minimal.read(original) + "\nLisätty kappale.\n")
            listener.wait_for_reload()
        finally:
            listener.close()
        get(base + "fi/index.html")
    lines = _log(minimal.root)
    warnings = [line for line in lines if ": warning: " in line]
    others = [line for line in lines if ": warning: " not in line]
    assert len(warnings) == 4  # three missing translations, then the one the edit made stale
    assert len(others) == 3, lines
    assert re.fullmatch(r"Built: \d+ pages in \d+\.\d\d s; 0 errors, 3 warnings\.", others[0])
    assert others[1].startswith("Serving the preview (drafts included) on http://127.0.0.1:")
    assert re.fullmatch(r"Rebuilt after 1\.1-konsernihallinto\.fi\.md: \d+ pages in \d+\.\d\d s; "
                        r"0 errors, 4 warnings\.", others[2])
    assert lines.index(others[2]) == len(lines) - 1 and lines[-2] == warnings[-1]


def test_the_preview_words_a_stale_translation_as_check_does_with_its_line(minimal: SiteDir) -> None:
    original = "content/2021/1.1-konsernihallinto.fi.md"
    with preview(minimal.root) as base:
        listener = ReloadListener(base)
        try:
            minimal.write(original, minimal.read(original) + "\nLisätty kappale.\n")
            listener.wait_for_reload()
        finally:
            listener.close()
    checked = [line for line in minimal.run("check").lines if "has changed since" in line]
    assert checked == ["content/2021/1.1-konsernihallinto.sv.md:5: warning: the Finnish original has changed "
                       "since this translation; update it, then run 'python build.py translated "
                       "content/2021/1.1-konsernihallinto.sv.md'"]
    assert [line for line in _log(minimal.root) if "has changed since" in line] == checked


def test_the_status_carries_the_overlay_words_in_every_language(minimal: SiteDir) -> None:
    with preview(minimal.root) as base:
        status = json.loads(get(base + "_preview/status.json"))
    assert status["languages"]["sv"]["heading"] == "Webbplatsen kunde inte byggas"
    assert status["languages"]["fi"]["heading"] == "Sivuston rakentaminen epäonnistui"
    assert status["languages"]["sv"]["note"].startswith("Nedan visas den senaste fungerande versionen.")


def test_a_busy_port_is_wrong_usage_with_a_hint_not_a_bug(minimal: SiteDir) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = minimal.run("serve", "--port", str(port))
    assert run.code == 2
    assert run.err.strip() == (f"build.py serve: error: port {port} is taken (another preview or program is "
                               f"using it); choose another with --port, e.g. --port {port + 1}")
    assert not (minimal.root / ".preview").exists()  # nothing was built


def test_a_temporary_file_that_came_and_went_is_no_change(tmp_path: Path) -> None:
    kept = tmp_path / "2023"
    kept.mkdir()
    changed = [str(tmp_path / "sedAbC123"), str(tmp_path / "2.4-konsernihallinto.fi.md"), str(kept)]
    assert relevant(changed) == changed[1:]
