"""Nothing lost, nothing unsafe: what editors' tools really save is accepted as the same content,
whatever tries to smuggle script into a page is refused by check or removed by the sanitiser,
front-matter text is escaped everywhere, every page carries a strict Content-Security-Policy,
and `check` answers any front matter and any body with located one-line problems, never a crash."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SiteDir, copy_site
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sitegen import cli, validate
from sitegen.markup import to_html

ORIGINAL = "content/2021/1.1-konsernihallinto.fi.md"
TARGET = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"
FRONT = '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n---\n\n'
PROBLEM_LINE = re.compile(r"content/\S+(:\d+)?: (error|warning): .+")


@pytest.fixture(autouse=True)
def _no_search_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tiny sites here need no Pagefind index (the real-content tests below turn it back on)."""
    monkeypatch.setenv("SITEGEN_SEARCH", "0")


def tree(site: Path) -> dict[str, bytes]:
    """Every file of a built site: relative path → bytes."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def problem_lines(err: str) -> list[str]:
    """stderr without the summary line (which starts 'Built', 'Build failed' or 'Checked')."""
    return [line for line in err.split("\n")
            if line and not line.startswith(("Built ", "Build failed", "Checked "))]


def new_site(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> SiteDir:
    return SiteDir(copy_site("minimal", tmp_path / name), capsys)


# == accepted input ================================================================================


def _bom_crlf(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def _cr(text: str) -> bytes:
    return text.replace("\n", "\r").encode("utf-8")


def _bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode("utf-8")


@pytest.mark.parametrize("save", [_bom_crlf, _crlf, _cr, _bom], ids=["bom+crlf", "crlf", "cr", "bom"])
def test_windows_line_endings_and_bom_build_the_same_site(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          save) -> None:
    """Every content file saved as Notepad would (BOM, CRLF) gives the same pages, byte for byte,
    and the Swedish translation's recorded digest of its original still matches (no stale warning)."""
    plain, odd = new_site(tmp_path, capsys, "lf"), new_site(tmp_path, capsys, "odd")
    for path in sorted((odd.root / "content").rglob("*")):
        if path.is_file():
            path.write_bytes(save(path.read_text(encoding="utf-8")))
    assert (odd.root / ORIGINAL).read_bytes() != (plain.root / ORIGINAL).read_bytes()
    a, b = plain.run("build"), odd.run("build")
    assert (a.code, b.code) == (0, 0), b.err
    assert problem_lines(b.err) == problem_lines(a.err)
    assert not any("original has changed" in line for line in problem_lines(b.err))
    assert tree(odd.root / "site") == tree(plain.root / "site")


UNIT_NFC = "päätoimisto"
UNIT_NFD = unicodedata.normalize("NFD", UNIT_NFC)


def _umlaut_site(site: SiteDir, name_form: str, value_form: str) -> None:
    """Allow 'ä' in unit ids (a project-local schema.yaml), add unit 'päätoimisto' (NFC in
    units.yaml) and a response whose file name and `unit:` value use the given forms."""
    schema = (ROOT / "schema.yaml").read_text(encoding="utf-8")
    ascii_id = "pattern: '^[a-z0-9]+(-[a-z0-9]+)*$'"
    assert ascii_id in schema
    site.write("schema.yaml", schema.replace(ascii_id, "pattern: '^[a-z0-9äöå]+(-[a-z0-9äöå]+)*$'"))
    units = site.read("content/units.yaml")
    site.write("content/units.yaml", units.rstrip("\n") + "\n"
               f"  - id: {UNIT_NFC}\n"
               "    name: {fi: Päätoimisto, sv: Huvudkontoret}\n"
               "    slug: {fi: paatoimisto, sv: huvudkontoret}\n")
    unit_in_name = unicodedata.normalize(name_form, UNIT_NFC)
    unit_value = unicodedata.normalize(value_form, UNIT_NFC)
    site.write(f"content/2021/2.2-{unit_in_name}.fi.md",
               f'---\nsection: "2.2"\nunit: {unit_value}\n---\n\nPäätoimisto vastaa.\n')


