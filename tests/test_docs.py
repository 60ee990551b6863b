"""The README and the editor's guides as tested examples (#14): every `python build.py …` command
shown in a fenced block runs on a copy of a fixture site, and what it prints must be what the
document shows, so a guide fails this test the day it goes stale.

The format, in the Markdown itself (an HTML comment does not show when the guide is read):

    <!-- example: real -->
    ```console
    $ python build.py check
    Checked 50 response files in 0.09 s: 0 errors, 0 warnings; 0 drafts.
    ```

`real` is a copy of content/, `minimal` of tests/sites/minimal; `continued` goes on in the folder
the previous example of the document left. Lines of the comment after the first are edits made
before the commands run, one per line:

    edit <path>: <old> => <new>     (<old> must occur in the file exactly once; \\n is a line break)
    remove <path>
    commit                          (the folder as a git repository, everything committed)

In a Word document (.docx) an edit is one made in Word: <old> lies within one run of one paragraph,
and each line of <new> after the first is a new paragraph after that one.

A fenced block after `<!-- save as: <path> -->` is a file the next example starts with (a path
ending in .docx makes a Word document of one paragraph per line, numbered as `import` numbers
them); after `<!-- file written: <path> -->` it must equal that file as the previous example left
it; after `<!-- template: <path> -->` it is a file editors paste: saved as <path> in the real
content (in place of the file there, if any) it must pass `python build.py check` without errors.
Every command runs in the site's folder, as an editor types it, and what it prints to stdout and
stderr is shown in the order printed, as a terminal shows it. Only timings ("in 0.09 s") and the
day an import drafted a report.yaml ("# on 2024-05-20.") are normalised.

Messages in the guides' error tables (a table whose first heading is "Ilmoitus" or "Meddelande")
are shorter, with "…" for what varies: each must match a line the tool really prints, that is,
a line shown by a tested example here or pinned by tests/sites/invalid/*/expected.txt, or, for a
Word document that no block of text can make (a password, a damaged file, Word's own heading
numbers), pinned in WORD_DOCUMENTS below.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import io
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import docx
import pytest
from conftest import ROOT, SITES
from docx.oxml import OxmlElement
from docx.text.paragraph import Paragraph

from sitegen import cli

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FIXTURES = {"real": ROOT / "content", "minimal": SITES / "minimal" / "content"}
COMMAND = "python build.py "
TIMING = re.compile(r"\b\d+\.\d+ s\b")
DAY = re.compile(r"^(# on )\d{4}-\d{2}-\d{2}(?=\.)")


@dataclass
class Block:
    """A fenced block: where it starts, its info string, its lines, and the comment just before it."""

    doc: Path
    line: int
    info: str
    lines: list[str]
    comment: str | None


@dataclass
class Example:
    block: Block
    fixture: str
    edits: list[str]
    commands: list[tuple[str, list[str]]]
    saves: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[Block, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.block.doc.relative_to(ROOT)}:{self.block.line}"


def blocks(doc: Path) -> list[Block]:
    """Every fenced block of a Markdown file, also indented ones (in list items), with the
    HTML comment that ends on the line before it, if any."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^( *)(```+)(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3)
        comment = None
        if i > 0 and lines[i - 1].strip().endswith("-->"):
            start = i - 1
            while start > 0 and "<!--" not in lines[start]:
                start -= 1
            comment = "\n".join(line.strip() for line in lines[start:i])
            comment = comment.removeprefix("<!--").removesuffix("-->").strip()
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1:end]]
        found.append(Block(doc, i + 1, info, body, comment))
        i = end + 1
    return found


