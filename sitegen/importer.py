"""`import`: the compiled responses document (.docx or text) becomes one draft file per response.

The document is read into located lines (`docsource`), its numbered headings and
its unit lines are found (`parse`), each response's text is repaired into Markdown
(`reflow`), and the files to write are planned (`plan`) — every problem located in
the document's lines and reported together, nothing written while there is an
error. Then `write` writes them, each path checked to stay inside content/.

With a translation's language (`--lang sv`) the document is a translation of the
original's: each response becomes `<section>-<unit>.sv.md` beside its original,
recording the digest of the original it translates, as `translated` does.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from . import reflow
from .docsource import Source, SourceLine, read_source
from .errors import Problem
from .load import Loaded, ResponseFile, body_digest, load, nfc
from .safepath import inside
from .translations import set_fields
from .validate import suggest, suggest_section

LABEL = re.compile(r"^(?:vastaaja|vastaajat|vastaava|svarande|svar|respondent)\s*[:：]\s*(?P<name>\S.*)$",
                   re.IGNORECASE)
"""'Vastaaja: Konsernihallinto': a unit line, whatever follows the label."""
HEADING = re.compile(r"^(?P<number>\d{1,3}(?:\.\d{1,3})*)(?P<dot>\.?)\s+(?P<title>\S.*)$")
SECTION_NUMBER = re.compile(r"^[1-9][0-9]{0,2}(?:\.[1-9][0-9]{0,2})*$")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
CLOSE_ENOUGH = 0.85
"""How alike (difflib's ratio, 0–1) a unit line must be to a unit's name to be read as that unit."""
MAX_TITLE = 200


@dataclass(frozen=True)
class Heading:
    """A numbered heading found in the document."""

    number: str
    title: str
    line: int


@dataclass
class Response:
    """One unit's response to one section, as found in the document."""

    section: str
    unit: str
    line: int
    """The unit line."""
    lines: list[SourceLine] = field(default_factory=list)
    digest: str | None = None
    """The original's digest that an exported document carries beside the unit line."""
    body: str = ""


@dataclass
class Parsed:
    """The document's structure."""

    headings: list[Heading]
    responses: list[Response]
    preface: list[SourceLine]
    problems: list[Problem]


@dataclass(frozen=True)
class Planned:
    """One file to write."""

    path: str
    """Relative to the project root, with forward slashes."""
    text: str
    action: str
    """'new', 'replace' (an existing file, with --force) or 'unchanged' (not written)."""
    section: str = ""
    unit: str = ""


@dataclass
class Plan:
    """What an import would write, and every problem found on the way."""

    files: list[Planned] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sections: int = 0
    dropped: tuple[str, ...] = ()
    usage: bool = False
    """The command was given wrongly (no such file, a bad year): exit status 2, not 1."""

    @property
    def failed(self) -> bool:
        """Whether any problem is an error (then nothing is written)."""
        return any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class Unit:
    """A unit of content/units.yaml, as the importer needs it."""

    id: str
    names: tuple[str, ...]
    parent: str | None
    order: int


def plan(root: Path, source_path: Path, shown: str, year: str, lang: str | None = None,
         force: bool = False) -> Plan:
    """Read the document and the project; the files an import would write (nothing is written)."""
    result = Plan()
    usage = _usage_problem(source_path, shown, year)
    if usage is not None:
        result.problems.append(usage)
        result.usage = True
        return result
    loaded = load(root)
    languages = _languages(loaded)
    units = _units(loaded)
    if not languages or not units:
        result.problems += _project_problems(loaded)
        return result
    original = languages[0]
    lang = lang or original
    if lang not in languages:
        result.problems.append(Problem("--lang", None, f"language '{lang}' is not one of the site's: "
                                       f"{', '.join(languages)}{suggest(lang, languages)}"))
        result.usage = True
        return result
    report, problem = _year_report(loaded, year, lang, original)
    if problem is not None:
        result.problems.append(problem)
        return result
    read = _read_document(result, source_path, shown, units)
    if read is None:
        return result
    source, parsed = read
    result.sections = len({r.section for r in parsed.responses})
    if report is not None:
        result.problems += _unknown_sections(parsed.headings, report, year, shown)
    responses = _repair_responses(result, parsed, source, shown)
    content = root / "content"
    if lang == original:
        _plan_originals(result, content, root, year, responses, units, lang, force, shown)
        if report is None and not result.failed:
            _plan_report(result, content, root, year, parsed, loaded, shown, source_path.name)
    else:
        _plan_translations(result, content, root, year, responses, loaded, original, lang, force, shown)
    return result


def _usage_problem(source_path: Path, shown: str, year: str) -> Problem | None:
    """The command's own mistake (a bad year, no such file), before the project is read at all."""
    if not re.fullmatch(r"[12][0-9]{3}", year):
        return Problem("--year", None, f"'{_short(year)}' is not a year (four digits, e.g. 2023)")
    if not source_path.exists():
        return Problem(shown, None, "no such file")
    return None


def _project_problems(loaded: Loaded) -> list[Problem]:
    """Why the units or the languages could not be read: the files' own problems, or a general one."""
    return [p for p in loaded.problems if p.path in ("content/site.yaml", "content/units.yaml")] or [
        Problem("content/units.yaml", None, "the units (content/units.yaml) or the languages (content/site.yaml) "
                "could not be read: run `python build.py check`")]


def _year_report(loaded: Loaded, year: str, lang: str, original: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The year's report.yaml (None for a new year), or the problem that stops the import."""
    report_doc = loaded.reports.get(year)
    report = report_doc.data if report_doc is not None and isinstance(report_doc.data, dict) else None
    if report_doc is not None and report is None:
        return None, Problem(report_doc.path, None, "report.yaml could not be read: fix it first "
                             "(`python build.py check`)")
    if lang != original and report is None:
        return None, Problem(f"content/{year}/report.yaml", None,
                             f"year {year} has no report.yaml: a translation imports into a year whose "
                             f"original ('{original}') responses are already there")
    return report, None


def _read_document(result: Plan, source_path: Path, shown: str,
                   units: Sequence[Unit]) -> tuple[Source, Parsed] | None:
    """The document read and parsed, its problems added to `result`; None when there is nothing to import."""
    source, problems = read_source(source_path, shown)
    result.problems += problems
    if source is None:
        return None
    result.dropped = source.dropped
    parsed = parse(source, shown, units)
    result.problems += parsed.problems
    if not any(line.text for line in source.lines if not line.note):
        result.problems.append(Problem(shown, None, "the document is empty: there is nothing to import"))
        return None
    if not parsed.headings:
        result.problems.append(Problem(shown, None, "no numbered section heading was found (a line such as "
                                       "'2.4 Kaupungin toimialojen ICT-hankkeet', or a Word heading): nothing to "
                                       "import"))
        return None
    return source, parsed


def _unknown_sections(headings: Sequence[Heading], report: Mapping[str, Any], year: str,
                      shown: str) -> list[Problem]:
    """An error for each heading whose section the year's report.yaml does not have."""
    numbers = [s["number"] for s in report.get("sections", []) if isinstance(s, dict)] if report else []
    where = f"content/{year}/report.yaml"
    return [Problem(shown, heading.line, f"section '{heading.number}' is not in {where}"
                    f"{suggest_section(heading.number, numbers)}: add it there (number "
                    "and title in every language), or correct the heading")
            for heading in headings if heading.number not in numbers]


def _repair_responses(result: Plan, parsed: Parsed, source: Source, shown: str) -> list[Response]:
    """Each response's lines repaired into its Markdown body; the empty ones are warned of and left out."""
    width = reflow.typical_width(source.lines)
    for response in parsed.responses:
        response.body = reflow.repair(response.lines, width)
        if not response.body:
            result.problems.append(Problem(shown, response.line, f"the response of '{response.unit}' to section "
                                           f"{response.section} is empty: it is skipped", severity="warning"))
    return [r for r in parsed.responses if r.body]


def write(root: Path, planned: Plan) -> list[Problem]:
    """Write the planned files (never when the plan has errors); problems only if the disk refuses."""
    if planned.failed:
        return []
    problems = []
    content = root / "content"
    for f in planned.files:
        if f.action == "unchanged":
            continue
        target = inside(content, f.path.removeprefix("content/"))
        if target is None:
            problems.append(Problem(f.path, None, "refused: the path leads outside content/"))
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.text, encoding="utf-8", newline="")
        except OSError as exc:
            problems.append(Problem(f.path, None, f"cannot write the file: {exc.strerror}"))
    return problems


def describe(planned: Plan, dry_run: bool) -> tuple[list[str], str]:
    """The per-file lines (section, unit, file, what happens) and the closing summary of an import."""
    verb = {"new": "would write" if dry_run else "wrote", "replace": "would replace" if dry_run else "replaced",
            "unchanged": "unchanged"}
    lines = [f"  {f.section or '-':<8} {f.unit or '(report structure)':<32} {f.path} ({verb[f.action]})"
             for f in planned.files]
    counts = {action: sum(1 for f in planned.files if f.action == action) for action in verb}
    responses = sum(1 for f in planned.files if f.unit)
    errors = sum(1 for p in planned.problems if p.severity == "error")
    warnings = len(planned.problems) - errors
    done = ("Dry run: nothing written; " if dry_run else "") + (
        f"{responses} responses to {planned.sections} sections: {counts['new']} new files, "
        f"{counts['replace']} replaced, {counts['unchanged']} unchanged")
    dropped = f"; left out {len(planned.dropped)} bits of the format ({', '.join(planned.dropped)})" \
        if planned.dropped else ""
    return lines, f"{done}{dropped}; {_count(errors, 'error')}, {_count(warnings, 'warning')}."


def _count(number: int, noun: str) -> str:
    """'1 error', '2 errors'."""
    return f"{number} {noun}{'s' if number != 1 else ''}"


# -- reading the document's structure --------------------------------------------------


def parse(source: Source, shown: str, units: Sequence[Unit]) -> Parsed:
    """Find the numbered headings and the unit lines; the text between belongs to the unit before it."""
    reader = _Reader(list(source.lines), shown, units)
    i = 0
    while i < len(reader.lines):
        i += reader.step(i)
    reader.flush_orphans()
    reader.flush_skipped()
    out = reader.out
    if out.preface:
        out.problems.append(Problem(shown, out.preface[0].number, "text before the first section ("
                                    f"{_span(out.preface)}: '{_short(out.preface[0].text)}') is not a response: it "
                                    "is skipped", severity="warning"))
    return out


_HeadingLine = tuple[Heading | None, int, Problem | None]
"""What `_heading` finds on a heading line: the heading (or None), the lines it takes, and its problem."""


class _Reader:
    """`parse`'s walk through the document's lines: where it is, and what it has found so far."""

    def __init__(self, lines: list[SourceLine], shown: str, units: Sequence[Unit]) -> None:
        self.lines = lines
        self.shown = shown
        self.units = units
        self.out = Parsed([], [], [], [])
        self.section: Heading | None = None
        self.current: Response | None = None
        self.orphan: list[SourceLine] = []
        self.skipped_under: tuple[str, int] | None = None
        self.skipped: list[SourceLine] = []
        self.seen_sections: dict[str, int] = {}
        self.seen_responses: dict[tuple[str, str], int] = {}
        # A Word document that numbers its headings in heading styles has no other headings:
        # a paragraph such as '3 Uutta koulua' in its text is text.
        self.styled = any(line.heading is not None and HEADING.match(line.text) for line in lines)

    def step(self, i: int) -> int:
        """Read line i (and any it continues into); the number of lines used."""
        line = self.lines[i]
        if line.note:
            if self.current is not None and (found := DIGEST.search(line.text)):
                self.current.digest = found.group(0)
            return 1
        if line.table:
            self.out.problems.append(Problem(self.shown, line.number, "a table is not imported: it is skipped (write "
                                             "its content as paragraphs or a list)", severity="warning"))
            return 1
        if not line.text:
            self._blank(line)
            return 1
        heading = self._heading_at(i)
        if heading is not None:
            return self._take_heading(line, heading)
        unit = _unit_line(self.lines, i, self.units, self.shown,
                          expect=self.section is not None and self.current is None)
        if unit is not None and self.section is not None:
            self._take_unit(line, unit, self.section)
            return 1
        self._text(line)
        return 1

    def flush_orphans(self) -> None:
        """An error for the text under a section before any unit line, if there was some."""
        if self.orphan and self.section is not None:
            self.out.problems.append(Problem(self.shown, self.orphan[0].number, f"text under section "
                                             f"{self.section.number} before any unit line (" + _span(self.orphan) +
                                             "): say who responds with a line 'Vastaaja: <unit>' before it"))
        self.orphan.clear()

    def flush_skipped(self) -> None:
        """A warning for the heading without a number just passed, and for the text skipped under it."""
        if self.skipped_under is not None and self.skipped_under[1] > 0:
            title, line = self.skipped_under
            what = f", and the text under it ({_span(self.skipped)})," if self.skipped else ""
            self.out.problems.append(Problem(self.shown, line, f"the heading '{_short(title)}' has no section number: "
                                             f"it{what} is skipped", severity="warning"))
        self.skipped_under = None
        self.skipped.clear()

    def _blank(self, line: SourceLine) -> None:
        """A blank line: part of the response, or of the preface before any heading."""
        if self.current is not None:
            self.current.lines.append(line)
        elif self.section is None and self.skipped_under is None and not self.out.headings:
            self.out.preface.append(line)  # the preface's paragraphs, for the report's title

    def _heading_at(self, i: int) -> _HeadingLine | None:
        """Line i as a heading, or None when it is not one (or is a unit line in a heading style)."""
        line = self.lines[i]
        if line.heading is None and self.styled:
            return None
        heading = _heading(self.lines, i, self.shown)
        if heading is not None and heading == (None, 1, None) and (
                LABEL.match(line.text) or _unit_line(self.lines, i, self.units, self.shown, expect=False) is not None):
            return None  # a unit line in a heading style
        return heading

    def _take_heading(self, line: SourceLine, heading: _HeadingLine) -> int:
        """A heading ends what came before it and starts a section (or a skipped stretch); the lines it used."""
        found_heading, used, problem = heading
        self.flush_orphans()
        self.flush_skipped()
        self.current = None
        if found_heading is not None:
            if found_heading.number in self.seen_sections:
                self.out.problems.append(Problem(self.shown, line.number, f"section {found_heading.number} is here a "
                                                 "second time (first on line "
                                                 f"{self.seen_sections[found_heading.number]})"))
            self.seen_sections.setdefault(found_heading.number, line.number)
            self.out.headings.append(found_heading)
            self.section = found_heading
        elif problem is not None:  # what the bad heading heads is skipped: its error says so
            self.out.problems.append(problem)
            self.section, self.skipped_under = None, (line.text, 0)
        elif self.section is None and not self.out.headings and self.skipped_under is None:
            self.out.preface.append(line)  # a title in a heading style, before the first section
        else:
            self.section, self.skipped_under = None, (line.text, line.number)
        return used

    def _take_unit(self, line: SourceLine, unit: tuple[str | None, list[Problem]], section: Heading) -> None:
        """A unit line starts that unit's response to the section (or, naming no unit, a skipped stretch)."""
        unit_id, problems = unit
        self.out.problems += problems
        self.flush_orphans()
        self.flush_skipped()
        if unit_id is None:  # its text is skipped: the error says why
            self.current, self.skipped_under = None, (line.text, 0)
            return
        key = (section.number, unit_id)
        if key in self.seen_responses:
            self.out.problems.append(Problem(self.shown, line.number, f"a second response of '{unit_id}' to section "
                                             f"{section.number} (the first is on line {self.seen_responses[key]}): "
                                             "join them into one"))
        self.seen_responses.setdefault(key, line.number)
        self.current = Response(section.number, unit_id, line.number)
        self.out.responses.append(self.current)

    def _text(self, line: SourceLine) -> None:
        """A line of text: the current response's, or skipped, or an orphan under its section, or the preface."""
        if self.skipped_under is not None:
            self.skipped.append(line)
        elif self.current is not None:
            self.current.lines.append(line)
        elif self.section is not None:
            self.orphan.append(line)
        else:
            self.out.preface.append(line)


def _heading(lines: Sequence[SourceLine], i: int, shown: str) -> _HeadingLine | None:
    """(heading, lines used, problem) when line i is a section heading; None when it is not one.

    A Word heading style makes a heading of any paragraph: its number must be typed in
    it (else it is a problem: a warning when it has none at all, which skips it). A plain
    line is a heading when it is a number and a title in capitals ('2.4 KAUPUNGIN …', its
    capitals continued on the next lines), or a number and a title standing on its own
    between blank lines ('2.4 Kaupungin toimialojen ICT-hankkeet').
    """
    if lines[i].heading is not None:
        return _styled_heading(lines[i], shown)
    return _plain_heading(lines, i, shown)


def _styled_heading(line: SourceLine, shown: str) -> _HeadingLine:
    """A paragraph in a Word heading style: its typed number and title, or why it heads no section."""
    text = line.text
    parts = text.split(None, 1)
    token = parts[0].rstrip(".") if parts else ""
    title = parts[1].strip() if len(parts) > 1 else ""
    if SECTION_NUMBER.match(token) and title:
        return Heading(token, title, line.number), 1, None
    if re.search(r"\d|/|\\|\.\.", token):
        return None, 1, Problem(shown, line.number, f"the heading's number '{_short(token)}' is not a section "
                                "number (whole numbers separated by dots, such as 2.4)")
    if line.auto_numbered:
        return None, 1, Problem(shown, line.number, f"the heading '{_short(text)}' is numbered by Word's "
                                "automatic numbering, which the importer cannot read: type the number into "
                                "the heading (e.g. '2.4 Kaupungin toimialojen ICT-hankkeet')")
    return None, 1, None  # a heading with no number at all


def _plain_heading(lines: Sequence[SourceLine], i: int, shown: str) -> _HeadingLine | None:
    """A plain line as a heading: a number and a title in capitals, or one standing on its own."""
    line = lines[i]
    match = HEADING.match(line.text)
    if match is None:
        return _misnumbered_heading(line, shown)
    number, title = match.group("number"), match.group("title")
    if not SECTION_NUMBER.match(number) or len(title) > MAX_TITLE:
        return None
    if reflow.is_caps(title):
        return _caps_heading(lines, i, number, title)
    if match.group("dot") or not _standalone(lines, i) or not title[0].isupper() \
            or reflow.SENTENCE_END.search(title) or title.endswith(","):
        return None
    return Heading(number, title, line.number), 1, None


def _misnumbered_heading(line: SourceLine, shown: str) -> _HeadingLine | None:
    """A title in capitals after a number that is no section number ('1/2 …'): an error; else not a heading."""
    bad = re.match(r"^(\S*\d\S*)\s+(\S.*)$", line.text)
    if bad and re.search(r"/|\\|\.\.", bad.group(1)) and reflow.is_caps(bad.group(2)):
        return None, 1, Problem(shown, line.number, f"the heading's number '{_short(bad.group(1))}' is not a "
                                "section number (whole numbers separated by dots, such as 2.4)")
    return None


def _caps_heading(lines: Sequence[SourceLine], i: int, number: str, title: str) -> _HeadingLine:
    """A heading in capitals, its title continued on the lines in capitals after it (not a Word paragraph's)."""
    line = lines[i]
    if line.whole:
        return Heading(number, title, line.number), 1, None
    used = 1
    while i + used < len(lines):
        following = lines[i + used]
        if following.whole or not following.text or not reflow.is_caps(following.text) or \
                HEADING.match(following.text) or LABEL.match(following.text):
            break
        title += " " + following.text
        used += 1
    return Heading(number, title, line.number), used, None


def _standalone(lines: Sequence[SourceLine], i: int) -> bool:
    """Whether line i stands on its own: a Word paragraph, or a line between blank lines (or a page's start)."""
    line = lines[i]
    return line.whole or ((i == 0 or not lines[i - 1].text or line.page_start) and
                          (i + 1 >= len(lines) or not lines[i + 1].text))


def _unit_line(lines: Sequence[SourceLine], i: int, units: Sequence[Unit], shown: str,
               expect: bool) -> tuple[str | None, list[Problem]] | None:
    """(unit id or None, problems) when line i names the responding unit; None when it is text.

    A line with a label ('Vastaaja: …', 'Svarande: …') is a unit line whatever it
    names. A short line standing on its own is one when it names a unit closely; right
    after a heading, where a unit line must come, one that names none is an error.
    """
    line = lines[i]
    labelled = LABEL.match(line.text)
    if labelled:
        name = labelled.group("name").strip()
    else:
        if not _standalone(lines, i) or len(line.text) > 100 or line.text.endswith((".", ",", ";")) or line.list_kind:
            return None
        name = line.text
    unit, problems = match_unit(name, units, shown, line.number)
    if unit is None and not labelled and not expect:
        return None
    return unit, problems


def match_unit(name: str, units: Sequence[Unit], shown: str, line: int) -> tuple[str | None, list[Problem]]:
    """The unit a line names, in either language: exactly, or closely with a warning; else an error.

    'A / B' (a unit and its part) is read as its last part, B.
    """
    parts = [p.strip() for p in re.split(r"\s+/\s+|/", name) if p.strip()] or [name]
    wanted = parts[-1]
    scored = sorted(((_likeness(wanted, n), u) for u in units for n in u.names), key=lambda s: -s[0])
    everything = [n for u in units for n in u.names]
    if not scored or scored[0][0] < CLOSE_ENOUGH:
        return None, [Problem(shown, line, f"'{_short(name)}' is not a unit of content/units.yaml"
                              f"{suggest(wanted, everything)}: if it is the responding unit, add it to "
                              "content/units.yaml (id, names and slugs in every language); else correct the line")]
    best, unit = scored[0]
    rival = next((s for s in scored if s[1].id != unit.id), None)
    if rival is not None and rival[0] >= best - 0.02 and best < 1.0:
        return None, [Problem(shown, line, f"'{_short(name)}' is as close to '{unit.id}' as to '{rival[1].id}': "
                              "write the unit's name as in content/units.yaml")]
    if best < 1.0:
        chosen = max(unit.names, key=lambda n: _likeness(wanted, n))
        return unit.id, [Problem(shown, line, f"'{_short(name)}' is not written as any unit's name; read as "
                                 f"'{chosen}' ({unit.id}): check it, or add this spelling's unit to "
                                 "content/units.yaml", severity="warning")]
    return unit.id, []


def _likeness(a: str, b: str) -> float:
    a, b = _norm(a), _norm(b)
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b).ratio()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", nfc(text).casefold().replace("–", "-").replace("—", "-")).strip(" .:;,")