@pytest.mark.parametrize("name_form,value_form", [("NFD", "NFD"), ("NFD", "NFC"), ("NFC", "NFD")])
def test_decomposed_umlauts_in_file_name_and_unit_resolve_to_the_same_unit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name_form: str, value_form: str) -> None:
    """macOS hands out file names in NFD and some editors type 'ä' as 'a' + U+0308: the file is
    still the response of unit 'päätoimisto', and the site is byte-identical to the all-NFC one."""
    reference, odd = new_site(tmp_path, capsys, "nfc"), new_site(tmp_path, capsys, "nfd")
    _umlaut_site(reference, "NFC", "NFC")
    _umlaut_site(odd, name_form, value_form)
    names = os.listdir(odd.root / "content" / "2021")
    assert any(UNIT_NFD in n for n in names) == (name_form == "NFD")  # the file system kept the form
    a, b = reference.run("build"), odd.run("build")
    assert a.code == 0, a.err
    assert b.code == 0, b.err
    assert problem_lines(b.err) == problem_lines(a.err)
    assert tree(odd.root / "site") == tree(reference.root / "site")
    page = odd.page("fi/2021/2.2/index.html")
    assert f'id="{UNIT_NFC}"' in page and "Päätoimisto vastaa." in page
    assert UNIT_NFD not in page


LEFTOVERS = [".#x.fi.md", "x.fi.md~", ".x.fi.md.swp", "#x.fi.md#", ".DS_Store", "~$x.fi.md",
             "2.2-konsernihallinto.fi.md~", ".2.2-konsernihallinto.fi.md.swp"]


def test_hidden_files_and_editor_leftovers_are_ignored(minimal: SiteDir) -> None:
    """Leftovers full of junk (not UTF-8, NUL bytes, broken YAML) change nothing: no problem, same site."""
    assert minimal.run("build").code == 0
    before = tree(minimal.root / "site")
    junk = b"\xff\xfe\0---\nsection: [\n\t: *x\n"
    for folder in ("content", "content/2021"):
        for name in LEFTOVERS:
            minimal.write(f"{folder}/{name}", junk)
    run = minimal.run("build")
    assert run.code == 0, run.err
    for name in LEFTOVERS:
        assert name not in run.err
    assert tree(minimal.root / "site") == before
    assert minimal.run("check").code == 0


def test_an_emacs_lock_file_is_ignored(minimal: SiteDir) -> None:
    """Emacs marks a file being edited with `.#name`, a symbolic link to 'user@host.pid:boot' that leads nowhere."""
    assert minimal.run("build").code == 0
    before = tree(minimal.root / "site")
    lock = minimal.root / "content" / "2021" / ".#2.2-tilapalvelut-liikelaitos.fi.md"
    lock.symlink_to("editor@host.4242:1700000000")
    assert minimal.run("check").code == 0
    run = minimal.run("build")
    assert run.code == 0, run.err
    assert tree(minimal.root / "site") == before


OUTSIDE_ERROR = "a symbolic link that leads outside content/ is not allowed"


@pytest.mark.parametrize("link", [TARGET, "content/2021", "content/units.yaml"])
def test_a_symlink_leading_outside_content_is_refused_with_its_path(minimal: SiteDir, tmp_path: Path,
                                                                    link: str) -> None:
    """Even a valid file (the very same bytes) is refused when reached through a link out of content/."""
    source = minimal.root / link
    outside = tmp_path / "elsewhere" / source.name
    outside.parent.mkdir()
    shutil.move(source, outside)
    source.symlink_to(os.path.relpath(outside, source.parent))
    run = minimal.run("check")
    assert run.code == 1
    assert f"{link}: error: {OUTSIDE_ERROR}" in run.errors
    assert "Traceback" not in run.err
    assert minimal.run("build").code == 1
    assert not (minimal.root / "site").exists()


