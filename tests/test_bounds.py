"""No body can stall or crash a build (#13): what check accepts, build renders, and whatever the
renderer cannot render is that file's located error, in build and in the preview alike."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, SiteDir

from sitegen import links, markup, pipeline, safepath, serve, validate, write
from sitegen.load import ResponseFile

TARGET = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"
FRONT = '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n---\n\n'


@pytest.fixture(autouse=True)
def _no_search_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEGEN_SEARCH", "0")


@pytest.mark.parametrize("line", ["- - - - x", "1. 1. 1. 1. x", "> - > 1. x", "*\t-\t+\t1. x"])
def test_markers_on_one_line_count_as_nesting(line: str) -> None:
    assert validate._nesting(line) == 4


@pytest.mark.parametrize("line", ["* * *", "- - - -", "Tavoite 1. vaihe", "-1 astetta"])
def test_rules_and_text_are_not_nesting(line: str) -> None:
    assert validate._nesting(line) == 0


@pytest.mark.parametrize("body", ["- " * 1000 + "x\n", "1. " * 1000 + "x\n", "> " * 1000 + "x\n"])
def test_check_and_build_agree_on_compact_nesting(minimal: SiteDir, body: str) -> None:
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + body)
    for command in ("check", "build"):
        run = minimal.run(command)
        assert run.code == 1, command
        assert run.errors == [f"{TARGET}:8: error: block quotes or lists are nested 1000 levels deep; "
                              f"at most {validate.MAX_NESTING} are allowed"], command


def test_a_body_the_renderer_cannot_render_is_a_located_error(minimal: SiteDir,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Should validate ever let through what Python-Markdown recurses on too deeply: exit 1, located."""
    monkeypatch.setattr(validate, "MAX_NESTING", 10_000)
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + "- " * 1000 + "x\n")
    run = minimal.run("build")
    assert run.code == 1
    assert run.errors == [f"{TARGET}:8: error: {markup.TOO_COMPLEX}"]
    assert "Traceback" not in run.err and "internal error" not in run.err


def test_try_html_never_raises_and_recovers() -> None:
    assert markup.try_html("- " * 1000 + "x\n", "2021") is None
    assert markup.try_html("*Hyvä*", "2021") == "<p><em>Hyvä</em></p>"


def test_the_preview_survives_any_body_and_recovers(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "MAX_NESTING", 10_000)
    lines: list[str] = []
    preview = serve.Preview(pipeline.Project.at(minimal.root), "/", lines.append)
    assert preview.rebuild()
    good = minimal.read(TARGET)
    minimal.write(TARGET, FRONT + "- " * 1000 + "x\n")
    assert not preview.rebuild([TARGET])
    assert [str(p) for p in preview.problems if p.severity == "error"] == [f"{TARGET}:6: error: {markup.TOO_COMPLEX}"]
    minimal.write(TARGET, good)
    assert preview.rebuild([TARGET])
    assert preview.problems == []
    assert any(": failed in " in line and "keeps the last good site" in line for line in lines)


def _worst_cases() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    cases: dict[str, str] = bench.worst_cases()
    return cases


WORST = _worst_cases()


@pytest.mark.parametrize("label", sorted(WORST))
def test_the_benchmarked_worst_cases_are_just_inside_or_outside_the_limits(minimal: SiteDir, label: str) -> None:
    """bench/run.py times these: each '(accepted)' body passes check, each '(refused' one does not."""
    minimal.write(TARGET, FRONT + WORST[label] + "\n")
    run = minimal.run("check")
    assert run.code == (1 if "(refused" in label else 0), run.errors[:3]


@pytest.mark.parametrize(("limit", "unit"), [
    ("MAX_ESCAPES", "\\."), ("MAX_ENTITIES", "&amp;"), ("MAX_EMPHASIS", "*"), ("MAX_CODE_MARKS", "`"),
    ("MAX_BRACKETS", "["), ("MAX_ANGLES", "<"),
])
def test_each_paragraph_limit_is_exact(limit: str, unit: str) -> None:
    n = getattr(validate, limit)
    assert validate.check_bounds(_response("x " + unit * n + "\n\nx " + unit * n)) == []
    over = validate.check_bounds(_response("Alku.\n\nx " + unit * (n + 1) + "\n"))
    assert [p.line for p in over] == [3]
    assert over[0].message.startswith(f"the paragraph has more than {n} ")


