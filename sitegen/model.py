"""Stage 3, model: turn validated content into frozen, typed objects the templates read.

No I/O and no judgement here: validate has already vouched for the data.
Texts are per language; a response always has its original and may lack a translation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from .cache import Cache
from .load import Loaded, ResponseFile


@dataclass(frozen=True)
class Language:
    code: str
    """Used in file names and URLs: fi, sv."""
    locale: str
    """For dates and og:locale: fi_FI, sv_FI."""


@dataclass(frozen=True)
class Unit:
    id: str
    """The permanent ASCII id, also the anchor of the unit's responses."""
    kind: str
    """unit or person."""
    name: Mapping[str, str]
    slug: Mapping[str, str]
    parent: str | None


@dataclass(frozen=True)
class Translation:
    """How a translated text stands against its original."""

    recorded: str | None
    """The digest of the original recorded in the translation's front matter."""
    current: str
    """The digest of the original now."""
    reviewed: bool

    @property
    def stale(self) -> bool:
        """The original changed after the translation was made (or no digest was ever recorded)."""
        return self.recorded != self.current


@dataclass(frozen=True)
class Text:
    """One language version of a response."""

    lang: str
    source: str
    """The Markdown file, relative to the project root."""
    markdown: str
    digest: str
    """body_digest() of `markdown`: the cache key of its rendering."""
    draft: bool
    translation: Translation | None
    """None for the original."""
    body_line: int = 1
    """The line of the file on which `markdown` starts (to locate a problem found while rendering)."""


@dataclass(frozen=True)
class Response:
    year: int
    section: str
    unit: Unit
    weight: int
    updated: dt.date | None
    texts: Mapping[str, Text]
    """Every language version that exists and is published, the original first."""

    @property
    def anchor(self) -> str:
        """The permanent fragment identifier of this response on its section page."""
        return self.unit.id

    @property
    def draft(self) -> bool:
        """True when the original is a draft (then the response shows only in preview)."""
        return next(iter(self.texts.values())).draft


@dataclass(frozen=True)
class Section:
    number: str
    title: Mapping[str, str]
    responses: tuple[Response, ...]

    @property
    def level(self) -> int:
        """1 for a chapter, 2 for 1.3, 3 for 1.3.1."""
        return self.number.count(".") + 1

    @property
    def parent(self) -> str | None:
        return self.number.rsplit(".", 1)[0] if "." in self.number else None


@dataclass(frozen=True)
class Report:
    year: int
    title: Mapping[str, str]
    committee: Mapping[str, str]
    published: dt.date
    evaluation_report_url: Mapping[str, str]
    """Per language; report.yaml may give one address for every language."""
    evaluation_report_title: Mapping[str, str]
    sections: tuple[Section, ...]
    """Every heading, in order, answered or not."""

    # Every page asks these questions of its report: they are answered from indexes
    # built once per report (cached_property writes to the instance's __dict__, which
    # a frozen dataclass allows, and leaves equality and repr to the fields).

    @cached_property
    def answered(self) -> tuple[Section, ...]:
        """The sections with at least one response: each gets a page."""
        return tuple(s for s in self.sections if s.responses)

    @cached_property
    def _by_number(self) -> dict[str, Section]:
        return {s.number: s for s in self.sections}

    @cached_property
    def _children(self) -> dict[str | None, tuple[Section, ...]]:
        children: dict[str | None, list[Section]] = {}
        for s in self.sections:
            children.setdefault(s.parent, []).append(s)
        return {number: tuple(found) for number, found in children.items()}

    @cached_property
    def _positions(self) -> dict[int, tuple[int, int]]:
        return {id(r): (i, j) for i, s in enumerate(self.sections) for j, r in enumerate(s.responses)}

    def section(self, number: str) -> Section:
        return self._by_number[number]

    def children(self, number: str) -> tuple[Section, ...]:
        """The headings directly below `number`."""
        return self._children.get(number, ())

    def below(self, number: str) -> tuple[Section, ...]:
        """Every heading under `number`, at any depth, in order."""
        return tuple(s for s in self.sections if s.number.startswith(number + "."))

    def ancestors(self, number: str) -> tuple[Section, ...]:
        """The headings above `number`, outermost first."""
        out = []
        while "." in number:
            number = number.rsplit(".", 1)[0]
            out.append(self.section(number))
        return tuple(reversed(out))

    @cached_property
    def responses(self) -> tuple[Response, ...]:
        """Every response, in the report's order."""
        return tuple(r for s in self.sections for r in s.responses)

    def order(self, response: Response) -> tuple[int, int]:
        """The position of a response in the report (section, then place within the section)."""
        return self._positions.get(id(response), (len(self.sections), 0))