def test_a_symlink_within_content_is_followed(minimal: SiteDir, tmp_path: Path, capsys) -> None:
    reference = SiteDir(copy_site("minimal", tmp_path / "reference"), capsys)
    expected = reference.run("build")
    assert expected.code == 0
    shared = minimal.root / "content" / ".shared" / "tilat.md"
    shared.parent.mkdir()
    shutil.move(minimal.root / TARGET, shared)
    (minimal.root / TARGET).symlink_to("../.shared/tilat.md")
    run = minimal.run("build")
    assert run.code == 0, run.err
    assert problem_lines(run.err) == problem_lines(expected.err)
    assert tree(minimal.root / "site") == tree(reference.root / "site")


def test_an_empty_content_folder_is_reported_not_built(minimal: SiteDir) -> None:
    """The overlay mechanism of tests/sites/invalid cannot delete files, so this case lives here."""
    assert minimal.run("build").code == 0
    before = tree(minimal.root / "site")
    shutil.rmtree(minimal.root / "content")
    (minimal.root / "content").mkdir()
    run = minimal.run("check")
    assert run.code == 1
    assert "content: error: no report years found: add a folder such as content/2022/ with a report.yaml" in run.errors
    for name in ("site.yaml", "units.yaml"):
        assert f"content/{name}: error: the file is missing" in run.errors
    assert all(re.fullmatch(r"content(/\S+)?(:\d+)?: error: .+", line) for line in problem_lines(run.err))
    run = minimal.run("build")
    assert run.code == 1 and run.err.strip().endswith("site/ was left as it was.")
    assert tree(minimal.root / "site") == before
    shutil.rmtree(minimal.root / "content")
    run = minimal.run("build")
    assert run.code == 1 and run.errors == [f"content: error: the content folder is missing: looked for "
                                            f"{minimal.root / 'content'}; run the command in the project folder, "
                                            "or name that folder with --root"]
    assert tree(minimal.root / "site") == before