# -- planning the files -------------------------------------------------------------------


def _plan_file(result: Plan, content: Path, root: Path, year: str, r: Response, lang: str,
               meta: dict[str, object], translation_fields: dict[str, str] | None, force: bool, shown: str) -> None:
    name = f"{r.section}-{r.unit}.{lang}.md"
    rel_path = f"content/{year}/{name}"
    target = inside(content, f"{year}/{name}")
    if target is None:
        result.problems.append(Problem(shown, r.line, f"refused: the file {rel_path} would lie outside content/"))
        return
    body = r.body.strip() + "\n"
    if not target.exists():
        post = frontmatter.Post(r.body.strip())
        post.metadata.update(meta)
        text = frontmatter.dumps(post, sort_keys=False, Dumper=_Dumper, allow_unicode=True) + "\n"
        result.files.append(Planned(rel_path, text, "new", r.section, r.unit))
        return
    try:
        raw = target.read_bytes()
        existing = raw.decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError):
        result.problems.append(Problem(rel_path, None, "exists but cannot be read as UTF-8 text: it is not replaced"))
        return
    newline = "\r\n" if "\r\n" in existing else "\n"
    lines = existing.replace("\r\n", "\n").split("\n")
    close = next((k for k in range(1, len(lines)) if lines[k].rstrip() in ("---", "...")), None)
    if lines[0].rstrip() != "---" or close is None:
        result.problems.append(Problem(rel_path, 1, "exists but its front matter is broken: fix it (or remove the "
                                       "file) before importing over it"))
        return
    head = "\n".join(lines[: close + 1])
    old_body = "\n".join(lines[close + 1:]).strip()
    if translation_fields is not None:
        fields = dict(translation_fields)
        if old_body == r.body.strip() and "reviewed" in fields:
            del fields["reviewed"]  # the same text stays as reviewed as it was
        head = set_fields(head + "\n", fields, after="translation_of").rstrip("\n")
    text = (head + "\n\n" + body).replace("\n", newline)
    if raw.startswith(b"\xef\xbb\xbf"):
        text = "\ufeff" + text
    if text == raw.decode("utf-8"):
        result.files.append(Planned(rel_path, text, "unchanged", r.section, r.unit))
    elif force:
        result.files.append(Planned(rel_path, text, "replace", r.section, r.unit))
    else:
        result.problems.append(Problem(shown, r.line, f"{rel_path} exists and its text differs: it is not "
                                       "overwritten; use --force to replace its text (its front matter is kept)"))