@dataclass(frozen=True)
class Site:
    base_url: str
    languages: tuple[Language, ...]
    """The first is the original language."""
    units: Mapping[str, Unit]
    reports: tuple[Report, ...]
    """Newest first."""
    statement: Mapping[str, Any] = field(default_factory=dict)
    """The accessibility statement's data (content/accessibility.yaml), as validated."""
    preview: bool = False
    """True in `serve`: drafts are shown, under a banner."""
    drafts: int = field(default=0)
    """How many draft files the content holds."""

    @property
    def original(self) -> str:
        return self.languages[0].code

    def unit_path(self, unit: Unit) -> tuple[Unit, ...]:
        """The unit and its parents, outermost first."""
        return self._unit_paths[unit.id]

    def descendants(self, unit: Unit) -> set[str]:
        """The ids of the unit and every unit below it."""
        return set(self._descendants[unit.id])

    @cached_property
    def _unit_paths(self) -> dict[str, tuple[Unit, ...]]:
        paths = {}
        for unit in self.units.values():
            chain = [unit]
            while chain[0].parent is not None:
                chain.insert(0, self.units[chain[0].parent])
            paths[unit.id] = tuple(chain)
        return paths

    @cached_property
    def _descendants(self) -> dict[str, frozenset[str]]:
        below: dict[str, set[str]] = {uid: {uid} for uid in self.units}
        for unit_id, chain in self._unit_paths.items():
            for ancestor in chain:
                below[ancestor.id].add(unit_id)
        return {uid: frozenset(ids) for uid, ids in below.items()}


def build_model(loaded: Loaded, preview: bool = False, base_url: str | None = None,
                cache: Cache | None = None) -> Site:
    """Assemble the site from validated content; drafts only when `preview`.

    With a warm `cache` (the preview), a year whose report and response files are the
    same objects as in the last build keeps its Report: an edit models one year again.
    """
    cache = cache or Cache.disabled()
    settings: Any = loaded.settings.data if loaded.settings else {}
    languages = tuple(Language(lang["code"], lang["locale"]) for lang in settings["languages"])
    assert loaded.units is not None
    units = cache.memo_from("units", (loaded.units,), lambda: {
        u["id"]: Unit(u["id"], u.get("kind", "unit"), dict(u["name"]), dict(u["slug"]), u.get("parent"))
        for u in loaded.units.data["units"]})  # type: ignore[union-attr]
    codes = [lang.code for lang in languages]
    by_year: dict[str, list[ResponseFile]] = {}
    for r in loaded.responses:
        if preview or not r.draft:
            by_year.setdefault(r.year, []).append(r)
    reports = sorted((cache.memo_from(f"report {preview} {codes}", (doc, units, *by_year.get(year, ())),
                                      partial(build_report, year, doc.data, by_year.get(year, []), codes, units,
                                              cache))
                      for year, doc in loaded.reports.items()), key=lambda r: r.year, reverse=True)
    statement = loaded.accessibility.data if loaded.accessibility is not None else {}
    drafts = sum(1 for r in loaded.responses if r.draft)
    return Site(base_url or settings["base_url"], languages, units, tuple(reports), statement, preview, drafts)


def build_report(year: str, data: Mapping[str, Any], shown: list[ResponseFile], codes: list[str],
                 units: Mapping[str, Unit], cache: Cache | None = None) -> Report:
    """One year's report: its headings, each with the responses to it in order (weight, then unit).

    In a warm `cache`, a response whose files are unchanged, and a heading whose responses
    are, stay the same objects: the render stage then keeps their pages' plan.
    """
    cache = cache or Cache.disabled()
    order = {uid: i for i, uid in enumerate(units)}
    files = {(r.year, r.meta.data["section"], r.meta.data["unit"], r.lang): r for r in shown}
    by_section: dict[str, list[Response]] = {}
    for (_, section, unit_id, lang), source in files.items():
        if lang == codes[0]:
            versions = tuple(files.get((year, section, unit_id, code)) for code in codes)
            by_section.setdefault(section, []).append(cache.memo_from(
                "response", (*versions, units[unit_id]), partial(build_response, source, files, codes,
                                                                 units[unit_id])))
    sections = []
    for s in data["sections"]:
        answers = tuple(sorted(by_section.get(s["number"], []), key=lambda r: (r.weight, order[r.unit.id])))
        sections.append(cache.memo_from("section", (s, *answers),
                                        partial(Section, s["number"], dict(s["title"]), answers)))
    evaluation = data["evaluation_report"]
    url = evaluation["url"]
    return Report(int(year), dict(data["title"]), dict(data["committee"]), dt.date.fromisoformat(data["published"]),
                  dict(url) if isinstance(url, dict) else dict.fromkeys(codes, url), dict(evaluation["title"]),
                  tuple(sections))


def build_response(source: ResponseFile, files: Mapping[tuple[str, str, str, str], ResponseFile],
                   codes: list[str], unit: Unit) -> Response:
    """A response with its original text and every translation of it that is shown."""
    meta = source.meta.data
    texts: dict[str, Text] = {}
    for code in codes:
        f = files.get((source.year, meta["section"], meta["unit"], code))
        if f is None:
            continue
        translation = None if code == codes[0] else Translation(
            f.meta.data.get("source_digest"), source.digest, bool(f.meta.data.get("reviewed")))
        texts[code] = Text(code, f.path, f.body, f.digest, f.draft, translation, f.body_line)
    updated = meta.get("updated")
    return Response(int(source.year), meta["section"], unit, int(meta.get("weight", 0)),
                    dt.date.fromisoformat(updated) if updated else None, texts)