@pytest.mark.parametrize("where", [TARGET, "content/units.yaml"])
def test_an_alias_bomb_is_refused_at_once(minimal: SiteDir, where: str) -> None:
    """Nine levels of nine aliases would expand to 9**9 strings; check refuses it in moments, not hours."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = "\n".join(lines) + "\n"
    text = minimal.read(where)
    if where.endswith(".md"):
        at = 4
        minimal.write(where, text.replace("---\n\n", bomb + "---\n\n", 1))
    else:
        at = text.count("\n") + 1
        minimal.write(where, text + bomb)
    started = time.perf_counter()
    run = minimal.run("check")
    assert time.perf_counter() - started < 5
    assert run.code == 1
    assert f"{where}:{at}: error: YAML anchors and aliases (& and *) are not allowed; write the value out" in run.errors
    assert all(line.startswith(f"{where}:") for line in run.errors), run.errors


@pytest.mark.parametrize("where,text,expected", [
    ("content/units.yaml", "units:\n\t- id: x\n",
     "content/units.yaml:2: error: the YAML contains a tab; indent with spaces"),
    ("content/2021/report.yaml", 'year: 2021\ntitle: "x\n',
     "content/2021/report.yaml:2: error: invalid YAML: the quote opened on this line is not closed"),
    ("content/site.yaml", "base_url: &u https://example.org/\nlanguages: *u\n",
     "content/site.yaml:1: error: YAML anchors and aliases (& and *) are not allowed; write the value out"),
], ids=["units-tab", "report-quote", "site-alias"])
def test_a_data_file_with_broken_yaml_gets_one_true_problem(minimal: SiteDir, where: str, text: str,
                                                            expected: str) -> None:
    minimal.write(where, text)
    run = minimal.run("check")
    assert run.code == 1
    assert [line for line in run.errors if line.startswith(where)] == [expected]


# == markup safety end to end ======================================================================

# Each body tries to get script, an event handler or a javascript:/data: URL into a page.
TRICKS = {
    "attr-list-onclick": "Teksti\n{: onclick=alert(1) }",
    "attr-list-inline": "*korostus*{: onmouseover=alert(1) }",
    "attr-list-href": "[espoo](https://www.espoo.fi){: href=javascript:alert(1) }",
    "attr-list-style": "Teksti\n{: style=background:url(javascript:alert(1)) }",
    "mixed-case-scheme": "[x](JaVaScRiPt:alert(1))",
    "scheme-with-spaces": "[x]( javascript:alert(1) )",
    "scheme-in-brackets": "[x](<javascript:alert(1)>)",
    "scheme-on-next-line": "[x](\njavascript:alert(1))",
    "img-onerror-in-list": "- kohta\n- toinen <img src=x onerror=alert(1)>",
    "img-tag-split-over-lines": "Kuva <img\nsrc=x onerror=alert(1)>",
    "entity-javascript": "[x](&#106;avascript:alert(1))",
    "entity-colon": "[x](javascript&#58;alert(1))",
    "hex-entity": "[x](&#x6A;&#x61;vascript:alert(1))",
    "tab-in-scheme": "[x](java&#9;script:alert(1))",
    "reference-link": "[x][r]\n\n[r]: javascript:alert(1)",
    "reference-link-angle": "[x][r]\n\n[r]: <javascript:alert(1)>",
    "reference-url-next-line": "[x][r]\n\n[r]:\n  javascript:alert(1)",
    "reference-in-blockquote": "> [x][r]\n>\n> [r]: javascript:alert(1)",
    "reference-in-list-item": "- [x][r]\n\n    [r]: javascript:alert(1)",
    "autolink": "<javascript:alert(1)>",
    "data-image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "data-link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript": "[x](vbscript:msgbox(1))",
    "script-tag": "<script>alert(1)</script>",
    "script-upper": "Teksti <SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "svg-onload": "<svg/onload=alert(1)>",
    "iframe": "<iframe src=javascript:alert(1)></iframe>",
    "html-comment-script": "<!-- --><script>alert(1)</script>",
    "raw-anchor": '<a href="javascript:alert(1)">x</a>',
    "title-quote-breakout": '[x](https://www.espoo.fi "a\\" onmouseover=\\"alert(1))',
    "image-title-breakout": "![x](https://www.espoo.fi/a.png 'b\" onerror=\"alert(1)')",
    "code-span-then-html": "`a` <img src=x onerror=alert(1)>",
}

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data", "background", "cite",
                  "xlink:href", "ping", "manifest"}
BAD_SCHEME = re.compile(r"^(javascript|data|vbscript):", re.I)


class Scan(HTMLParser):
    """Script elements, event-handler attributes and unsafe URLs in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value}>")
            # Browsers ignore ASCII whitespace and control characters inside a scheme.
            squeezed = re.sub(r"[\x00-\x20\x7f]", "", value or "")
            if name in URL_ATTRIBUTES and BAD_SCHEME.match(squeezed):
                self.found.append(f"<{tag} {name}={value}>")
            if name == "style" and "javascript:" in squeezed.lower():
                self.found.append(f"<{tag} style={value}>")

    handle_startendtag = handle_starttag


def scan(page: str) -> Scan:
    s = Scan()
    s.feed(page)
    s.close()
    return s


def assert_site_is_clean(site: Path, reference: Path) -> None:
    """No event handler or unsafe URL on any page, and exactly the scripts the templates put there."""
    pages = sorted(site.rglob("*.html"))
    assert pages
    for page in pages:
        rel = page.relative_to(site).as_posix()
        text = page.read_text(encoding="utf-8")
        found = scan(text)
        assert found.found == [], rel
        expected = scan((reference / rel).read_text(encoding="utf-8")).scripts if (reference / rel).is_file() else []
        assert found.scripts == expected, rel
        assert "alert(1)</script" not in text.lower(), rel


