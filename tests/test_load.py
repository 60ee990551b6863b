"""load: bytes become text (UTF-8, NFC, LF), front matter becomes YAML with the line of every
key, and whatever cannot be read is a located problem, never an exception."""

from __future__ import annotations

import os
import time
import unicodedata
from pathlib import Path

import pytest
from conftest import SiteDir
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sitegen import load as load_module
from sitegen.cache import Cache
from sitegen.load import MAX_FILE_BYTES, ResponseFile, load, parse_yaml, split_front_matter

FILE = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"
HEAD = '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n---\n\n'


def problems_in(site: SiteDir, path: str = FILE) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in load(site.root).problems if p.path == path]


def response(site: SiteDir, path: str = FILE) -> ResponseFile:
    return next(r for r in load(site.root).responses if r.path == path)


# -- front matter and lines ------------------------------------------------------------


def test_front_matter_is_split_from_the_body_which_starts_after_the_blank_lines() -> None:
    problems: list = []
    assert split_front_matter("---\na: 1\n---\n\n\nText\nmore\n", "x.md", problems) == ("a: 1", "Text\nmore\n", 6)
    assert split_front_matter("---\na: 1\n...\nText", "x.md", problems) == ("a: 1", "Text", 4)
    assert problems == []


def test_a_loaded_body_knows_the_file_line_it_starts_on(minimal: SiteDir) -> None:
    r = response(minimal, "content/2021/1.1-konsernihallinto.sv.md")
    assert r.body_line == 9
    text = (minimal.root / r.path).read_text(encoding="utf-8")
    assert text.split("\n")[r.body_line - 1] == r.body.split("\n")[0]


def test_an_empty_body_is_placed_on_a_line_that_exists() -> None:
    text = "---\na: 1\n---\n"
    split = split_front_matter(text, "x.md", [])
    assert split is not None and split[1] == ""
    assert split[2] <= text.count("\n") + 1


@pytest.mark.parametrize(("text", "message"), [
    ("Text\n", "the file must start with front matter"),
    ("---\na: 1\n\nText\n", "the front matter is not closed"),
])
def test_missing_fences_are_problems_on_line_1(text: str, message: str) -> None:
    problems: list = []
    assert split_front_matter(text, "x.md", problems) is None
    assert [p.line for p in problems] == [1] and message in problems[0].message


def test_line_of_finds_nested_keys_and_list_items() -> None:
    doc, problems = parse_yaml("a:\n  b:\n    - x\n    - y: 1\n      z: 2\nc: 3\n", "f.yaml")
    assert problems == []
    assert doc.line_of(("a", "b")) == 2
    assert doc.line_of(("a", "b", 0)) == 3
    assert doc.line_of(("a", "b", 1, "z")) == 5
    assert doc.line_of(("c",)) == 6


def test_line_of_a_missing_key_is_that_of_its_nearest_ancestor() -> None:
    doc, _ = parse_yaml("a:\n  b:\n    - x\n    - y: 1\n", "f.yaml", first_line=2)
    assert doc.line_of(("a", "b", 1, "missing")) == 5
    assert doc.line_of(("nowhere",)) == 2  # where the YAML starts


def test_front_matter_lines_count_from_the_top_of_the_file(minimal: SiteDir) -> None:
    meta = response(minimal, "content/2021/1.1-konsernihallinto.sv.md").meta
    assert meta.line_of(("unit",)) == 3
    assert meta.line_of(("source_digest",)) == 5


# -- bytes and characters --------------------------------------------------------------


def test_a_byte_order_mark_and_crlf_line_endings_are_accepted(minimal: SiteDir) -> None:
    minimal.write(FILE, ("\ufeff" + HEAD + "Tilat\novat kunnossa.\n").replace("\n", "\r\n").encode())
    r = response(minimal)
    assert problems_in(minimal) == []
    assert r.meta.data == {"section": "2.2", "unit": "tilapalvelut-liikelaitos"}
    assert r.body == "Tilat\novat kunnossa.\n"
    assert r.body_line == 6


def test_invalid_utf8_is_a_problem_on_its_line(minimal: SiteDir) -> None:
    minimal.write(FILE, HEAD.encode() + b"Tilat\nLatin-1: \xe4\n")
    assert problems_in(minimal) == [(7, "the file is not valid UTF-8 (byte 0xe4); save it as UTF-8")]