def _plan_originals(result: Plan, content: Path, root: Path, year: str, responses: Sequence[Response],
                    units: Sequence[Unit], lang: str, force: bool, shown: str) -> None:
    """A draft file for each response in the original language (weighted where the document's order needs it)."""
    weights = _weights(responses, units)
    for r in responses:
        meta: dict[str, object] = {"section": _Quoted(r.section), "unit": r.unit}
        if r.section + "\0" + r.unit in weights:
            meta["weight"] = weights[r.section + "\0" + r.unit]
        meta["draft"] = True
        _plan_file(result, content, root, year, r, lang, meta, None, force, shown)


def _plan_translations(result: Plan, content: Path, root: Path, year: str, responses: Sequence[Response],
                       loaded: Loaded, original: str, lang: str, force: bool, shown: str) -> None:
    originals = {(o.name_section, o.name_unit): o for o in loaded.responses if o.year == year and o.lang == original}
    for r in responses:
        source: ResponseFile | None = originals.get((r.section, r.unit))
        if source is None:
            result.problems.append(Problem(shown, r.line, f"there is no original content/{year}/{r.section}-{r.unit}."
                                           f"{original}.md for this translation: import the original first"))
            continue
        current = body_digest(source.body)
        digest = current
        if r.digest is not None and r.digest != current:
            digest = r.digest
            result.problems.append(Problem(shown, r.line, f"{source.path} has changed since this document was "
                                           "exported: the translation is recorded as following the exported text, "
                                           "and `check` shows it as outdated", severity="warning"))
        meta: dict[str, object] = {"section": _Quoted(r.section), "unit": r.unit}
        weight = source.meta.data.get("weight") if isinstance(source.meta.data, dict) else None
        if isinstance(weight, int):
            meta["weight"] = weight
        meta.update(translation_of=source.name, source_digest=digest, reviewed=False, draft=True)
        _plan_file(result, content, root, year, r, lang, meta, {"source_digest": digest, "reviewed": "false"},
                   force, shown)