@pytest.fixture(scope="module")
def reference_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal site built as it is: the scripts its templates put on each page."""
    root = copy_site("minimal", tmp_path_factory.mktemp("reference") / "minimal")
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(io.StringIO()):
        mp.setenv("SITEGEN_SEARCH", "0")
        assert cli.main(["build", "--root", str(root)]) == 0
    return root / "site"


@pytest.mark.parametrize("body", list(TRICKS.values()), ids=list(TRICKS))
def test_every_trick_is_refused_at_its_line_or_kept_out_of_the_site(minimal: SiteDir, reference_site: Path,
                                                                  body: str) -> None:
    """Either check reports the trick at one of its lines, or the built pages carry none of it."""
    start = FRONT.count("\n") + 3  # "Tilat ovat kunnossa." and a blank line come first
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + body + "\n")
    lines = range(start, start + body.count("\n") + 1)
    run = minimal.run("build")
    assert "Traceback" not in run.err
    if run.code == 1:
        assert run.errors
        for line in run.errors:
            m = re.match(rf"{re.escape(TARGET)}:(\d+): error: ", line)
            assert m and int(m.group(1)) in lines, line
        assert not (minimal.root / "site").exists()
    else:
        assert run.code == 0, run.err
        assert_site_is_clean(minimal.root / "site", reference_site)
        assert "Tilat ovat kunnossa." in minimal.page("fi/2021/2.2/index.html")


# The sanitiser is the last line of defence, not the editor's only feedback: a trick that check let
# through would be silently cut from the page (a link losing its address, a tag vanishing).
# Quotes in a link title are only text: escaped in the attribute, nothing for check to report.
HARMLESS = {"title-quote-breakout", "image-title-breakout"}


@pytest.mark.parametrize("name", [name for name in TRICKS if name not in HARMLESS])
def test_check_reports_every_trick_the_sanitiser_would_strip(minimal: SiteDir, name: str) -> None:
    """Nothing is cut from a page without a located message from check."""
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + TRICKS[name] + "\n")
    run = minimal.run("check")
    assert run.code == 1
    assert any(line.startswith(f"{TARGET}:") for line in run.errors)


def test_one_bad_link_is_one_problem(minimal: SiteDir) -> None:
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n[x](<javascript:alert(1)>)\n")
    run = minimal.run("check")
    assert len(run.errors) == 1, run.errors


def test_the_sanitiser_alone_keeps_every_trick_out_of_the_site(minimal: SiteDir, reference_site: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With check_body and check_rendered accepting everything, the build succeeds and still publishes none of it."""
    monkeypatch.setattr(validate, "check_body", lambda r: ([], []))
    monkeypatch.setattr(validate, "check_rendered", lambda r: ([], None))
    bodies = "\n\n".join(TRICKS.values())
    minimal.write(TARGET, FRONT + "Tilat ovat kunnossa.\n\n" + bodies + "\n\nLoppu.\n")
    sv = TARGET.replace(".fi.md", ".sv.md")
    minimal.write(sv, '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n'
                  "translation_of: 2.2-tilapalvelut-liikelaitos.fi.md\n---\n\n" + bodies + "\n\nSlut.\n")
    run = minimal.run("build")
    assert run.code == 0, run.err
    assert_site_is_clean(minimal.root / "site", reference_site)
    fi, sv_page = minimal.page("fi/2021/2.2/index.html"), minimal.page("sv/2021/2.2/index.html")
    assert "Tilat ovat kunnossa." in fi and "Loppu." in fi and "Slut." in sv_page
    assert "Tilapalvelut-liikelaitos" in minimal.page("fi/2021/tilapalvelut-liikelaitos/index.html")