def test_a_nul_byte_is_a_problem_on_its_line(minimal: SiteDir) -> None:
    minimal.write(FILE, HEAD.encode() + b"Tilat\n\nx\x00y\n")
    assert problems_in(minimal) == [(8, "the file contains a NUL byte; it is not a text file")]


def test_decomposed_names_and_values_become_composed(minimal: SiteDir) -> None:
    def nfd(text: str) -> str:
        return unicodedata.normalize("NFD", text)

    units = minimal.read("content/units.yaml")
    minimal.write("content/units.yaml", nfd(units))
    minimal.write(nfd("content/2021/2.2-ympäristö.fi.md"), nfd('---\nsection: "2.2"\nunit: ympäristö\n---\n\nx\n'))
    loaded = load(minimal.root)
    assert nfd("ä") != "ä"
    assert "Kaupunkiympäristön toimiala" in [u["name"]["fi"] for u in loaded.units.data["units"]]
    r = response(minimal, "content/2021/2.2-ympäristö.fi.md")
    assert r.name_unit == r.meta.data["unit"] == "ympäristö"


def test_zero_width_characters_in_keys_and_values_are_reported() -> None:
    _, problems = parse_yaml('sec\u200btion: "2.2"\nunit: tila\u200dpalvelut\n', "x.md", first_line=2)
    assert [(p.line, p.field) for p in problems] == [(2, "section"), (3, "unit")]
    assert all("invisible (zero-width) character" in p.message for p in problems)


def test_a_tab_in_yaml_is_reported_on_its_line() -> None:
    doc, problems = parse_yaml('section: "2.2"\nunit:\tx\n', "x.md", first_line=2)
    assert doc.data is None
    assert [(p.line, p.message) for p in problems] == [(3, "the YAML contains a tab; indent with spaces")]


# -- YAML that is refused -----------------------------------------------------------------


def test_anchors_and_aliases_are_refused() -> None:
    doc, problems = parse_yaml("a: &x 1\nb: *x\n", "f.yaml")
    assert doc.data is None
    assert [(p.line, p.message) for p in problems] == [
        (1, "YAML anchors and aliases (& and *) are not allowed; write the value out")]


def test_an_anchor_is_refused_even_without_an_alias_rather_than_dropping_text() -> None:
    doc, problems = parse_yaml("unit: konsernihallinto\nname: &Co Oy\n", "f.yaml")
    assert doc.data is None
    assert [p.line for p in problems] == [2] and "anchors and aliases" in problems[0].message


def test_an_alias_used_as_a_key_is_refused() -> None:
    doc, problems = parse_yaml("a: &x unit\n*x : konsernihallinto\n", "f.yaml")
    assert doc.data is None
    assert [p.message for p in problems] == [
        "YAML anchors and aliases (& and *) are not allowed; write the value out"]