def commands_of(block: Block) -> list[tuple[str, list[str]]]:
    """`$ command` lines, each with the lines shown after it (its expected output)."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            assert pairs, f"{block.doc.name}:{block.line}: a console block starts with '$ '"
            pairs[-1][1].append(line)
    return pairs


def chains(doc: Path) -> list[list[Example]]:
    """The document's examples, an example and those that continue it being one chain."""
    result: list[list[Example]] = []
    saves: list[tuple[str, str]] = []
    for block in blocks(doc):
        comment = block.comment or ""
        kind, _, rest = comment.partition(":")
        if kind == "save as":
            saves.append((rest.strip(), "\n".join(block.lines) + "\n"))
        elif kind == "file written":
            assert result, f"{doc.name}:{block.line}: 'file written' before any example"
            result[-1][-1].files.append((block, rest.strip()))
        elif kind == "example":
            assert block.info == "console", f"{doc.name}:{block.line}: an example is a ```console block"
            first, *edits = rest.strip().split("\n")
            example = Example(block, first.strip(), [e for e in edits if e.strip()], commands_of(block), saves)
            saves = []
            if example.fixture == "continued":
                assert result, f"{doc.name}:{block.line}: 'continued' needs an example before it"
                result[-1].append(example)
            else:
                assert example.fixture in FIXTURES, f"{doc.name}:{block.line}: unknown fixture {example.fixture!r}"
                result.append([example])
    assert not saves, f"{doc.name}: a 'save as' block that no example uses"
    return result


def templates(doc: Path) -> list[tuple[Block, str]]:
    return [(b, b.comment.partition(":")[2].strip()) for b in blocks(doc)
            if b.comment and b.comment.partition(":")[0] == "template"]


def save(root: Path, path: str, text: str) -> None:
    """A 'save as' block: the file, or for a .docx a Word document of one paragraph per line."""
    if not path.endswith(".docx"):
        (root / path).write_text(text, encoding="utf-8")
        return
    document = docx.Document()
    for line in text.rstrip("\n").split("\n"):
        document.add_paragraph(line)
    document.save(str(root / path))


def edit(root: Path, step: str) -> None:
    """One edit line of an example's comment."""
    if step.startswith("remove "):
        (root / step.removeprefix("remove ").strip()).unlink()
        return
    if step.strip() == "commit":
        commit(root)
        return
    m = re.fullmatch(r"edit (\S+): (.+?) =>(?: (.*))?", step.strip())
    assert m, f"not an edit: {step!r} (edit <path>: <old> => <new>, remove <path>, or commit)"
    path = root / m.group(1)
    old, new = (part.replace("\\n", "\n") for part in (m.group(2), m.group(3) or ""))
    if path.suffix == ".docx":
        edit_word(path, old, new)
        return
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{m.group(1)} holds {text.count(old)} times {old!r}, not once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def edit_word(path: Path, old: str, new: str) -> None:
    """An edit made in Word: <old> within one run (its formatting kept); a line of <new> after the
    first is a paragraph of its own, in the same style, after the paragraph that <old> ends."""
    document = docx.Document(str(path))
    count = sum(p.text.count(old) for p in document.paragraphs)
    assert count == 1, f"{path.name} holds {count} times {old!r}, not once"
    found = [(p, run) for p in document.paragraphs for run in p.runs if old in run.text]
    assert found, f"{path.name}: {old!r} is not within one run of its paragraph"
    paragraph, run = found[0]
    first, *more = new.split("\n")
    assert not more or paragraph.text.endswith(old), f"{path.name}: a new paragraph follows the end of one"
    run.text = run.text.replace(old, first)
    anchor = paragraph
    for text in more:
        element = OxmlElement("w:p")
        anchor._p.addnext(element)
        anchor = Paragraph(element, paragraph._parent)
        anchor.style = paragraph.style
        anchor.add_run(text)
    document.save(str(path))