# == front-matter text is escaped everywhere ========================================================

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_names_and_titles_are_escaped_in_text_and_attributes(minimal: SiteDir, reference_site: Path) -> None:
    unit_fi, unit_sv = f"Tilat {SCRIPT}", f"Lokaler {BREAKOUT}"
    title_fi, title_sv = f"Tilat {BREAKOUT}", f"Lokaler {SCRIPT}"
    units = minimal.read("content/units.yaml")
    old_name = "name: {fi: Tilapalvelut-liikelaitos, sv: Affärsverket Esbo lokaler}"
    assert old_name in units
    minimal.write("content/units.yaml",
                  units.replace(old_name, f"name: {{fi: {_quoted(unit_fi)}, sv: {_quoted(unit_sv)}}}"))
    report = minimal.read("content/2021/report.yaml")
    old_title = "title: {fi: Tilat, sv: Lokaler}"
    assert old_title in report
    minimal.write("content/2021/report.yaml",
                  report.replace(old_title, f"title: {{fi: {_quoted(title_fi)}, sv: {_quoted(title_sv)}}}"))
    run = minimal.run("build")
    assert run.code == 0, run.err
    site = minimal.root / "site"
    assert_site_is_clean(site, reference_site)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert SCRIPT not in text and "<img src=x" not in text, page

    def where(rel: str, needle: str) -> set[str]:
        """The places in a page whose text or attribute value (entities decoded) holds `needle`."""
        places: set[str] = set()
        stack: list[str] = []

        class Places(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                a = dict(attrs)
                for name, value in attrs:
                    if value and needle in value:
                        places.add(f"{tag}[{a.get('name') or a.get('property') or ''}].{name}")
                if tag not in ("meta", "link", "br", "img", "input", "hr", "wbr", "source"):
                    stack.append(tag)

            def handle_endtag(self, tag: str) -> None:
                while tag in stack and stack.pop() != tag:
                    pass

            def handle_data(self, data: str) -> None:
                if needle in data and stack:
                    places.add(stack[-1])

        parser = Places(convert_charrefs=True)
        parser.feed(minimal.page(rel))
        parser.close()
        return places

    head = {"title", "meta[description].content", "meta[og:title].content", "meta[og:description].content"}
    for rel, needle in [("fi/2021/tilapalvelut-liikelaitos/index.html", unit_fi),
                        ("sv/2021/affarsverket-esbo-lokaler/index.html", unit_sv)]:
        places = where(rel, needle)
        assert {"title", "h1", "meta[description].content", "meta[og:title].content"} <= places, (rel, places)
    for rel, needle in [("fi/2021/2.2/index.html", unit_fi), ("sv/2021/2.2/index.html", unit_sv)]:
        assert "h2" in where(rel, needle) or "span" in where(rel, needle), rel
    for rel, needle in [("fi/2021/2.2/index.html", title_fi), ("sv/2021/2.2/index.html", title_sv)]:
        places = where(rel, needle)
        assert head | {"h1"} <= places, (rel, places)
    for rel, needle in [("fi/2021/index.html", title_fi), ("sv/2021/index.html", title_sv),
                        ("fi/2021/1.1.1/index.html", title_fi)]:
        assert where(rel, needle), rel  # the table of contents, the pager


# == Content-Security-Policy =======================================================================


def test_every_published_page_has_a_strict_content_security_policy(real: SiteDir,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEGEN_SEARCH", raising=False)  # publish exactly what `make build` would
    run = real.run("build")
    assert run.code == 0, run.err
    site = real.root / "site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30 and any("/404.html" in p.as_posix() for p in pages)

    class Head(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.policies: list[str] = []
            self.order: list[str] = []
            self.inline: list[str] = []
            self.handlers: list[str] = []
            self._script = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
                self.policies.append(a.get("content") or "")
                self.order.append("csp")
            if tag == "script":
                self.order.append("script")
                if not a.get("src"):
                    self.inline.append(str(a))
            if tag == "link" and "stylesheet" in (a.get("rel") or ""):
                self.order.append("style")
            self.handlers += [f"{tag} {n}" for n, _ in attrs if n.startswith("on")]

    for page in pages:
        rel = page.relative_to(site).as_posix()
        h = Head()
        h.feed(page.read_text(encoding="utf-8"))
        assert len(h.policies) == 1, rel
        directives = {d.split()[0]: d.split()[1:] for d in h.policies[0].split(";") if d.strip()}
        assert "'self'" in directives.get("script-src", []), (rel, h.policies[0])
        assert "'unsafe-inline'" not in directives["script-src"], rel
        assert "'unsafe-eval'" not in directives["script-src"], rel
        assert directives.get("default-src") == ["'none'"], rel
        assert h.order[0] == "csp", (rel, h.order)  # it governs every script and style after it
        assert h.inline == [], rel
        assert h.handlers == [], rel


# == any front matter, any body: check answers with located lines ==================================

SCHEMA_FIELDS = ["section", "unit", "weight", "updated", "draft", "translation_of", "source_digest", "reviewed"]
# Any text, line breaks included: a message that echoes a key or value must still be one line.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
SCALARS = st.one_of(
    TEXT, st.sampled_from(["2.2", "1.1", "tilapalvelut-liikelaitos", "konsernihallinto", "2022-10-15",
                           "2.2-tilapalvelut-liikelaitos.fi.md", "sha256:" + "0" * 64, "", "yes", "~", "ä\u0308"]),
    st.integers(min_value=-10**20, max_value=10**20), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.dates())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(TEXT, inner, max_size=4)), max_leaves=8)
KEYS = st.one_of(st.sampled_from(SCHEMA_FIELDS), TEXT)
# file name → (section, unit, the original it translates)
RESPONSE_NAMES = {
    "2.2-tilapalvelut-liikelaitos.fi.md": ("2.2", "tilapalvelut-liikelaitos", None),
    "1.1-konsernihallinto.sv.md": ("1.1", "konsernihallinto", "1.1-konsernihallinto.fi.md"),
    "2.2-tilapalvelut-liikelaitos.sv.md": ("2.2", "tilapalvelut-liikelaitos", "2.2-tilapalvelut-liikelaitos.fi.md"),
    "2.2-uusi.fi.md": ("2.2", "uusi", None),
}


@st.composite
def front_matter(draw: st.DrawFn, name: str) -> str:
    """The YAML between the '---' lines: right, nearly right, random fields or random text."""
    section, unit, original = RESPONSE_NAMES[name]
    mode = draw(st.sampled_from(["valid", "valid+junk", "random-fields", "random-text", "mangled"]))
    if mode == "random-text":
        # YAML-looking text, valid or not.
        return draw(st.text(st.sampled_from(list("abc-: \n\"'[]{},&*!|>#%@`?~.\\0123456789\täÄ\u200b\r")),
                            max_size=80))
    data: dict = {}
    if mode != "random-fields":
        data = {"section": section, "unit": unit}
        optional = {"weight": st.integers(0, 1000), "updated": st.sampled_from(["2022-10-15", "2024-02-29"]),
                    "draft": st.booleans()}
        if original:
            data["translation_of"] = original
            optional |= {"source_digest": st.just("sha256:" + "0" * 64), "reviewed": st.booleans()}
        data |= draw(st.fixed_dictionaries({}, optional=optional))
    if mode != "valid":
        data |= draw(st.dictionaries(KEYS, VALUES, min_size=1, max_size=6))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6) if data else ""
    if mode == "mangled":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["\t", "  ", ": ", "&a ", "*a", "!!str ", "'", '"', "[", "{",
                                                  "- ", "\u200b", "---", "? "])) + text[at:]
    return text


