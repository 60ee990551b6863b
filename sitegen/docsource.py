"""Read the compiled responses document — a Word .docx or plain text — into located lines.

Nothing here knows about sections or units (that is `importer`): a source becomes a
list of `SourceLine`s, each with its place in the file (the line of a text file, the
paragraph of a Word document), its plain text for recognising headings and unit
lines, and its Markdown (bold, italics and links of a Word paragraph; escaped text).
Every refusal is a `Problem`: too large, encrypted, corrupt, a zip bomb, not text.
Sizes are checked before anything is read or unpacked.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import Problem
from .load import nfc

MAX_SOURCE_BYTES = 20 * 1024 * 1024
"""The largest file read at all (a responses document is well under a megabyte)."""
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
"""The most a .docx may unpack to, all its parts together (by their declared sizes)."""
MAX_PART_BYTES = 50 * 1024 * 1024
"""The most one part of a .docx may unpack to."""
MAX_RATIO = 100
"""The largest compression ratio allowed for a part over a megabyte (text XML compresses ~10×)."""
MAX_PARTS = 5000

NOTE_STYLE = "Sitegen note"
"""The paragraph style of the export's notes to the translator: never content."""
NOTE_TABLE_STYLE = "Sitegen note table"
"""The table style of the export's terminology table: never content."""

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|otsikko|rubrik)\s*([1-9])$", re.IGNORECASE)
_SCANNER_HOSTS = ("safelinks.protection.outlook.com", "urldefense.com", "urldefense.proofpoint.com",
                  "protect2.fireeye.com", "linkprotect.cudasvc.com")
_URL = re.compile(r"https?://[^\s<>\"]+")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


@dataclass(frozen=True)
class SourceLine:
    """One line of a text file, or one paragraph of a Word document."""

    number: int
    """1-based: the line of a text file, the paragraph (or table) of a Word document's body."""
    text: str
    """The plain text, whitespace collapsed, for recognising headings, unit lines and lists."""
    markup: str
    """The same as Markdown: escaped, with a Word paragraph's bold, italics and links."""
    whole: bool = False
    """A Word paragraph: a block of its own, never joined with the lines around it."""
    page_start: bool = False
    """A text line that began with a single space: the first line of a PDF page."""
    heading: int | None = None
    """The level of a Word heading style (1–9)."""
    auto_numbered: bool = False
    """A Word heading numbered by Word's list numbering: its number is not in its text."""
    list_kind: str | None = None
    """'bullet' or 'number' for a paragraph of a Word list."""
    note: bool = False
    """A note of the export (style NOTE_STYLE, or in a NOTE_TABLE_STYLE table): not content."""
    table: bool = False
    """A Word table (other than the export's terminology table): not imported."""


@dataclass(frozen=True)
class Source:
    """A source document read into lines."""

    kind: str
    """'docx' or 'text'."""
    lines: tuple[SourceLine, ...]
    dropped: tuple[str, ...] = ()
    """What was left out as the format's debris (page numbers, mail-scanner links), for the summary."""