def _weights(responses: Sequence[Response], units: Sequence[Unit]) -> dict[str, int]:
    """A weight for each response of a section whose order in the document is not units.yaml's."""
    order = {u.id: u.order for u in units}
    by_section: dict[str, list[Response]] = {}
    for r in responses:
        by_section.setdefault(r.section, []).append(r)
    weights = {}
    for number, rs in by_section.items():
        ranks = [order.get(r.unit, 0) for r in rs]
        if ranks != sorted(ranks):
            for position, r in enumerate(rs, start=1):
                weights[number + "\0" + r.unit] = position
    return weights


def _plan_report(result: Plan, content: Path, root: Path, year: str, parsed: Parsed, loaded: Loaded, shown: str,
                 source_name: str) -> None:
    """A draft report.yaml with every heading found, the Swedish titles left to the editor."""
    target = inside(content, f"{year}/report.yaml")
    if target is None:
        result.problems.append(Problem(shown, None, f"refused: content/{year}/report.yaml would lie outside content/"))
        return
    words = reflow.vocabulary(line.text for r in parsed.responses for line in r.lines if line.text)
    previous = _previous_report(loaded, year)
    draft = _Draft(year, str(previous.get("year", "")) if previous else "", tuple(_languages(loaded)))
    out = [
        f"# The structure of the {year} report: a DRAFT written by `python build.py import` from {source_name}",
        f"# on {datetime.date.today().isoformat()}. Before publishing, the editor",
        "# - checks every title: the importer wrote the document's capitals in sentence case (a name such as",
        "#   'Espoon' or 'ICT' is capitalised only where the document's own text writes it so);",
        "# - writes the titles marked TODO (`python build.py check` lists each one missing until then);",
        "# - sets the publication date and checks the evaluation report's address and title.",
        f"year: {int(year)}",
        "title:",
    ]
    out += _title_lines(draft, _document_title(parsed.preface), previous)
    out += _committee_lines(draft, previous)
    out.append("# published: \"YYYY-MM-DD\"  TODO: the date the responses are published")
    out += _evaluation_report_lines(draft, previous)
    out += _section_lines(draft, parsed.headings, words)
    rel_path = f"content/{year}/report.yaml"
    result.files.append(Planned(rel_path, "\n".join(out) + "\n", "new"))