SAFE_PARTS = st.sampled_from([
    "Tilat ovat kunnossa.", "- kohta", "1. kohta", "> lainaus", "# Otsikko", "```", "    koodia", "`koodi`",
    "[", "]", "(", ")", "&", "&amp;", '"', "'", "*", "_", "**", "|", "|---|", "\\<", "{: lang=en }",
    "<https://espoo.fi>", "[r]: https://espoo.fi", "[x][r]", "[x](1.1-konsernihallinto.fi.md#a)",
    "[x](https://espoo.fi)", "[x](mailto:a@b.fi)", "[x](#a)", "ä\u0308", "ääkköset"])
RISKY_PARTS = st.one_of(TEXT, st.sampled_from([
    "~~~", "``", "[x]", "<", ">", "&#106;", "\\", "{: onclick=x }", "\t", "<b>", "<!--", "<javascript:x>",
    "[r]: javascript:x", "![kuva](x.png)", "[x](2.2-konsernihallinto.fi.md)", "[x](../2020/1.1-x.fi.md)",
    "[x](JavaScript:x)", "[x](data:x)", "[x]()", "](", "\u200b", "\ufeff", "[" * 30, "> " * 10]))


@st.composite
def markdown_body(draw: st.DrawFn) -> str:
    parts = draw(st.sampled_from([SAFE_PARTS, st.one_of(SAFE_PARTS, RISKY_PARTS)]))
    blocks = draw(st.lists(st.lists(parts, min_size=1, max_size=8).map(
        lambda ps: "".join(p if i % 2 else p + " " for i, p in enumerate(ps))), max_size=6))
    return draw(st.sampled_from(["\n\n", "\n"])).join(blocks)