def read_source(path: Path, shown: str) -> tuple[Source | None, list[Problem]]:
    """Read `path` as a .docx (by its first bytes) or as text; problems carry `shown` as their path."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, [Problem(shown, None, f"cannot read the file: {exc.strerror}")]
    if not stat.S_ISREG(st.st_mode):
        return None, [Problem(shown, None, "not a regular file")]
    if st.st_size > MAX_SOURCE_BYTES:
        return None, [Problem(shown, None, f"the file is {st.st_size:,} bytes; the limit is {MAX_SOURCE_BYTES:,} "
                              "bytes (a responses document is far smaller: is it the right file?)")]
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        return None, [Problem(shown, None, f"cannot read the file: {exc.strerror}")]
    if len(raw) > MAX_SOURCE_BYTES:
        return None, [Problem(shown, None, f"the file is over the limit of {MAX_SOURCE_BYTES:,} bytes")]
    if raw.startswith(_OLE_MAGIC):
        return None, [Problem(shown, None, "the file is password-protected (an encrypted Word document) or an old "
                              "Word 97–2003 .doc: remove the password, or open it in Word and save it as .docx")]
    if raw.startswith(b"%PDF"):
        return None, [Problem(shown, None, "the file is a PDF: open it in Word and save it as .docx, or save its "
                              "text as a .txt file")]
    if raw.startswith(b"PK\x03\x04") or path.suffix.lower() in (".docx", ".docm", ".dotx"):
        return read_docx(raw, shown)
    return read_text(raw, shown)


# -- plain text ------------------------------------------------------------------


def read_text(raw: bytes, shown: str) -> tuple[Source | None, list[Problem]]:
    """Plain text, one SourceLine per line; UTF-8, or Windows-1252 with a warning."""
    problems: list[Problem] = []
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        return None, [Problem(shown, line, "the file contains a NUL byte: it is not text (nor a .docx)")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line, "the file is not UTF-8; it was read as Windows-1252: check the "
                                "letters ä, ö and å", severity="warning"))
        text = raw.decode("cp1252", errors="replace")
    text = nfc(text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    lines: list[SourceLine] = []
    dropped: list[str] = []
    for number, raw_line in enumerate(text.split("\n"), start=1):
        page_start = raw_line.startswith(" ") and not raw_line.startswith("  ") and bool(raw_line.strip())
        plain = clean(raw_line)
        if is_page_number(plain):
            dropped.append(f"page number '{plain}' (line {number})")
            plain = ""
        elif is_scanner_link(plain):
            dropped.append(f"mail-scanner link (line {number})")
            plain = ""
        else:
            plain = unwrap_scanner_links(plain)
        lines.append(SourceLine(number, plain, escape(plain), page_start=page_start))
    return Source("text", tuple(lines), tuple(dropped)), problems


def clean(text: str) -> str:
    """Whitespace as one plain space (narrow and figure no-break spaces too), trimmed."""
    return re.sub(r"[ \t\u202f\u2007\u200b\ufeff]+", " ", text.replace("\u00ad", "")).strip()


def is_page_number(text: str) -> bool:
    """A line that is only a page number: '10', '- 10 -', 'Sivu 10', '10 (12)', '10/12'."""
    return bool(re.fullmatch(r"(?:(?:sivu|sida|page)\s+)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:/|\(|of|av)\s*\d{1,4}\)?)?",
                             text, re.IGNORECASE))


def is_scanner_link(text: str) -> bool:
    """A line that is only a link rewritten by a mail scanner (Outlook Safe Links and the like)."""
    return bool(_URL.fullmatch(text)) and _scanner(text)


def _scanner(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _SCANNER_HOSTS)


def unwrap_scanner_links(text: str) -> str:
    """A mail scanner's link inside a text becomes the address it wraps (Safe Links' `url`), if it says."""
    def original(match: re.Match[str]) -> str:
        url = match.group(0)
        if not _scanner(url):
            return url
        wrapped = parse_qs(urlsplit(url).query).get("url") or parse_qs(urlsplit(url).query).get("u")
        return wrapped[0] if wrapped else url
    return _URL.sub(original, text)


def escape(text: str) -> str:
    """Text as Markdown that shows it as written (inline: the start of a block is `block_escape`'s)."""
    return _TAG_START.sub("&lt;", _INLINE_SPECIAL.sub(r"\\\1", text))


# -- Word ---------------------------------------------------------------------------


def read_docx(raw: bytes, shown: str) -> tuple[Source | None, list[Problem]]:
    """A .docx, one SourceLine per paragraph of its body; its zip is checked before it is parsed."""
    problem = check_zip(raw, shown)
    if problem is not None:
        return None, [problem]
    import docx  # python-docx loads only when a Word document is read
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
        lines = list(_docx_lines(document))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        return None, [Problem(shown, None, f"not a readable Word document ({type(exc).__name__}: {exc}); "
                              "open it in Word and save it again as .docx")]
    except Exception as exc:  # lxml's XMLSyntaxError and the like: a damaged document, not a bug
        return None, [Problem(shown, None, f"the Word document is damaged ({type(exc).__name__}); "
                              "open it in Word and save it again as .docx")]
    return Source("docx", tuple(lines)), []


def check_zip(raw: bytes, shown: str) -> Problem | None:
    """Refuse a .docx that is not a zip, is encrypted, or would unpack to too much (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        return Problem(shown, None, f"the .docx is damaged (not a valid zip file: {exc}); open it in Word "
                       "and save it again")
    if len(infos) > MAX_PARTS:
        return Problem(shown, None, f"the .docx has {len(infos):,} parts; a Word document has a few dozen")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            return Problem(shown, None, "the .docx is password-protected: remove the password in Word and save again")
        total += info.file_size
        if info.file_size > MAX_PART_BYTES or (
                info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            return Problem(shown, None, f"the .docx part '{info.filename}' would unpack to {info.file_size:,} bytes "
                           f"from {info.compress_size:,}: refused as a possible zip bomb")
    if total > MAX_UNPACKED_BYTES:
        return Problem(shown, None, f"the .docx would unpack to {total:,} bytes (the limit is "
                       f"{MAX_UNPACKED_BYTES:,}): refused as a possible zip bomb")
    names = {info.filename for info in infos}
    if "word/document.xml" not in names and "[Content_Types].xml" not in names:
        return Problem(shown, None, "the file is a zip archive but not a Word document (.docx)")
    return None


def _docx_lines(document: Any) -> Iterator[SourceLine]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    numbering = _Numbering(document)
    number = 0
    for element in _blocks(document.element.body):
        number += 1
        if element.tag == _W + "tbl":
            table = Table(element, document)
            style = table.style.name if table.style is not None else ""
            text = " | ".join(clean(cell.text) for row in table.rows for cell in row.cells if clean(cell.text))
            yield SourceLine(number, text, escape(text), whole=True,
                             note=style == NOTE_TABLE_STYLE, table=style != NOTE_TABLE_STYLE)
            continue
        paragraph = Paragraph(element, document)
        style = paragraph.style
        style_name = style.name if style is not None and style.name else ""
        plain, markup = paragraph_markdown(paragraph)
        level = _heading_level(element, style)
        kind = numbering.kind(element, style)
        yield SourceLine(number, plain, markup, whole=True, heading=level,
                         auto_numbered=level is not None and kind is not None,
                         list_kind=kind if level is None else None, note=style_name == NOTE_STYLE)


def _blocks(body: Any) -> Iterator[Any]:
    """The body's paragraphs and tables in order, looking into content controls."""
    for child in body.iterchildren():
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _blocks(content)


def _heading_level(element: Any, style: Any) -> int | None:
    """1–9 for a paragraph in a heading style (by name or by outline level), else None."""
    seen = 0
    while style is not None and seen < 20:
        match = _HEADING_STYLE.match(style.name or "")
        if match:
            return int(match.group(1))
        style, seen = style.base_style, seen + 1
    level = element.find(f"{_W}pPr/{_W}outlineLvl")
    if level is not None and (value := level.get(_W + "val", "")).isdigit() and int(value) < 9:
        return int(value) + 1
    return None


class _Numbering:
    """Whether a paragraph is a bullet or a numbered list item, from Word's numbering definitions."""

    def __init__(self, document: Any) -> None:
        self.formats: dict[tuple[str, str], str] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[str, str]] = {}
        for node in root.findall(_W + "abstractNum"):
            abstract[node.get(_W + "abstractNumId", "")] = {
                lvl.get(_W + "ilvl", "0"): (fmt.get(_W + "val", "") if (fmt := lvl.find(_W + "numFmt")) is not None
                                            else "")
                for lvl in node.findall(_W + "lvl")}
        for num in root.findall(_W + "num"):
            ref = num.find(_W + "abstractNumId")
            levels = dict(abstract.get(ref.get(_W + "val", "") if ref is not None else "", {}))
            for override in num.findall(_W + "lvlOverride"):
                lvl = override.find(_W + "lvl")
                fmt = lvl.find(_W + "numFmt") if lvl is not None else None
                if fmt is not None:
                    levels[override.get(_W + "ilvl", "0")] = fmt.get(_W + "val", "")
            for ilvl, fmt in levels.items():
                self.formats[(num.get(_W + "numId", ""), ilvl)] = fmt

    def kind(self, element: Any, style: Any) -> str | None:
        """'bullet', 'number' or None."""
        num_pr = element.find(f"{_W}pPr/{_W}numPr")
        seen = 0
        while num_pr is None and style is not None and seen < 20:
            num_pr = style.element.find(f"{_W}pPr/{_W}numPr")
            if num_pr is None and "list bullet" in (style.name or "").lower():
                return "bullet"
            if num_pr is None and "list number" in (style.name or "").lower():
                return "number"
            style, seen = style.base_style, seen + 1
        if num_pr is None:
            return None
        num_id = num_pr.find(_W + "numId")
        ilvl = num_pr.find(_W + "ilvl")
        num = num_id.get(_W + "val", "0") if num_id is not None else "0"
        if num == "0":
            return None
        fmt = self.formats.get((num, ilvl.get(_W + "val", "0") if ilvl is not None else "0"), "decimal")
        if fmt == "none":
            return None
        return "bullet" if fmt == "bullet" else "number"


