"""`export`: a Word document of the original texts for the translator, which `import --lang` reads back.

The document has, for each response to translate, its section's numbered heading in
a Word heading style and its unit line ('Vastaaja: Konsernihallinto'), then the text
(paragraphs, bullet and numbered lists, bold, italics and links, as Word has them).
Everything meant for the translator only — the instructions, the digest of the text
exported, what changed in an outdated one, the terminology of the Swedish review —
is in the paragraph style `Sitegen note` (or the table style `Sitegen note table`),
which the importer skips. So the document returned with the text translated, and the
headings and unit lines left as they are, imports back as it is.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .docsource import NOTE_STYLE, NOTE_TABLE_STYLE
from .errors import Problem
from .load import Loaded, ResponseFile, body_digest, load, split_front_matter
from .translations import status

TERMINOLOGY = "content/terminology.yaml"
MAX_TERMINOLOGY_BYTES = 1024 * 1024
_INLINE = re.compile(r"\\(?P<escaped>[\\`*_{}\[\]()#+\-.!<>|])|\*\*(?P<bold>.+?)\*\*|(?<![\w*])\*(?P<em>[^*\s][^*]*?)\*"
                     r"|(?<!\w)_(?P<em2>[^_\s][^_]*?)_(?!\w)|\[(?P<link>[^\]]+)\]\((?P<url>[^)\s]+)\)"
                     r"|<(?P<auto>https?://[^>\s]+)>|&(?P<entity>lt|gt|amp);")
_LABEL = {"fi": "Vastaaja", "sv": "Svarande"}


@dataclass(frozen=True)
class Item:
    """One original text in the document."""

    section: str
    unit: str
    unit_name: str
    path: str
    body: str
    """The text to translate (the original's Markdown body)."""
    digest: str
    state: str
    """The translation's state: missing, stale, unrecorded or up to date."""
    previous: str | None = None
    """For an outdated translation, the original's text it follows, when found."""
    previous_from: str = ""
    """Where `previous` was found (a commit), or why it is unknown."""
    translation: str = ""
    """The current translation's text, when there is one."""


@dataclass
class Export:
    """What an export did."""

    problems: list[Problem] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    summary: str = ""
    usage: bool = False

    @property
    def failed(self) -> bool:
        """Whether any problem is an error."""
        return any(p.severity == "error" for p in self.problems)


_FAILED = "Export failed; nothing was written."


def export(root: Path, out: Path, lang: str, year: str | None = None, changed: bool = False) -> Export:
    """Write `out` (a .docx) with the texts of `year` (default: the latest) to translate into `lang`."""
    result = Export()
    loaded = load(root)
    languages = _languages(loaded)
    if not languages:
        result.problems.append(Problem("content/site.yaml", None, "the site's languages could not be read: run "
                                       "`python build.py check`"))
        result.summary = _FAILED
        return result
    original = languages[0]
    year, problems = _check_arguments(loaded, languages, out, lang, year)
    if problems:
        result.problems += problems
        result.usage = True
    if result.problems or year is None:
        result.summary = _FAILED
        return result
    report = loaded.reports[year].data
    result.items = collect(loaded, year, lang, original, changed)
    terms, problems = terminology(root, original, lang)
    result.problems += problems
    write_docx(out, result.items, report, year, original, lang, terms)
    result.summary = _summary(out, result.items, year, lang, terms)
    return result


def _check_arguments(loaded: Loaded, languages: Sequence[str], out: Path, lang: str,
                     year: str | None) -> tuple[str | None, list[Problem]]:
    """The year to export (the latest when none is given) and what is wrong with the command's arguments."""
    problems = []
    original = languages[0]
    if lang not in languages[1:]:
        problems.append(Problem("--lang", None, f"'{lang}' is not a language to translate into; the site's "
                                f"are {', '.join(languages[1:]) or 'none'} ({original} is the original)"))
    years = sorted(y for y, d in loaded.reports.items() if isinstance(d.data, dict))
    year = year or (years[-1] if years else None)
    if year is None or year not in years:
        problems.append(Problem("--year", None, f"no report for year '{year}'; known years: "
                                f"{', '.join(years) or 'none'}"))
    if out.suffix.lower() != ".docx":
        problems.append(Problem(str(out), None, "the output must be a Word document named *.docx"))
    elif not out.parent.is_dir():
        problems.append(Problem(str(out), None, f"the folder {out.parent} does not exist"))
    return year, problems


def _summary(out: Path, items: Sequence[Item], year: str, lang: str, terms: list[tuple[str, str, str]] | None) -> str:
    """The closing line of an export: the texts written by their translations' states, and the terminology."""
    counts = {s: sum(1 for i in items if i.state == s) for s in ("missing", "stale", "unrecorded", "up to date")}
    unknown = sum(1 for i in items if i.state == "stale" and i.previous is None)
    return (
        f"Wrote {out}: {len(items)} texts of {year} to translate into {lang} ({counts['missing']} new, "
        f"{counts['stale']} outdated, {counts['unrecorded']} unrecorded, {counts['up to date']} up to date)"
        f"{f'; the earlier original of {unknown} outdated texts is unknown' if unknown else ''}; "
        f"terminology: {f'{len(terms)} terms' if terms is not None else f'none ({TERMINOLOGY} does not exist)'}.")


def collect(loaded: Loaded, year: str, lang: str, original: str, changed: bool) -> list[Item]:
    """The year's original texts in the site's order, with their translations' states (`changed`: not up to date)."""
    report = loaded.reports[year].data
    order = {s["number"]: i for i, s in enumerate(report.get("sections", [])) if isinstance(s, dict)}
    units = _units_by_id(loaded)
    rows = {(r.section, r.unit): r for r in status(loaded, tuple([original, lang])) if r.year == year}
    files = {(r.year, r.name_section, r.name_unit, r.lang): r for r in loaded.responses}
    items = []
    for r in loaded.responses:
        if r.year != year or r.lang != original:
            continue
        row = rows.get((r.name_section, r.name_unit))
        state = row.state if row is not None else "missing"
        if changed and state == "up to date":
            continue
        items.append(_item(loaded, r, state, units, files.get((year, r.name_section, r.name_unit, lang)), original))
    return sorted(items, key=lambda item: _site_order(item, loaded, order, units))


def _units_by_id(loaded: Loaded) -> dict[Any, tuple[int, Any]]:
    """Each unit of content/units.yaml by its id, with its place in the file."""
    return {u["id"]: (i, u) for i, u in enumerate((loaded.units.data or {}).get("units", []))} \
        if loaded.units is not None and isinstance(loaded.units.data, dict) else {}


def _item(loaded: Loaded, r: ResponseFile, state: str, units: Mapping[Any, tuple[int, Any]],
          translation: ResponseFile | None, original: str) -> Item:
    """One original text with its unit's name, and for an outdated translation the text it follows (from git)."""
    unit = units.get(r.name_unit, (len(units), {}))[1]
    name = unit.get("name", {}).get(original, r.name_unit) if isinstance(unit, dict) else r.name_unit
    previous, previous_from = None, ""
    if state == "stale" and translation is not None:
        recorded = (translation.meta.data or {}).get("source_digest", "")
        previous, previous_from = earlier_text(loaded.root, r.path, str(recorded))
    return Item(r.name_section, r.name_unit, str(name), r.path, r.body.strip(), body_digest(r.body), state,
                previous, previous_from, translation.body.strip() if translation is not None else "")


def _site_order(item: Item, loaded: Loaded, order: Mapping[Any, int],
                units: Mapping[Any, tuple[int, Any]]) -> tuple[int, int, int]:
    """Where the site puts a text: by its section in report.yaml, its weight, then its unit in units.yaml."""
    source = next(f for f in loaded.responses if f.path == item.path)
    weight = (source.meta.data or {}).get("weight") if isinstance(source.meta.data, dict) else None
    return (order.get(item.section, len(order)), weight if isinstance(weight, int) else 10_000,
            units.get(item.unit, (len(units), {}))[0])


def earlier_text(root: Path, path: str, digest: str) -> tuple[str | None, str]:
    """The original's text whose digest is `digest`, from the git history, and the commit (or why not found).

    A digest cannot be turned back into text: the earlier text is looked for in the
    commits that changed the file, newest first.
    """
    git = shutil.which("git")
    if not digest:
        return None, "no digest was recorded for the translation"
    if git is None:
        return None, "git is not available to look up the earlier text"
    try:
        log = subprocess.run([git, "-C", str(root), "log", "--follow", "--format=%x00%H", "--name-only", "-n", "200",
                              "--", path], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"git could not be run ({exc})"
    if log.returncode != 0:
        return None, "the project is not in a git repository"
    for chunk in log.stdout.split("\0")[1:]:
        lines = [line for line in chunk.split("\n") if line.strip()]
        if len(lines) < 2:
            continue
        commit, name = lines[0], lines[-1]
        try:
            shown = subprocess.run([git, "-C", str(root), "show", f"{commit}:{name}"], capture_output=True,
                                   timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if shown.returncode != 0:
            continue
        text = shown.stdout.decode("utf-8", errors="replace").replace("\r\n", "\n")
        split = split_front_matter(text, name, [])
        if split is not None and body_digest(split[1]) == digest:
            return split[1].strip(), f"commit {commit[:10]}"
    return None, "no commit of the original has the text the translation follows"


# -- terminology --------------------------------------------------------------------------


def terminology(root: Path, original: str, lang: str) -> tuple[list[tuple[str, str, str]] | None, list[Problem]]:
    """The terms of content/terminology.yaml as (original term, rendering, renderings to avoid); None without it.

    The file is read leniently: a list of entries (or a mapping of term to entry),
    at the top or under a key such as `terms`, each naming the term by its language
    code or as `term`, the rendering by code or as `rendering`, and what to avoid
    under a key containing `avoid`.
    """
    path = root / TERMINOLOGY
    if not path.is_file():
        return None, []
    try:
        if path.stat().st_size > MAX_TERMINOLOGY_BYTES:
            return None, [Problem(TERMINOLOGY, None, "the file is too large to read; the list is left out",
                                  severity="warning")]
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [Problem(TERMINOLOGY, None, f"cannot be read ({type(exc).__name__}); the list is left out",
                              severity="warning")]
    entries = _entries(data)
    terms = []
    for entry in entries:
        term = _field(entry, (original, "term", "finnish", "suomi", "source"))
        rendering = _field(entry, (lang, "rendering", "swedish", "svenska", "translation", "target"))
        avoid = next((_text(v) for k, v in entry.items() if isinstance(k, str) and "avoid" in k.lower()), "")
        if term:
            terms.append((term, rendering, avoid))
    if entries and not terms:
        return None, [Problem(TERMINOLOGY, None, "no entry with a term was understood; the list is left out",
                              severity="warning")]
    return terms, []


def _entries(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if lists:
            data = lists[0]
        elif all(isinstance(v, dict) for v in data.values()):
            return [{"term": k, **v} for k, v in data.items()]
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def _field(entry: Mapping[str, Any], keys: Sequence[str]) -> str:
    for key in keys:
        if entry.get(key):
            return _text(entry[key])
    return ""


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


# -- the Word document --------------------------------------------------------------------


def write_docx(out: Path, items: Sequence[Item], report: Mapping[str, Any], year: str, original: str, lang: str,
               terms: list[tuple[str, str, str]] | None) -> None:
    """Write the document (to a temporary file first, then renamed over `out`)."""
    import docx

    document = docx.Document()
    _add_note_styles(document)
    titles = {s["number"]: s.get("title", {}) for s in report.get("sections", []) if isinstance(s, dict)}
    document.add_paragraph(f"{_text(report.get('title', {}).get(original))} ({year}): {original} → {lang}",
                           style=NOTE_STYLE)
    for text in _INSTRUCTIONS:
        document.add_paragraph(text, style=NOTE_STYLE)
    written: set[str] = set()
    for item in items:
        parts = item.section.split(".")
        for depth in range(1, len(parts) + 1):
            number = ".".join(parts[:depth])
            if number in written or (number != item.section and number not in titles):
                continue
            written.add(number)
            title = _text(titles.get(number, {}).get(original)) or number
            document.add_paragraph(f"{number} {title}", style=f"Heading {min(depth, 9)}")
        unit_line = document.add_paragraph()
        unit_line.add_run(f"{_LABEL.get(original, 'Vastaaja')}: {item.unit_name}").bold = True
        document.add_paragraph(f"{item.path} · {item.digest} · {_STATE[item.state]}", style=NOTE_STYLE)
        if item.state == "stale":
            _changes(document, item)
        add_markdown(document, item.body)
    if terms is not None:
        _add_terminology(document, terms, original, lang)
    handle, temporary = tempfile.mkstemp(suffix=".docx", dir=out.parent)
    os.close(handle)
    try:
        document.save(temporary)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _add_note_styles(document: Any) -> None:
    """The styles of the notes to the translator (grey italics) and of the terminology table, which import skips."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    note = document.styles.add_style(NOTE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = document.styles["Normal"]
    note.font.italic = True
    note.font.size = Pt(9)
    note.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    table_style = document.styles.add_style(NOTE_TABLE_STYLE, WD_STYLE_TYPE.TABLE)
    table_style.base_style = document.styles["Table Grid"]


def _add_terminology(document: Any, terms: Sequence[tuple[str, str, str]], original: str, lang: str) -> None:
    """The terminology list at the end: a table in the note table style (term, rendering, what to avoid)."""
    document.add_paragraph("Termiluettelo – Terminologi", style=NOTE_STYLE)
    table = document.add_table(rows=1, cols=3)
    table.style = document.styles[NOTE_TABLE_STYLE]
    for cell, text in zip(table.rows[0].cells, (original, lang, "vältä / undvik"), strict=True):
        cell.text = text
    for row in terms:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


_INSTRUCTIONS = (
    "Käännä vastausten tekstit. Älä muuta numeroituja otsikoita äläkä Vastaaja-rivejä: niiden avulla käännös "
    "tuodaan takaisin (python build.py import --lang sv). Harmaat kursiivirivit ovat ohjeita, eivät käännettävää.",
    "Översätt svarens texter. Ändra inte de numrerade rubrikerna eller raderna Vastaaja: med hjälp av dem "
    "importeras översättningen (python build.py import --lang sv). Grå kursiva rader är anvisningar, inte text att "
    "översätta.",
)
_STATE = {
    "missing": "uusi käännös – ny översättning",
    "stale": "suomenkielinen teksti on muuttunut – den finska texten har ändrats",
    "unrecorded": "käännöksen lähdeversio on tuntematon – översättningens källversion är okänd",
    "up to date": "käännös on ajan tasalla – översättningen är uppdaterad",
}


def _changes(document: Any, item: Item) -> None:
    """What changed in the original since the text the translation follows (struck out: removed)."""
    from docx.enum.text import WD_COLOR_INDEX

    if item.previous is None:
        document.add_paragraph("Aiempi suomenkielinen teksti ei ole tiedossa – den tidigare finska texten är okänd "
                               f"({item.previous_from}).", style=NOTE_STYLE)
    else:
        document.add_paragraph(f"Muutokset käännöksen jälkeen ({item.previous_from}; poistettu yliviivattuna, lisätty "
                               "korostettuna) – Ändringar sedan översättningen (strukit överstruket, tillagt "
                               "markerat):", style=NOTE_STYLE)
        paragraph = document.add_paragraph(style=NOTE_STYLE)
        for kind, text in diff_words(item.previous, item.body):
            run = paragraph.add_run(text)
            if kind == "-":
                run.font.strike = True
            elif kind == "+":
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
                run.bold = True
    if item.translation:
        document.add_paragraph("Nykyinen käännös – Nuvarande översättning:", style=NOTE_STYLE)
        for block in item.translation.split("\n\n"):
            document.add_paragraph(block, style=NOTE_STYLE)


def diff_words(old: str, new: str, context: int = 8) -> list[tuple[str, str]]:
    """A word diff of two texts as (kind, text): '=' kept (long stretches cut to `context` words), '-', '+'."""
    def words(text: str) -> list[str]:
        return re.findall(r"\s*\S+\s*", text.replace("\n\n", " ¶ ").replace("\n", " "))

    a, b = words(old), words(new)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 4 * context:
                same = [*same[: 2 * context], " … ", *same[-2 * context:]]
            out.append(("=", "".join(same)))
            continue
        if i2 > i1:
            out.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", "".join(b[j1:j2])))
    return out


def add_markdown(document: Any, body: str) -> None:
    """A Markdown body as Word paragraphs: paragraphs, bullet and numbered lists, bold, italics, links."""
    numbered_list: Any = None
    for block in re.split(r"\n\s*\n", body.strip()):
        previous_kind = ""
        for line in _block_lines(block):
            kind, text = line
            if kind == "p":
                paragraph = document.add_paragraph()
            elif kind == "bullet":
                paragraph = document.add_paragraph(style="List Bullet")
            else:
                paragraph = document.add_paragraph(style="List Number")
                if previous_kind != "number":
                    numbered_list = _restart_numbering(document, paragraph)
                elif numbered_list is not None:
                    _use_numbering(paragraph, numbered_list)
            _add_inline(paragraph, text)
            previous_kind = kind


def _block_lines(block: str) -> Iterable[tuple[str, str]]:
    """A Markdown block's list items, or the block as one paragraph (its lines joined)."""
    lines = block.split("\n")
    if all(re.match(r"^\s*(?:[-*+]|\d+[.)])\s+", line) or line.startswith("  ") for line in lines):
        items: list[tuple[str, str]] = []
        for line in lines:
            bullet = re.match(r"^\s*[-*+]\s+(.*)$", line)
            number = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
            if bullet:
                items.append(("bullet", bullet.group(1)))
            elif number:
                items.append(("number", number.group(1)))
            elif items:
                items[-1] = (items[-1][0], items[-1][1] + " " + line.strip())
        return items
    return [("p", " ".join(line.strip() for line in lines))]


def _add_inline(paragraph: Any, text: str) -> None:
    """Markdown inline markup as runs: **bold**, *italics*, [links](…), escapes."""
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            paragraph.add_run(text[position: match.start()])
        position = match.end()
        if match.group("escaped") is not None:
            paragraph.add_run(match.group("escaped"))
        elif match.group("bold") is not None:
            paragraph.add_run(_plain(match.group("bold"))).bold = True
        elif match.group("em") is not None or match.group("em2") is not None:
            paragraph.add_run(_plain(match.group("em") or match.group("em2"))).italic = True
        elif match.group("link") is not None:
            _add_link(paragraph, _plain(match.group("link")), match.group("url"))
        elif match.group("auto") is not None:
            _add_link(paragraph, match.group("auto"), match.group("auto"))
        else:
            paragraph.add_run({"lt": "<", "gt": ">", "amp": "&"}[match.group("entity")])
    if position < len(text):
        paragraph.add_run(text[position:])


def _plain(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _add_link(paragraph: Any, text: str, url: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    rid = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    properties.append(style)
    run.append(properties)
    content = OxmlElement("w:t")
    content.text = text
    content.set(qn("xml:space"), "preserve")
    run.append(content)
    link.append(run)
    paragraph._p.append(link)


def _restart_numbering(document: Any, paragraph: Any) -> Any:
    """A new numbering instance of the List Number style's definition, starting at 1, for this list."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    numbering = document.part.numbering_part.element
    style_num = document.styles["List Number"].element.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
    base = style_num.get(qn("w:val")) if style_num is not None else None
    abstract = None
    for num in numbering.findall(qn("w:num")):
        if num.get(qn("w:numId")) == base:
            ref = num.find(qn("w:abstractNumId"))
            abstract = ref.get(qn("w:val")) if ref is not None else None
    if abstract is None:
        return None
    new_id = str(max((int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))), default=0) + 1)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), new_id)
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), abstract)
    num.append(ref)
    override = OxmlElement("w:lvlOverride")
    override.set(qn("w:ilvl"), "0")
    start = OxmlElement("w:startOverride")
    start.set(qn("w:val"), "1")
    override.append(start)
    num.append(override)
    numbering.append(num)
    _use_numbering(paragraph, new_id)
    return new_id


def _use_numbering(paragraph: Any, num_id: str) -> None:
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    properties = paragraph._p.get_or_add_pPr()
    num_pr = OxmlElement("w:numPr")
    level = OxmlElement("w:ilvl")
    level.set(qn("w:val"), "0")
    ident = OxmlElement("w:numId")
    ident.set(qn("w:val"), num_id)
    num_pr.append(level)
    num_pr.append(ident)
    properties.append(num_pr)


def _languages(loaded: Loaded) -> list[str]:
    data = loaded.settings.data if loaded.settings is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("languages"), list):
        return []
    return [str(lang["code"]) for lang in data["languages"] if isinstance(lang, dict) and "code" in lang]