def _check_in_process(root: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["check", "--root", str(root)])
    return code, err.getvalue()


@st.composite
def response_file(draw: st.DrawFn) -> tuple[str, str, str]:
    name = draw(st.sampled_from(sorted(RESPONSE_NAMES)))
    return name, draw(front_matter(name)), draw(markdown_body())


@pytest.mark.slow
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=response_file())
def test_check_answers_any_response_with_located_lines(tmp_path_factory: pytest.TempPathFactory,
                                                       response: tuple[str, str, str]) -> None:
    """Only two outcomes: exit 0, or exit 1 with every problem one located line. Never 3, never a traceback."""
    name, meta, body = response
    root = copy_site("minimal", tmp_path_factory.mktemp("prop") / "minimal")
    (root / "content" / "2021" / name).write_text(f"---\n{meta}\n---\n\n{body}\n", encoding="utf-8")
    code, err = _check_in_process(root)
    event(f"exit {code}")
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 1), err
    lines = problem_lines(err)
    bad = [line for line in lines if not PROBLEM_LINE.fullmatch(line)]
    assert bad == [], err
    assert (code == 1) == any(": error: " in line for line in lines), err
    if code == 0:  # what check accepts renders, and renders safe
        page = to_html(body, "2021")
        assert scan(page).found == [] and scan(page).scripts == [], page


@pytest.mark.parametrize("front,name", [
    ('section: "2.2"\nunit: tilapalvelut-liikelaitos\n"rivi\\nkaksi": 1\n', TARGET),
    ('section: "2.2"\nunit: tilapalvelut-liikelaitos\n"a\\nb": 1\n"a\\nb": 2\n', TARGET),
    ('section: "1.1"\nunit: konsernihallinto\ntranslation_of: "x\\ncontent: error: forged.md"\n',
     "content/2021/1.1-konsernihallinto.sv.md"),
], ids=["unknown-key", "duplicate-key", "translation-of-value"])
def test_a_line_break_in_a_key_or_value_stays_on_one_line(minimal: SiteDir, front: str, name: str) -> None:
    minimal.write(name, f"---\n{front}---\n\nTeksti.\n")
    run = minimal.run("check")
    assert run.code == 1
    for line in problem_lines(run.err):
        assert PROBLEM_LINE.fullmatch(line), line