def test_body_limits_are_exact() -> None:
    assert validate.check_bounds(_response("a\n" * (validate.MAX_LINES - 1) + "a")) == []
    assert "at most 5,000 are allowed" in validate.check_bounds(_response("a\n" * validate.MAX_LINES + "a"))[0].message
    para = "*" * 200 + "\n\n"
    ok = para * (validate.MAX_MARKUP // 200)
    assert validate.check_bounds(_response(ok)) == []
    assert "10,001 characters" in validate.check_bounds(_response(ok + "*"))[0].message


def _response(body: str) -> ResponseFile:
    return ResponseFile(path=TARGET, year="2021", lang="fi", name="2.2-tilapalvelut-liikelaitos.fi.md",
                        name_section="2.2", name_unit="tilapalvelut-liikelaitos", meta=None,  # type: ignore[arg-type]
                        body=body, body_line=1, digest="", file_digest="")


# -- output stays inside the output tree --------------------------------------------------------


def _own_templates(site: SiteDir) -> Path:
    shutil.copytree(ROOT / "templates", site.root / "templates")
    return site.root / "templates"


@pytest.mark.parametrize("key", ["search_slug", "statement_slug"])
def test_a_slug_in_strings_yaml_cannot_lead_outside_the_site(minimal: SiteDir, key: str) -> None:
    strings = _own_templates(minimal) / "strings.yaml"
    text = strings.read_text(encoding="utf-8")
    lines = text.split("\n")
    at = lines.index(f"{key}:") + 1
    lines[at] = "  fi: ../../../../PWNED-" + key
    strings.write_text("\n".join(lines), encoding="utf-8")
    run = minimal.run("build")
    assert run.code == 1
    assert run.errors == [f"templates/strings.yaml:{at + 1}: error: {key}.fi: '../../../../PWNED-{key}' is not a "
                          "slug: it names a folder of the site, so only a-z, 0-9 and single hyphens, e.g. haku"]
    assert not list(minimal.root.parent.parent.rglob("PWNED-*"))


def test_one_slug_pattern_for_schema_and_strings() -> None:
    schema = yaml.safe_load((ROOT / "schema.yaml").read_text(encoding="utf-8"))
    assert schema["$defs"]["slug"]["pattern"] == safepath.SLUG_PATTERN


@pytest.mark.parametrize("path", ["../x.html", "fi/../../x.html", "/etc/x", "fi//x.html", "fi/./x.html",
                                  "a\\..\\..\\x", "x\0.html", ""])
def test_the_writer_refuses_any_path_outside_its_tree(tmp_path: Path, path: str) -> None:
    site = tmp_path / "out" / "site"
    assert not write.is_tree_path(path)
    with pytest.raises(write.OutsideTree):
        write.tree_target(site, path)
    stats = write.publish(site, {path: "1", "fi/index.html": "2"},
                          [write.Page(path, b"x"), write.Page("fi/index.html", b"y")])
    assert [p.message for p in stats.problems] == ["refused: this output path would lead outside the site's folder"]
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the folder


def test_a_linked_folder_in_the_tree_cannot_take_a_page_elsewhere(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    draft = write.begin(tmp_path / "site")
    (draft.tmp / "fi").symlink_to(elsewhere)
    with pytest.raises(write.OutsideTree):
        write.put(draft, write.Page("fi/index.html", b"x"))
    assert list(elsewhere.iterdir()) == []
    assert write.is_tree_path("fi/2022/index.html") and write.is_tree_path("pagefind/")


def test_a_link_out_of_templates_static_is_refused_not_published(minimal: SiteDir, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0", encoding="utf-8")
    static = _own_templates(minimal) / "static"
    (static / "passwd").symlink_to(secret)
    (static / "inside.css").symlink_to(static.parent / "strings.yaml")  # a link within templates/ is fine
    run = minimal.run("build")
    assert run.code == 1
    assert run.errors == ["templates/static/passwd: error: a symbolic link that leads outside templates/ is not "
                          "allowed; copy the file in instead"]
    (static.parent / "partial.html").symlink_to(secret)  # a template Jinja could include: the same rule
    assert minimal.run("build").errors[0].startswith("templates/partial.html: error: a symbolic link that leads")
    (static.parent / "partial.html").unlink()
    assert not any(b"root:x:0:0" in p.read_bytes() for p in (minimal.root / ".builds").rglob("*") if p.is_file())
    (static / "passwd").unlink()
    assert minimal.run("build").code == 0
    assert (minimal.root / "site" / "static" / "inside.css").is_file()


# -- addresses in data files ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "http://www.espoo.fi/fi",
                                 "https://", "https:// x", "//evil.example"])
def test_footer_urls_in_strings_yaml_are_https(minimal: SiteDir, url: str) -> None:
    strings = _own_templates(minimal) / "strings.yaml"
    lines = strings.read_text(encoding="utf-8").split("\n")
    at = lines.index("footer_privacy_url:") + 2
    assert lines[at].startswith("  sv: ")
    lines[at] = f"  sv: {json.dumps(url)}"
    strings.write_text("\n".join(lines), encoding="utf-8")
    run = minimal.run("build")
    assert run.code == 1
    assert run.errors == [f"templates/strings.yaml:{at + 1}: error: footer_privacy_url.sv: {url!r} is not valid; "
                          "expected an https:// address, e.g. https://www.espoo.fi/fi"]


def test_one_https_pattern_for_schema_and_strings() -> None:
    schema = yaml.safe_load((ROOT / "schema.yaml").read_text(encoding="utf-8"))
    assert schema["$defs"]["https_url"]["pattern"] == links.HTTPS_URL_PATTERN
    for ok in ("https://www.espoo.fi", "https://www.espoo.fi/fi/palaute?x=1#y"):
        assert links.HTTPS_URL.match(ok)


# -- only regular files are read ----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("name", ["site.yaml", "units.yaml", "accessibility.yaml", "2021/report.yaml"])
def test_a_named_pipe_in_place_of_a_data_file_is_an_error_not_a_hang(minimal: SiteDir, name: str) -> None:
    path = minimal.root / "content" / name
    path.unlink()
    os.mkfifo(path)
    for command in ("check", "build"):
        run = subprocess.run([sys.executable, str(ROOT / "build.py"), command, "--root", str(minimal.root)],
                             capture_output=True, text=True, timeout=60, check=False,
                             env={**os.environ, "SITEGEN_SEARCH": "0"})
        assert run.returncode == 1, run.stderr
        assert f"content/{name}: error: this is a named pipe (FIFO), not an ordinary file: replace it with the " \
               "file itself" in run.stderr.splitlines()


# -- a symbolic-link loop, a full disk --------------------------------------------------------------


def test_a_symbolic_link_loop_in_content_is_a_located_error(minimal: SiteDir) -> None:
    year = minimal.root / "content" / "2021"
    (year / "a.fi.md").symlink_to(year / "b.fi.md")
    (year / "b.fi.md").symlink_to(year / "a.fi.md")
    (minimal.root / "content" / "loop").symlink_to(minimal.root / "content" / "loop")
    message = ("error: a symbolic link that leads round in a loop (to itself, or through other links back to it); "
               "remove it or point it at the file")
    for command in ("check", "build"):
        run = minimal.run(command)
        assert run.code == 1, run.err
        assert run.errors == [f"content/2021/a.fi.md: {message}", f"content/2021/b.fi.md: {message}",
                              f"content/loop: {message}"]


@pytest.mark.parametrize(("code", "advice"), [
    (errno.ENOSPC, "No space left on device; the disk is full: free some space, then build again"),
    (errno.EACCES, "Permission denied; no permission to write here: check who owns the folder, then build again"),
    (errno.EIO, "Input/output error; fix that, then build again"),
])
def test_a_full_disk_while_writing_is_reported_and_the_old_site_stays(minimal: SiteDir,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    code: int, advice: str) -> None:
    assert minimal.run("build").code == 0
    before = {p: p.read_bytes() for p in (minimal.root / "site").rglob("*") if p.is_file()}
    minimal.write(TARGET, minimal.read(TARGET).replace("Tilat ovat kunnossa.", "Uusi teksti."))

    real_open = open

    def full(path: object, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode in ("xb", "wb"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, mode, *args, **kwargs)  # type: ignore[call-overload]

    def no_space(path: object, *args: object) -> object:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(write, "open", full, raising=False)
    monkeypatch.setattr(Path, "write_bytes", no_space)  # the store's shards too
    run = minimal.run("build")
    assert run.code == 1
    [error] = run.errors
    assert re.fullmatch(rf"\.builds/site/[^:]+/index\.html: error: cannot write the site: {re.escape(advice)}", error)
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert {p: p.read_bytes() for p in (minimal.root / "site").rglob("*") if p.is_file()} == before
    monkeypatch.undo()
    assert minimal.run("build").code == 0
    assert "Uusi teksti." in minimal.page("fi/2021/2.2/index.html")


# -- the preview answers only its own host ------------------------------------------------------


def _get(app: Any, path: str, host: str | None = "127.0.0.1:8000") -> tuple[str, bytes]:
    status: list[str] = []
    environ = {"PATH_INFO": path, "SERVER_NAME": "127.0.0.1"} | ({"HTTP_HOST": host} if host is not None else {})
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    return status[0], body


@pytest.fixture
def built_preview(minimal: SiteDir) -> serve.Preview:
    preview = serve.Preview(pipeline.Project.at(minimal.root), "http://127.0.0.1:8000/", lambda line: None)
    assert preview.rebuild()
    return preview


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", None])
def test_the_preview_answers_its_own_host_names(built_preview: serve.Preview, host: str | None) -> None:
    status, body = _get(built_preview.app, "/fi/index.html", host)
    assert status == "200 OK" and b"<html" in body


@pytest.mark.parametrize("host", ["evil.example:8000", "evil.example", "127.0.0.1.evil.example", "[::2]:8000",
                                  "localhost.:8000"])
def test_the_preview_refuses_other_host_names_dns_rebinding(built_preview: serve.Preview, host: str) -> None:
    for path in ("/fi/index.html", "/_preview/status.json"):
        status, body = _get(built_preview.app, path, host)
        assert status == "403 Forbidden" and body == b"The preview answers only at 127.0.0.1, [::1], localhost."


def test_the_host_given_with_host_is_answered_too(built_preview: serve.Preview) -> None:
    built_preview.hosts.add(serve.host_name("192.168.1.5"))
    assert _get(built_preview.app, "/fi/index.html", "192.168.1.5:8000")[0] == "200 OK"
    assert serve.host_name("::1") == "[::1]" and serve.host_name("[::1]:80") == "[::1]"


@pytest.mark.parametrize("path", ["/%00", "/fi/%00/index.html", "/\0", "/" + "a" * 5000, "/fi/" + "b/" * 3000,
                                  "/%ff%fe"])
def test_odd_paths_are_not_found_never_a_server_error(built_preview: serve.Preview, path: str) -> None:
    assert _get(built_preview.app, path)[0] == "404 Not Found"


def test_the_websocket_accepts_only_pages_of_the_preview() -> None:
    from livereload.handlers import LiveReloadHandler
    from tornado.web import HTTPError

    original, prepare = LiveReloadHandler.check_origin, LiveReloadHandler.prepare
    try:
        serve.guard_websocket({"127.0.0.1", "localhost", "[::1]"})

        class Request:
            host = "127.0.0.1:8000"

        handler = type("H", (), {"request": Request()})()
        assert LiveReloadHandler.check_origin(handler, "http://127.0.0.1:8000")
        assert not LiveReloadHandler.check_origin(handler, "http://evil.example:8000")
        LiveReloadHandler.prepare(handler)  # the handshake goes on
        Request.host = "evil.example:8000"
        assert not LiveReloadHandler.check_origin(handler, "http://evil.example:8000")
        with pytest.raises(HTTPError) as refused:
            LiveReloadHandler.prepare(handler)
        assert refused.value.status_code == 403
    finally:
        LiveReloadHandler.check_origin = original  # type: ignore[method-assign]
        LiveReloadHandler.prepare = prepare  # type: ignore[method-assign]


# -- validation reads Markdown as the renderer does ---------------------------------------------


def test_validate_knows_the_renderers_escapes() -> None:
    assert sorted(validate.ESCAPED_CHARS) == sorted(markup.make_converter().ESCAPED_CHARS)


def test_the_escape_the_raw_html_message_recommends_is_accepted_and_shows_the_character(minimal: SiteDir) -> None:
    minimal.write(TARGET, FRONT + "Merkki \\<b> ja \\<https://x.fi> näkyvät.\n")
    assert minimal.run("build").code == 0
    assert "<p>Merkki &lt;b&gt; ja &lt;https://x.fi&gt; näkyvät.</p>" in minimal.page("fi/2021/2.2/index.html")


@pytest.mark.parametrize("body", ["Raaka <b>HTML</b>.", "Kenoviiva \\\\<b>x</b>.", "\\\\\\\\<i>x</i>"])
def test_raw_html_after_an_escaped_backslash_is_still_refused(minimal: SiteDir, body: str) -> None:
    minimal.write(TARGET, FRONT + body + "\n")
    run = minimal.run("check")
    assert run.code == 1 and "raw HTML" in run.errors[0]


@pytest.mark.parametrize(("body", "line", "message"), [
    ("Teksti *a*{:\tonclick=\"alert(1)\"}.", 8,
     "attribute 'onclick' is not allowed; only lang is, e.g. *Green Deal*{: lang=en }"),
    ("- kohta\n\n    [x](javascript:alert(1))", 10,
     "link 'javascript:alert(1)': the scheme 'javascript:' is not allowed; use http:, https:, mailto:, tel:"),
    ("```\n<b>lihava</b>", 9, "raw HTML ('<b…') is not allowed; write Markdown (to show a '<', write '\\<')"),
    ("~~~\n![i](data:image/png;base64,xx)", 9,
     "image 'data:image/png;base64,xx': the scheme 'data:' is not allowed; use http:, https:, mailto:, tel:"),
])
def test_validation_checks_what_the_renderer_makes(minimal: SiteDir, body: str, line: int, message: str) -> None:
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + body + "\n")
    for command in ("check", "build"):
        run = minimal.run(command)
        assert run.code == 1, command
        assert f"{TARGET}:{line}: error: {message}" in run.errors, run.errors


def test_a_lang_attribute_list_followed_by_a_brace_is_fine(minimal: SiteDir) -> None:
    minimal.write(TARGET, FRONT + "*Green Deal*{: lang=en } onclick=x} on sana.\n")
    assert minimal.run("build").code == 0
    page = minimal.page("fi/2021/2.2/index.html")
    assert '<em lang="en">Green Deal</em>' in page and "onclick=x" in page and "onclick=\"" not in page


def test_check_and_build_agree_on_what_the_renderer_cannot_render(minimal: SiteDir,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "MAX_NESTING", 10_000)
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + "- " * 1000 + "x\n")
    assert minimal.run("check").errors == [f"{TARGET}:8: error: {markup.TOO_COMPLEX}"]


def test_the_render_stage_reuses_the_html_validation_made(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    assert validate.rendered_key(_response("x"))[0] == "html"
    from sitegen import render
    assert validate.rendered_key(_response("x")) == render._html_key(("", "2021"))
    minimal.write(TARGET, FRONT + "Uusi *teksti*.\n")
    assert minimal.run("check").code == 0

    def no_markdown(*args: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(markup, "try_html", no_markdown)
    monkeypatch.setattr(markup, "to_html", no_markdown)
    assert minimal.run("build").code == 0
    assert "Uusi <em>teksti</em>." in minimal.page("fi/2021/2.2/index.html")