def test_a_billion_laughs_alias_bomb_is_refused_before_it_expands() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    doc, problems = parse_yaml("\n".join(lines) + "\n", "f.yaml")
    assert doc.data is None
    assert [p.line for p in problems] == [1]


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!binary aGk=",
    "!custom x",
])
def test_yaml_tags_are_refused_and_never_executed(tagged: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    doc, problems = parse_yaml(f'section: "2.2"\nunit: {tagged.format(marker=marker)}\n', "x.md", first_line=2)
    assert doc.data is None
    assert [p.line for p in problems] == [3] and "YAML tags such as" in problems[0].message
    assert not marker.exists()


def test_a_duplicate_key_names_both_lines() -> None:
    doc, problems = parse_yaml("a:\n  b: 1\n  c: 2\n  b: 3\n", "f.yaml")
    assert [(p.line, p.field, p.message) for p in problems] == [
        (4, "a.b", "a.b: the key appears twice (first on line 2); keep one")]
    assert doc.data == {"a": {"b": 1, "c": 2}}


def test_dates_stay_strings_and_numbers_keep_their_source_text() -> None:
    doc, _ = parse_yaml("updated: 2022-10-15\nsection: 1.10\n", "x.md")
    assert doc.data == {"updated": "2022-10-15", "section": 1.1}
    assert doc.plain[("section",)] == "1.10"


# -- files and folders ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [".#x.fi.md", "x.fi.md~", ".x.fi.md.swp", "#x#", ".DS_Store"])
def test_hidden_files_and_editor_leftovers_are_ignored(minimal: SiteDir, name: str) -> None:
    before = load(minimal.root)
    minimal.write(f"content/2021/{name}", b"\x00 not text")
    minimal.write(f"content/{name}", b"\x00 not text")
    after = load(minimal.root)
    assert after.problems == before.problems
    assert [r.path for r in after.responses] == [r.path for r in before.responses]


def test_a_symlink_inside_content_is_followed(minimal: SiteDir) -> None:
    link = minimal.root / "content/2021/1.1-tilapalvelut-liikelaitos.fi.md"
    link.symlink_to("2.2-tilapalvelut-liikelaitos.fi.md")
    loaded = load(minimal.root)
    assert loaded.problems == ()
    assert response(minimal, "content/2021/1.1-tilapalvelut-liikelaitos.fi.md").body == "Tilat ovat kunnossa.\n"


def test_a_symlink_leading_outside_content_is_refused(minimal: SiteDir) -> None:
    secret = minimal.write("secret.md", HEAD + "outside\n")
    (minimal.root / "content/2021/1.1-tilapalvelut-liikelaitos.fi.md").symlink_to(secret)
    (minimal.root / "content/2020").symlink_to(minimal.root, target_is_directory=True)
    loaded = load(minimal.root)
    refused = "a symbolic link that leads outside content/ is not allowed"
    assert sorted((p.path, p.message) for p in loaded.problems) == [
        ("content/2020", refused), ("content/2021/1.1-tilapalvelut-liikelaitos.fi.md", refused)]
    assert all("outside" not in r.body for r in loaded.responses)


def test_an_empty_content_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    messages = [str(p) for p in load(tmp_path).problems]
    assert "content: error: no report years found: add a folder such as content/2022/ with a report.yaml" in messages
    assert "content/site.yaml: error: the file is missing" in messages
    assert [str(p) for p in load(tmp_path / "nowhere").problems] == [  # where it looked (#14)
        f"content: error: the content folder is missing: looked for {tmp_path / 'nowhere' / 'content'}; "
        "run the command in the project folder, or name that folder with --root"]


def test_a_file_over_the_size_limit_is_refused(minimal: SiteDir) -> None:
    minimal.write(FILE, HEAD + "x" * (MAX_FILE_BYTES - len(HEAD)))
    assert problems_in(minimal) == []
    minimal.write(FILE, HEAD + "x" * (MAX_FILE_BYTES - len(HEAD) + 1))
    assert problems_in(minimal) == [(None, "the file is 1,000,001 bytes; the limit is 1,000,000 bytes")]
    assert os.path.getsize(minimal.root / FILE) == MAX_FILE_BYTES + 1


def test_a_much_larger_file_is_refused_with_its_size_without_being_read(minimal: SiteDir,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    minimal.write(FILE, HEAD + "x" * (5 * MAX_FILE_BYTES - len(HEAD)))
    sizes: list[int] = []
    real_open = open

    class Counting:
        def __init__(self, handle) -> None:  # noqa: ANN001
            self.handle = handle

        def __enter__(self):  # noqa: ANN204
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def fileno(self) -> int:
            return self.handle.fileno()

        def read(self, size: int = -1) -> bytes:
            data = self.handle.read(size)
            sizes.append(len(data))
            return data

    monkeypatch.setattr(load_module, "open", lambda path, mode="r", *a, **k: Counting(real_open(path, mode, *a, **k)),
                        raising=False)
    assert problems_in(minimal) == [(None, "the file is 5,000,000 bytes; the limit is 1,000,000 bytes")]
    assert max(sizes) <= MAX_FILE_BYTES + 1  # what was read of it


# -- what an earlier build read ------------------------------------------------------------------


def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The response files load() opens from now on."""
    opened: list[str] = []
    real = load_module.read_bytes

    def counting(path: Path, shown: str, problems: list) -> bytes | None:
        opened.append(shown)
        return real(path, shown, problems)

    monkeypatch.setattr(load_module, "read_bytes", counting)
    return opened


def age(site: SiteDir, seconds: int = 60) -> None:
    """Date every content file `seconds` ago: older than the racy window."""
    then = time.time() - seconds
    for path in (site.root / "content").rglob("*"):
        os.utime(path, (then, then))


def test_a_file_unchanged_since_the_last_load_is_not_read_again(minimal: SiteDir,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    age(minimal)
    cache = Cache.at(minimal.root, "build")
    first = load(minimal.root, cache=cache)
    cache.save()
    opened = reads(monkeypatch)
    again = load(minimal.root, cache=Cache.at(minimal.root, "build"))
    assert [o for o in opened if o.endswith(".md")] == []
    assert again.responses == first.responses


def test_a_file_changed_to_the_same_size_is_read_again(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    age(minimal)
    cache = Cache.at(minimal.root, "build")
    load(minimal.root, cache=cache)
    cache.save()
    text = minimal.read(FILE)
    minimal.write(FILE, text.replace("kunnossa", "kunnossA"))
    then = time.time() - 30  # an old date, but not the one recorded
    os.utime(minimal.root / FILE, (then, then))
    opened = reads(monkeypatch)
    again = load(minimal.root, cache=Cache.at(minimal.root, "build"))
    assert [o for o in opened if o.endswith(".md")] == [FILE]
    assert "kunnossA" in next(r for r in again.responses if r.path == FILE).body


def test_a_file_changed_moments_ago_is_always_read(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within one clock tick a second edit may leave size and times as they were: never trust them."""
    age(minimal)
    minimal.write(FILE, minimal.read(FILE))  # saved just now
    cache = Cache.at(minimal.root, "build")
    load(minimal.root, cache=cache)
    cache.save()
    opened = reads(monkeypatch)
    load(minimal.root, cache=Cache.at(minimal.root, "build"))
    assert [o for o in opened if o.endswith(".md")] == [FILE]


# -- the quick path for simple front matter ------------------------------------------------------

KEYS = ["section", "unit", "updated", "weight", "draft", "reviewed", "translation_of", "source_digest",
        "null", "yes", "on", "y", "a_b"]
WORDS = ["1.1", "1.10", "2.4.1", "0x1f", "0o17", "017", "1_000", "1:20", "190:20:30.15", "1e3", "1.5e3", "-1", "+1",
         "2022-02-30", "2022-12-01", "2001-12-14t21:59:43.10-05:00", "true", "Yes", "NO", "off", "on", "y", "n",
         "null", "Null", "~", "abc", "abc:", "a:b", "a:", "1.1-konsernihallinto.fi.md", "sha256:0ff3", ".5", ".inf",
         "-", "a-", "x_y", "#x", "a#b", "ä", "=", "<<"]
QUOTED = ["", "x", "1.1", "a # b", "ä ö", "'", "a: b", "\u2028", "\x85", "\ufeff", "\\n", "tab\there", "&a", "*a",
          "!x", "{a}", "[1]", "null"]


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(KEYS))
        value = draw(st.one_of(st.sampled_from(WORDS), st.sampled_from(QUOTED).map(lambda q: f'"{q}"')))
        odd = [f"{key}:  {value}", f"{key}: {value} ", f"{key}:{value}"]  # not simple: YAML's own way
        form = draw(st.integers(0, 9))
        lines.append(odd[form] if form < len(odd) else f"{key}: {value}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def parsed(text: str) -> tuple:
    doc, problems = parse_yaml(text, "x.md", first_line=2)
    return doc.data, dict(doc.lines), dict(doc.plain), doc.start_line, [(p.line, p.message, p.field) for p in problems]


@settings(max_examples=1000, deadline=None, database=None)
@given(front_matter())
@example("unit: abc:")
@example('unit: "\x85"')
@example("section: 1.10\nnull: 1:20\nyes: 2022-02-30")
def test_simple_front_matter_parses_as_libyaml_parses_it(text: str) -> None:
    quick = parsed(text)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(load_module, "_compose_simple", lambda text: None)
        assert quick == parsed(text)


def test_the_quick_path_takes_typical_front_matter_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    composed: list[str] = []
    real = load_module.yaml.compose
    monkeypatch.setattr(load_module.yaml, "compose", lambda text, **kw: composed.append(text) or real(text, **kw))
    typical = ('section: "2.4"\nunit: konsernihallinto\ntranslation_of: 2.4-konsernihallinto.fi.md\n'
               "source_digest: sha256:0ff3\nreviewed: false\nupdated: 2023-05-02\nweight: 2\ndraft: true")
    assert parsed(typical)[0]["reviewed"] is False and composed == []
    for other in ["unit: a:", "unit: a # note", "unit: [a, b]", "unit:\n  - a", 'unit: "a\\tb"', "unit: a\n"]:
        parsed(other)
        assert composed[-1] == other