def paragraph_markdown(paragraph: Any) -> tuple[str, str]:
    """A Word paragraph's (plain text, Markdown): bold, italics and links kept, line breaks as spaces."""
    from docx.text.hyperlink import Hyperlink

    pieces: list[tuple[str, bool, bool, str | None]] = []
    for item in paragraph.iter_inner_content():
        if isinstance(item, Hyperlink):
            address = item.url or ""
            pieces.extend((run.text, False, False, unwrap_scanner_links(address) or None) for run in item.runs)
        else:
            pieces.append((item.text, _bold(item), bool(item.italic), None))
    plain = clean("".join(_spaces(p[0]) for p in pieces))
    out: list[str] = []
    groups: list[tuple[str, bool, bool, str | None]] = []
    for text, bold, italic, url in pieces:
        text = _spaces(text)
        if groups and groups[-1][1:] == (bold, italic, url):
            groups[-1] = (groups[-1][0] + text, bold, italic, url)
        elif text:
            groups.append((text, bold, italic, url))
    for text, bold, italic, url in groups:
        if url:
            out.append(f"[{escape(clean(text))}]({_url(url)})" if clean(text) else "")
            continue
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        core = escape(text.strip())
        if core and (bold or italic):
            mark = "***" if bold and italic else "**" if bold else "*"
            core = f"{mark}{core}{mark}"
        out.append(lead + core + trail)
    markup = re.sub(r" {2,}", " ", "".join(out)).strip()
    return plain, markup


def _spaces(text: str) -> str:
    return re.sub(r"[\s\u202f\u2007]+", " ", text.replace("\u00ad", ""))


def _bold(run: Any) -> bool:
    if run.bold is not None:
        return bool(run.bold)
    style = run.style
    return style is not None and (style.name or "").lower() in ("strong", "vahva", "stark")


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