@dataclass(frozen=True)
class _Draft:
    """What the draft report.yaml is written for: its year, the year of last year's report, the site's languages."""

    year: str
    prev_year: str
    """The year of the report before (its values are offered with this year's number), or ''."""
    languages: tuple[str, ...]

    def again(self, value: Any) -> str:
        """Last year's value as text, with last year's number changed to this year's."""
        text = str(value) if value is not None else ""
        return text.replace(self.prev_year, self.year) if self.prev_year else text

    def hints(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Last year's values in the other languages (the year changed), as hints beside their TODOs."""
        return {c: self.again(values.get(c)) for c in self.languages[1:] if values.get(c)}

    def localized(self, indent: str, values: Mapping[str, str], hints: Mapping[str, str]) -> list[str]:
        """A line per language: its value, or a TODO (with its hint, when there is one)."""
        out = []
        for code in self.languages:
            if values.get(code):
                out.append(f"{indent}{code}: {_scalar(values[code])}")
            else:
                hint = f" (last year's, with the year changed: {hints[code]})" if hints.get(code) else ""
                out.append(f"{indent}# {code}: TODO{hint}")
        return out


def _document_title(preface: Sequence[SourceLine]) -> str:
    """The document's title: the preface's first paragraph, when it is short enough to be one; else ''."""
    title_lines: list[str] = []
    for line in preface:
        if not line.text:
            if title_lines:
                break
            continue
        title_lines.append(line.text)
    return " ".join(title_lines) if title_lines and len(" ".join(title_lines)) <= MAX_TITLE else ""


def _title_lines(draft: _Draft, doc_title: str, previous: Mapping[str, Any]) -> list[str]:
    """The report's title: the document's own (else last year's) in the original language; hints for the rest."""
    prev_title = previous.get("title", {}) if previous else {}
    original = draft.languages[0]
    return draft.localized("  ", {original: doc_title or draft.again(prev_title.get(original))}
                           if doc_title or prev_title else {}, draft.hints(prev_title))


def _committee_lines(draft: _Draft, previous: Mapping[str, Any]) -> list[str]:
    """The committee's name in each language, as last year's report has it."""
    prev_committee = previous.get("committee", {}) if previous else {}
    return ["committee:", *draft.localized("  ", {c: str(v) for c, v in prev_committee.items()}
                                           if isinstance(prev_committee, dict) else {}, {})]


def _evaluation_report_lines(draft: _Draft, previous: Mapping[str, Any]) -> list[str]:
    """The evaluation report's address and title, from last year's with the year changed."""
    prev_eval = previous.get("evaluation_report", {}) if previous else {}
    url = prev_eval.get("url") if isinstance(prev_eval, dict) else None
    eval_title = prev_eval.get("title", {}) if isinstance(prev_eval, dict) else {}
    original = draft.languages[0]
    return ["evaluation_report:", f"  url: {_scalar(str(url))}" if url else "  # url: TODO (https://…)", "  title:",
            *draft.localized("    ", {original: draft.again(eval_title.get(original))}
                             if eval_title.get(original) else {}, draft.hints(eval_title))]


def _section_lines(draft: _Draft, headings: Sequence[Heading], words: dict[str, str]) -> list[str]:
    """Each heading's number and title (in sentence case) in the original language, TODOs for the others."""
    original, others = draft.languages[0], draft.languages[1:]
    out = ["sections:"]
    for h in headings:
        out.append(f"  - number: \"{h.number}\"")
        out.append("    title:")
        out.append(f"      {original}: {_scalar(reflow.sentence_case(h.title, words))}")
        for code in others:
            out.append(f"      # {code}: TODO")
    return out


def _previous_report(loaded: Loaded, year: str) -> dict[str, Any]:
    earlier = [y for y, d in loaded.reports.items() if y < year and isinstance(d.data, dict)]
    return dict(loaded.reports[max(earlier)].data) if earlier else {}


def _scalar(text: str) -> str:
    dumped: str = yaml.safe_dump(text, allow_unicode=True, width=10_000, default_style=None)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


# -- the project -------------------------------------------------------------------------


def _languages(loaded: Loaded) -> list[str]:
    data = loaded.settings.data if loaded.settings is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("languages"), list):
        return []
    return [str(lang["code"]) for lang in data["languages"] if isinstance(lang, dict) and "code" in lang]


def _units(loaded: Loaded) -> list[Unit]:
    data = loaded.units.data if loaded.units is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        return []
    units = []
    for order, u in enumerate(data["units"]):
        if isinstance(u, dict) and isinstance(u.get("id"), str) and isinstance(u.get("name"), dict):
            names = tuple(str(n) for n in u["name"].values() if n)
            units.append(Unit(u["id"], names, u.get("parent"), order))
    return units


def _span(lines: Sequence[SourceLine]) -> str:
    """'line 3' or 'lines 3–9'."""
    numbers = [line.number for line in lines if line.text] or [lines[0].number if lines else 0]
    return f"line {numbers[0]}" if numbers[0] == numbers[-1] else f"lines {numbers[0]}–{numbers[-1]}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Quoted(str):
    """A value written in double quotes, as the content files do ("1.10" must never become 1.1)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Quoted, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", str(value), style='"'))