def commit(root: Path) -> None:
    """The site's folder as a git repository with everything committed, as an editor's clone has its
    history (`export --changed` looks there for the text an outdated translation follows)."""
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is required in CI")
        pytest.skip("SKIPPED, NOT PASSED: git is not installed here")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "example"]):
        subprocess.run(["git", "-C", str(root), "-c", "user.name=Example", "-c", "user.email=example@example.org",
                        "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


def run(root: Path, command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """`python build.py ARGS` in the site's folder, as an editor types it: its output lines."""
    assert command.startswith(COMMAND), f"only {COMMAND}… commands are run, not {command!r}"
    monkeypatch.chdir(root)
    capsys.readouterr()
    printed = io.StringIO()  # stdout and stderr in one, in the order printed, as a terminal shows them
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        cli.main(shlex.split(command.removeprefix(COMMAND)))
    text = printed.getvalue()
    return text.rstrip("\n").split("\n") if text.strip() else []


def undated(line: str) -> str:
    """The day an import drafted a report.yaml, which no document can show as it will be."""
    return DAY.sub(r"\g<1>YYYY-MM-DD", line)


def normal(lines: list[str]) -> list[str]:
    return [undated(TIMING.sub("0.00 s", line.rstrip())) for line in lines]


def differ(expected: list[str], actual: list[str], where: str, what: str) -> str:
    diff = "\n".join(difflib.unified_diff(expected, actual, f"{where} (the document)", f"{what} (the tool)",
                                          lineterm=""))
    return f"the document is stale: update it to what the tool prints\n{diff}"


ALL_CHAINS = [chain for doc in DOCS for chain in chains(doc)]


@pytest.mark.parametrize("chain", ALL_CHAINS, ids=[c[0].where for c in ALL_CHAINS])
def test_an_example_prints_what_the_document_shows(chain: list[Example], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "site"
    shutil.copytree(FIXTURES[chain[0].fixture], root / "content")
    for example in chain:
        for path, text in example.saves:
            save(root, path, text)
        for step in example.edits:
            edit(root, step)
        for command, expected in example.commands:
            actual = run(root, command, monkeypatch, capsys)
            assert normal(actual) == normal(expected), differ(normal(expected), normal(actual), example.where,
                                                              f"$ {command}")
        for block, path in example.files:
            actual = [undated(line) for line in (root / path).read_text(encoding="utf-8").rstrip("\n").split("\n")]
            shown = [undated(line) for line in block.lines]
            assert actual == shown, differ(shown, actual, f"{example.where} → line {block.line}", path)


ALL_TEMPLATES = [t for doc in DOCS for t in templates(doc)]


@pytest.mark.parametrize(("block", "path"), ALL_TEMPLATES,
                         ids=[f"{b.doc.relative_to(ROOT)}:{b.line}" for b, _ in ALL_TEMPLATES])
def test_a_template_to_paste_passes_the_check(block: Block, path: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "site"
    shutil.copytree(FIXTURES["real"], root / "content")
    (root / path).write_text("\n".join(block.lines) + "\n", encoding="utf-8")
    output = run(root, COMMAND + "check", monkeypatch, capsys)
    assert [line for line in output if ": error: " in line] == []
    assert re.match(r"Checked \d+ response files .*: 0 errors", output[-1]), output


def test_every_command_or_message_shown_in_a_fenced_block_is_a_tested_example() -> None:
    """A file the tool wrote (a drafted report.yaml names the commands it was written by and is checked
    with) is tested as a whole: it must equal the file as the previous example left it."""
    untested = [f"{b.doc.relative_to(ROOT)}:{b.line}" for doc in DOCS for b in blocks(doc)
                if any(COMMAND in line or re.search(r": (error|warning): ", line) for line in b.lines)
                and not (b.info == "console" and (b.comment or "").startswith("example"))
                and not (b.comment or "").startswith("file written:")]
    assert untested == []
    assert all(chains(doc) for doc in DOCS)  # each document has examples of its own


def prose(doc: Path) -> str:
    """The document without its fenced blocks: what they hold is run, or compared with what the tool
    wrote (a drafted report.yaml names `python build.py import`, the command that wrote it)."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    fenced = {n for b in blocks(doc) for n in range(b.line - 1, b.line + len(b.lines) + 1)}
    return "\n".join(line for n, line in enumerate(lines) if n not in fenced)


def test_commands_shown_in_the_text_are_ones_the_tool_accepts() -> None:
    """Inline `python build.py check` in the prose is not run, but its command and options must exist
    (an argument written '…' stands for any file; `python build.py …` alone for any command)."""
    wrong = []
    for doc in DOCS:
        for span in re.findall(r"`(python build\.py [^`]*)`", prose(doc)):
            args = shlex.split(span.removeprefix(COMMAND))
            if args == ["…"]:
                continue
            try:
                cli.parser().parse_args(args)
            except SystemExit as exc:  # --help exits 0 after printing the help
                if exc.code:
                    wrong.append(f"{doc.name}: {span}")
    assert wrong == []


def word_document(name: str) -> bytes:
    """Word documents an editor may be given that no block of text can make (see WORD_DOCUMENTS)."""
    document = docx.Document()
    for text, style in (("2.3 Henkilöstöön liittyvät seurantatiedot", "Heading 2"),
                        ("Vastaaja: Konsernihallinto", None), ("Työvoiman saatavuutta edistetään.", None),
                        ("2,4 Kaupungin toimialojen ICT-hankkeet", "Heading 2"),
                        ("Vastaaja: Konsernihallinto", None), ("Hankkeet arvioidaan yhteisellä mallilla.", None),
                        ("Tietohallintopalvelut", "Heading 2"),
                        ("Vastaaja: Konsernihallinto", None), ("Palvelut kilpailutetaan.", None)):
        document.add_paragraph(text, style=style)
    # Word numbers the last heading as it numbers a list: the number is not in the heading's text.
    numbered = document.styles["List Number"].element.pPr.numPr
    document.paragraphs[6]._p.get_or_add_pPr().append(copy.deepcopy(numbered))
    written = io.BytesIO()
    document.save(written)
    return {"salattu.docx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088),  # encrypted: an OLE container
            "keskeytynyt.docx": written.getvalue()[:5000],  # a download cut short
            "otsikot.docx": written.getvalue()}[name]


WORD_DOCUMENTS = {
    "salattu.docx": [
        "salattu.docx: error: the file is password-protected (an encrypted Word document) or an old Word 97–2003 "
        ".doc: remove the password, or open it in Word and save it as .docx",
        "Import failed: 1 error, 0 warnings; nothing was written."],
    "keskeytynyt.docx": [
        "keskeytynyt.docx: error: the .docx is damaged (not a valid zip file: File is not a zip file); open it in Word "
        "and save it again",
        "Import failed: 1 error, 0 warnings; nothing was written."],
    "otsikot.docx": [
        "otsikot.docx:4: error: the heading's number '2,4' is not a section number (whole numbers separated by "
        "dots, such as 2.4)",
        "otsikot.docx:7: error: the heading 'Tietohallintopalvelut' is numbered by Word's automatic numbering, which "
        "the importer cannot read: type the number into the heading (e.g. '2.4 Kaupungin toimialojen ICT-hankkeet')",
        "Import failed: 2 errors, 0 warnings; nothing was written."],
}
"""What `python build.py import NAME --year 2023 --dry-run` prints for each document of word_document()."""


@pytest.mark.parametrize("name", sorted(WORD_DOCUMENTS))
def test_word_documents_no_block_can_make_print_what_is_pinned(name: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "site"
    shutil.copytree(FIXTURES["real"], root / "content")
    (root / name).write_bytes(word_document(name))
    assert run(root, f"{COMMAND}import {name} --year 2023 --dry-run", monkeypatch, capsys) == WORD_DOCUMENTS[name]


def printed_lines() -> list[str]:
    """Every line the tool is known to print: shown by the tested examples, pinned by the invalid
    fixture sites' expected.txt (tests/test_invalid_sites.py), or pinned in WORD_DOCUMENTS."""
    lines = [line for chain in ALL_CHAINS for example in chain for _, out in example.commands for line in out]
    for expected in sorted((SITES / "invalid").glob("*/expected.txt")):
        lines += expected.read_text(encoding="utf-8").splitlines()
    return lines + [line for printed in WORD_DOCUMENTS.values() for line in printed]


def table_messages(doc: Path) -> list[tuple[int, str]]:
    """The code spans in the first column of the error tables, with their line numbers."""
    found, in_table = [], False
    for number, line in enumerate(doc.read_text(encoding="utf-8").split("\n"), 1):
        if not line.startswith("|"):
            in_table = False
            continue
        first = line.split(" | ")[0].removeprefix("|").strip()
        if first.startswith(("Ilmoitus", "Meddelande")):
            in_table = True
        elif in_table and not first.startswith("---"):
            found += [(number, span) for span in re.findall(r"`([^`]+)`", first) if " " in span]
    return found


GUIDES = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", GUIDES, ids=[d.name for d in GUIDES])
def test_every_message_in_the_error_tables_is_one_the_tool_prints(doc: Path) -> None:
    printed = printed_lines()
    messages = table_messages(doc)
    assert len(messages) > 20
    unknown = []
    for number, message in messages:
        pattern = ".*?".join(re.escape(part) for part in message.split("…"))
        if not any(re.search(pattern, line) for line in printed):
            unknown.append(f"{doc.name}:{number}: {message}")
    assert unknown == []


def test_the_example_format_is_checked_strictly(tmp_path: Path) -> None:
    """The parser above finds an example's commands and outputs, and refuses what it cannot pair."""
    doc = tmp_path / "guide.md"
    doc.write_text("Teksti.\n\n<!-- save as: content/x.md -->\n```markdown\n---\nx: 1\n---\n```\n\n"
                   "1. Kohta:\n\n   <!-- example: real\n   edit content/a.md: b => c\n   -->\n"
                   "   ```console\n   $ python build.py check\n   Checked 1 response files in 0.01 s\n"
                   "   $ python build.py status\n   ```\n\n<!-- file written: content/x.md -->\n```markdown\nx\n```\n",
                   encoding="utf-8")
    [[example]] = chains(doc)
    assert example.fixture == "real" and example.edits == ["edit content/a.md: b => c"]
    assert example.commands == [("python build.py check", ["Checked 1 response files in 0.01 s"]),
                                ("python build.py status", [])]
    assert example.saves == [("content/x.md", "---\nx: 1\n---\n")]
    assert [(b.line, p) for b, p in example.files] == [(22, "content/x.md")]
    doc.write_text("<!-- example: real -->\n```sh\n$ python build.py check\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="console"):
        chains(doc)
    assert normal(["Checked 50 files in 0.09 s: 0 errors"]) == ["Checked 50 files in 0.00 s: 0 errors"]


def test_a_word_document_is_saved_and_edited_by_paragraph(tmp_path: Path) -> None:
    save(tmp_path, "a.docx", "2.4 OTSIKKO\nTeksti yksi.\nTeksti kaksi.\n")
    edit(tmp_path, "edit a.docx: 2.4 OTSIKKO => 2.4 OTSIKKO\\nVastaaja: Konsernihallinto")
    edit(tmp_path, "edit a.docx: yksi => 1")
    assert [p.text for p in docx.Document(str(tmp_path / "a.docx")).paragraphs] == [
        "2.4 OTSIKKO", "Vastaaja: Konsernihallinto", "Teksti 1.", "Teksti kaksi."]
    with pytest.raises(AssertionError, match="not once"):
        edit(tmp_path, "edit a.docx: Teksti => Text")
    assert normal(["# on 2026-12-05. Before publishing"]) == ["# on YYYY-MM-DD. Before publishing"]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_link_to_a_heading_finds_it(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    anchors = {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert [link for link in links if link not in anchors] == []
    assert slug("1. Mikä on vastaustiedosto?") == "1-mikä-on-vastaustiedosto"


def test_the_markdown_pitfalls_the_guides_describe_are_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Chapter 6: a list without an empty line before it stays in the paragraph, one line break
    starts no new line, and '#' in a response is a heading below the unit's own."""
    root = tmp_path / "site"
    shutil.copytree(FIXTURES["minimal"], root / "content")
    (root / "content" / "2021" / "2.2-tilapalvelut-liikelaitos.fi.md").write_text(
        '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n---\n\n# Väliotsikko\n\n'
        "Tavoitteet ovat:\n- ensimmäinen\n- toinen\n\nRivi yksi\nrivi kaksi\n\nLuettelo:\n\n- yksi\n",
        encoding="utf-8")
    assert run(root, COMMAND + "build", monkeypatch, capsys)[-1].startswith("Built ")
    page = (root / "site" / "fi" / "2021" / "2.2" / "index.html").read_text(encoding="utf-8")
    assert "<h3>Väliotsikko</h3>" in page
    assert "<p>Tavoitteet ovat:\n- ensimmäinen\n- toinen</p>" in page
    assert "<p>Rivi yksi\nrivi kaksi</p>" in page
    assert "<p>Luettelo:</p>\n<ul>\n<li>yksi</li>\n</ul>" in page

