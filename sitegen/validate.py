"""Stage 2, validate: check every loaded file against schema.yaml and the rules across files.

Returns problems, never raises for content. Each problem points at the line of
the offending key and, for near misses, suggests the nearest valid value.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import TOOL_ROOT, links, terminology
from .cache import Cache, digest
from .errors import Problem, from_plain, sort, to_plain
from .load import Document, KeyPath, Loaded, ResponseFile, _name, language_codes
from .parallel import pmap

if TYPE_CHECKING:
    import jsonschema

TRANSLATION_FIELDS = ("translation_of", "source_digest", "reviewed")


@cache
def load_schema(path: Path, checked: bool = False) -> dict[str, Any]:
    """Read schema.yaml and check it against the JSON Schema metaschema (a bad schema is our bug).

    `checked`: this very schema passed the check before (the cache says so), skip it.
    The generator's own schema.yaml is checked by its test suite, not on every build.
    """
    schema: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"),
                                       Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not checked and path.resolve() != TOOL_ROOT / "schema.yaml":
        import jsonschema  # loaded on first use: a build that reuses its cache may never need it

        jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate(loaded: Loaded, schema_path: Path, cache: Cache | None = None) -> list[Problem]:
    """Every problem in the loaded content: each file on its own, then the rules across files.

    The checks of one file depend only on its text and the schema, so a file
    unchanged since the last build reuses its result from `cache`.
    """
    cache = cache or Cache.disabled()
    schema_key = schema_digest(schema_path)
    schema = load_schema(schema_path, checked=cache.get(("schema-ok", schema_key)) is not None)
    cache.put(("schema-ok", schema_key), True)
    problems = list(loaded.problems) + check_data_files(loaded, schema, schema_key, cache)
    terms, list_problems = terminology.terms_to_check(loaded.terminology, {p.path for p in problems})
    problems += list_problems
    links_found = file_checks(loaded.responses, schema, digest(schema_key, repr(terms)), cache, terms)
    for file_problems, _ in links_found.values():
        problems += file_problems
    bad = {p.path for p in problems if p.severity == "error"}
    languages = settings_languages(loaded.settings, bad)
    problems += check_data_rules(loaded, languages, bad)
    sections = {year: {s["number"]: i for i, s in enumerate(doc.data["sections"])}
                for year, doc in loaded.reports.items() if doc.path not in bad}
    problems += check_responses(loaded, languages, known_units(loaded.units, bad), sections, bad,
                                _remembered_names(cache), cache)
    problems += check_links(loaded, {path: found for path, (_, found) in links_found.items()})
    return sort(problems)


def check_data_files(loaded: Loaded, schema: Mapping[str, Any], schema_key: str, cache: Cache) -> list[Problem]:
    """The data files (site, units, accessibility, every report) against their schema definitions."""
    problems: list[Problem] = []
    for doc, kind in [(loaded.settings, "settings"), (loaded.units, "units"), (loaded.accessibility, "accessibility"),
                      (loaded.terminology, "terminology"), *((doc, "report") for doc in loaded.reports.values())]:
        if doc is not None:
            problems += from_plain(cache.remember(("data-check", doc.path, repr(doc.data), schema_key),
                                                  partial(_plain_schema_check, doc, schema, kind)))
    return problems


def _plain_schema_check(doc: Document, schema: Mapping[str, Any], kind: str) -> list[tuple[Any, ...]]:
    return to_plain(check_schema(doc, schema, kind))


def check_data_rules(loaded: Loaded, languages: tuple[str, ...], bad: set[str]) -> list[Problem]:
    """The rules of the data files that a schema cannot say (unique ids, every language, order)."""
    problems: list[Problem] = []
    if loaded.settings is not None and loaded.settings.path not in bad:
        problems += check_settings(loaded.settings)
    if loaded.units is not None and loaded.units.path not in bad and languages:
        problems += check_units(loaded.units, languages)
    if loaded.accessibility is not None and loaded.accessibility.path not in bad and languages:
        problems += check_localized(loaded.accessibility, languages)
    for year, doc in loaded.reports.items():
        if doc.path not in bad:
            problems += check_report(doc, year, languages)
    return problems


Link = tuple[int, str, str]
"""(line, url as written, the content path it points to) of a link to another response."""


def schema_digest(schema_path: Path) -> str:
    """What every result checked against the schema is keyed by."""
    return digest(schema_path.read_bytes())


def check_key(path: str, file_digest: str, rules_key: str) -> tuple[str, ...]:
    """The cache key of one file's own checks: (plain problems, its links to other responses)."""
    return ("check", path, file_digest, rules_key)


def file_checks(responses: Sequence[ResponseFile], schema: Mapping[str, Any], rules_key: str,
                cache: Cache, terms: tuple[terminology.Term, ...] = ()
                ) -> dict[str, tuple[list[Problem], list[Link]]]:
    """The checks of each file on its own (schema, Markdown, terms), from the cache or on every core.

    `rules_key` is a digest of the rules (the schema and the terms): with the file's
    bytes, it decides whether an earlier result still holds.
    """
    out: dict[str, tuple[list[Problem], list[Link]]] = {}
    misses = []
    for r in responses:
        hit = cache.thawed(check_key(r.path, r.file_digest, rules_key), _thaw_checks)
        if hit is None:
            misses.append(r)
        else:
            out[r.path] = hit
    results = pmap(partial(_check_one, schema=schema, terms=terms), misses)
    for r, (problems, found, html) in zip(misses, results, strict=True):
        cache.put(check_key(r.path, r.file_digest, rules_key), (to_plain(problems), found))
        if html is not None:  # the render stage takes the body's HTML from here
            cache.put(rendered_key(r), html)
        out[r.path] = problems, found
    return out


def rendered_key(r: ResponseFile) -> tuple[str, ...]:
    """The store's key of a body's sanitised HTML: render._html_key's (a test keeps them equal)."""
    from .markup import RENDERER_VERSION

    return ("html", r.digest, r.year, RENDERER_VERSION)


def _thaw_checks(stored: tuple[list[tuple[Any, ...]], list[Link]]) -> tuple[list[Problem], list[Link]]:
    return from_plain(stored[0]), stored[1]


def _check_one(r: ResponseFile, schema: Mapping[str, Any], terms: tuple[terminology.Term, ...]
               ) -> tuple[list[Problem], list[Link], str | None]:
    problems, links = check_file(r, schema)
    html = None
    if not any(p.severity == "error" for p in problems):
        rendered, html = check_rendered(r)
        problems += rendered
    return problems + terminology.check_terms(r, terms), links, html


def check_rendered(r: ResponseFile) -> tuple[list[Problem], str | None]:
    """Render the body as the render stage will, and check what Python-Markdown made of it (tags,
    attributes, addresses): whatever the line-by-line checks above misread, this sees. Returns the
    problems and, when there are none, the sanitised HTML for the render stage to reuse."""
    from . import markup  # Python-Markdown loads only when a body is checked

    raw = markup.try_raw_html(r.body, r.year)
    if raw is None:
        return [Problem(r.path, r.body_line + markup.deepest_line(r.body), markup.TOO_COMPLEX)], None
    clean = markup.sanitize(raw)
    if clean == raw and "<img" not in raw:
        # Nothing for the sanitiser to remove, and no image (the one rule it does not enforce
        # itself): nothing to find. Nearly every body; parsing the HTML costs more than rendering.
        return [], clean
    problems, seen = [], set()
    for token, message in markup.findings(raw):
        if message not in seen:
            seen.add(message)
            problems.append(Problem(r.path, _line_of(r, token), message))
    return problems, None if problems else clean


def _line_of(r: ResponseFile, token: str) -> int:
    """The first line of the body that holds `token` (case aside), else the body's first line."""
    lowered = token.lower()
    for offset, line in enumerate(r.body.split("\n")):
        if lowered in line.lower():
            return r.body_line + offset
    return r.body_line


def check_file(r: ResponseFile, schema: Mapping[str, Any]) -> tuple[list[Problem], list[Link]]:
    """One response file against the schema and the Markdown rules; returns its links to check later."""
    problems = check_schema(r.meta, schema, None)
    body_problems, links = check_body(r)
    return problems + body_problems, links


# -- schema -----------------------------------------------------------------


def check_schema(doc: Document, schema: Mapping[str, Any], kind: str | None) -> list[Problem]:
    """Validate one document against the root schema (front matter) or one of its $defs."""
    if doc.data is None or _quick_valid(schema, doc.data, kind):  # None: the YAML did not parse (load said why)
        return []
    validator = _validator(id(schema), schema, kind)
    problems: list[Problem] = []
    for error in validator.iter_errors(doc.data):
        problems += describe(error, doc)
    # One fault can break two rules worded alike (a date breaks both its pattern and its format): once.
    return list(dict.fromkeys(problems))


_validators: dict[tuple[int, str | None], jsonschema.protocols.Validator] = {}


def _validator(key: int, schema: Mapping[str, Any], kind: str | None) -> jsonschema.protocols.Validator:
    """One validator per schema and kind, built once (building one costs more than using it)."""
    if (key, kind) not in _validators:
        import jsonschema

        target = dict(schema) if kind is None else {
            k: v for k, v in schema.items() if k not in ("required", "properties", "additionalProperties", "type")
        } | {"$ref": f"#/$defs/{kind}"}
        _validators[(key, kind)] = jsonschema.Draft202012Validator(target, format_checker=jsonschema.FormatChecker())
    return _validators[(key, kind)]


def _quick_valid(schema: Mapping[str, Any], data: Any, kind: str | None = None) -> bool:
    """True when a document is certainly valid, checked by a compiled validator (~10x faster).

    Only a yes is trusted: anything else goes through jsonschema, whose errors
    carry the paths our messages need.
    """
    key = (id(schema), kind)
    if key not in _compiled:
        import fastjsonschema

        # schema.yaml uses only keywords that draft 7 shares with 2020-12 (a test keeps it so).
        target = {k: v for k, v in schema.items() if not k.startswith("$")} if kind is None else {
            "$defs": schema["$defs"], "$ref": f"#/$defs/{kind}"}
        _compiled[key] = fastjsonschema.compile(target, formats={"date": _is_date})
    try:
        _compiled[key](data)
    except Exception:  # noqa: BLE001 (any failure means: ask jsonschema)
        return False
    return True


_compiled: dict[tuple[int, str | None], Any] = {}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_date(value: str) -> bool:
    """A real calendar date in YYYY-MM-DD (2022-02-30 has the form, but is no date)."""
    import datetime as dt

    try:
        return bool(_DATE.fullmatch(value)) and dt.date.fromisoformat(value) is not None
    except ValueError:
        return False


def describe(error: jsonschema.ValidationError, doc: Document) -> list[Problem]:
    """Turn a jsonschema error into problems that name the field, the value found and what is allowed."""
    if error.validator in ("anyOf", "oneOf", "allOf", "$ref") and error.context:
        return [p for sub in error.context for p in describe(sub, doc)]
    path: KeyPath = tuple(error.absolute_path)
    field = _name(path) or "front matter"
    explain = _EXPLAIN.get(str(error.validator))
    if explain is not None:
        return explain(error, doc, path, field)
    return [Problem(doc.path, doc.line_of(path), f"{field}: {error.message}", field=field)]


def _unknown_fields(error: jsonschema.ValidationError, doc: Document, path: KeyPath, field: str) -> list[Problem]:
    value = error.instance
    if not isinstance(value, dict):
        return [Problem(doc.path, doc.line_of(path), f"{field}: {error.message}", field=field)]
    allowed = sorted(_schema_of(error).get("properties", {}))
    out = []
    for key in value:
        if key in allowed:
            continue
        fname = _name(path + (key,))
        listing = f"; allowed fields are {', '.join(allowed)}" if allowed else ""
        out.append(Problem(doc.path, doc.line_of(path + (key,)),
            f"{fname}: unknown field{suggest(key, allowed) or listing}", field=fname))
    return out


def _required(error: jsonschema.ValidationError, doc: Document, path: KeyPath, field: str) -> list[Problem]:
    missing = re.findall(r"'([^']+)' is a required property", error.message)
    name = _name(path + (missing[0],)) if missing else field
    where = doc.line_of(path) if path else max(doc.start_line - 1, 1)
    return [Problem(doc.path, where, f"{name}: required field is missing", field=name)]


def _wrong_type(error: jsonschema.ValidationError, doc: Document, path: KeyPath, field: str) -> list[Problem]:
    expected, value = error.validator_value, error.instance
    message = f"{field}: expected {_type_words(expected)}, found {describe_value(value)}"
    raw = doc.plain.get(path)
    if expected == "string" and raw is not None:
        kind = "true or false" if isinstance(value, bool) else "a number"
        message += f"; YAML reads {raw} as {kind}: quote it, {path[-1]}: \"{raw}\""
    return [Problem(doc.path, doc.line_of(path), message, field=field)]


def _not_listed(error: jsonschema.ValidationError, doc: Document, path: KeyPath, field: str) -> list[Problem]:
    choices = [str(v) for v in error.validator_value]  # type: ignore[union-attr]
    hint = suggest(str(error.instance), choices)
    return [Problem(doc.path, doc.line_of(path), f"{field}: {describe_value(error.instance)} is not allowed; "
                    f"expected one of {', '.join(choices)}{hint}", field=field)]


def _wrong_form(error: jsonschema.ValidationError, doc: Document, path: KeyPath, field: str) -> list[Problem]:
    schema = _schema_of(error)
    what = schema.get("title") or first_sentence(schema.get("description", "")) or "another form"
    if schema.get("examples"):
        what += f", e.g. {schema['examples'][0]}"
    return [Problem(doc.path, doc.line_of(path), f"{field}: {describe_value(error.instance)} is not valid; "
                    f"expected {what}", field=field)]


def _schema_of(error: jsonschema.ValidationError) -> dict[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


_EXPLAIN: dict[str, Callable[[jsonschema.ValidationError, Document, KeyPath, str], list[Problem]]] = {
    "additionalProperties": _unknown_fields, "required": _required, "type": _wrong_type, "enum": _not_listed,
    "pattern": _wrong_form, "format": _wrong_form,
}


def describe_value(value: Any) -> str:
    """A short description of a YAML value for messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value) if len(str(value)) < 60 else repr(str(value)[:57] + "...")


def _type_words(expected: Any) -> str:
    words = {"string": "text (a string)", "integer": "a whole number", "boolean": "true or false",
             "object": "a mapping of fields", "array": "a list", "number": "a number"}
    if isinstance(expected, list):
        return " or ".join(words.get(e, str(e)) for e in expected)
    return words.get(expected, str(expected))


def first_sentence(text: str) -> str:
    """The first sentence of a schema description, lower-cased, for messages."""
    sentence = re.split(r"(?<!e\.g)(?<!i\.e)\.\s", text.strip())[0].split(", as ")[0].rstrip(".")
    return sentence[:1].lower() + sentence[1:] if sentence else ""


def suggest(value: str, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest choice, or ''."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if value.lower() in lowered and lowered[value.lower()] != value:
        return f"; did you mean '{lowered[value.lower()]}'?"
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def suggest_language(value: str, codes: Iterable[str]) -> str:
    """Like suggest(), knowing that 'swe' and 'fin' (ISO 639-2) are 'sv' and 'fi'."""
    from babel.core import get_global

    alias = str(get_global("language_aliases").get(value.lower(), "")).split("_")[0]
    codes = list(codes)
    return f"; did you mean '{alias}'?" if alias in codes and alias != value else suggest(value, codes)


def suggest_section(value: str, numbers: Iterable[str]) -> str:
    """The nearest section number: the same parent first, then the closest number."""
    numbers = list(numbers)
    if not re.fullmatch(r"\d+(\.\d+)*", value):
        return suggest(value, numbers)
    parts = [int(n) for n in value.split(".")]

    def distance(number: str) -> tuple[int, int, int]:
        other = [int(n) for n in number.split(".")]
        shared = 0
        while shared < min(len(parts), len(other)) and parts[shared] == other[shared]:
            shared += 1
        last = abs(other[-1] - parts[-1]) if len(other) == len(parts) else 99
        return (-shared, abs(len(other) - len(parts)), last)

    best = min(numbers, key=distance, default=None)
    return f"; did you mean '{best}'?" if best is not None and distance(best)[0] < 0 else ""


# -- data files ---------------------------------------------------------------


def settings_languages(settings: Document | None, bad: set[str]) -> tuple[str, ...]:
    """The language codes from site.yaml, first the original; () when site.yaml is broken."""
    if settings is None or settings.path in bad:
        return ()
    return language_codes(settings)


def known_units(units: Document | None, bad: set[str]) -> dict[str, Any]:
    """Unit id → its entry; {} when units.yaml is broken (then units are not checked)."""
    if units is None or units.path in bad:
        return {}
    return {u["id"]: u for u in units.data["units"]}


def check_settings(doc: Document) -> list[Problem]:
    """Language codes are unique."""
    seen: set[str] = set()
    problems = []
    for i, lang in enumerate(doc.data["languages"]):
        if lang["code"] in seen:
            problems.append(Problem(doc.path, doc.line_of(("languages", i, "code")),
                f"languages[{i}].code: '{lang['code']}' is listed twice", field="languages"))
        seen.add(lang["code"])
    return problems


def check_units(doc: Document, languages: tuple[str, ...]) -> list[Problem]:
    """Ids and slugs are unique, every language is present, parents exist and form no cycle."""
    problems = []
    units = doc.data["units"]
    ids = [u["id"] for u in units]
    seen_ids: set[str] = set()
    seen_slugs: dict[tuple[str, str], str] = {}
    for i, unit in enumerate(units):
        at = ("units", i)
        if unit["id"] in seen_ids:
            problems.append(Problem(doc.path, doc.line_of(at + ("id",)),
                f"units[{i}].id: '{unit['id']}' is listed twice", field="id"))
        seen_ids.add(unit["id"])
        for key in ("name", "slug"):
            for lang in languages:
                if lang not in unit[key]:
                    problems.append(Problem(doc.path, doc.line_of(at + (key,)),
                        f"units[{i}].{key}: the '{lang}' version is missing", field=key))
            for lang in unit[key]:
                if lang not in languages:
                    problems.append(Problem(doc.path, doc.line_of(at + (key, lang)),
                        f"units[{i}].{key}.{lang}: '{lang}' is not a language of the site "
                        f"(content/site.yaml lists {', '.join(languages)})", field=key))
        for lang, slug in unit["slug"].items():
            other = seen_slugs.get((lang, slug))
            if other and other != unit["id"]:
                problems.append(Problem(doc.path, doc.line_of(at + ("slug", lang)),
                    f"units[{i}].slug.{lang}: '{slug}' is already the slug of '{other}'", field="slug"))
            seen_slugs[(lang, slug)] = unit["id"]
        parent = unit.get("parent")
        if parent is not None and parent not in ids:
            problems.append(Problem(doc.path, doc.line_of(at + ("parent",)),
                f"units[{i}].parent: unit '{parent}' is unknown{suggest(parent, ids)}", field="parent"))
    by_id = {u["id"]: u for u in units}
    for i, unit in enumerate(units):
        seen, current = set(), unit.get("parent")
        while current in by_id and current not in seen and current != unit["id"]:
            seen.add(current)
            current = by_id[current].get("parent")
        if current == unit["id"]:
            problems.append(Problem(doc.path, doc.line_of(("units", i, "parent")),
                f"units[{i}].parent: '{unit['id']}' is its own ancestor", field="parent"))
    return problems


def check_localized(doc: Document, languages: tuple[str, ...]) -> list[Problem]:
    """Every text given per language has every language of the site (any depth)."""
    problems: list[Problem] = []

    def walk(value: Any, path: KeyPath) -> None:
        if isinstance(value, dict):
            if value and all(isinstance(k, str) and len(k) in (2, 3) and k.islower() for k in value) and \
                    all(isinstance(v, str) for v in value.values()):
                for lang in languages:
                    if lang not in value:
                        problems.append(Problem(doc.path, doc.line_of(path),
                            f"{_name(path)}: the '{lang}' version is missing", field=_name(path)))
                return
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    walk(doc.data, ())
    return problems


def check_report(doc: Document, year: str, languages: tuple[str, ...]) -> list[Problem]:
    """The year matches the folder; headings are unique, in order, nested under existing parents."""
    problems = []
    data = doc.data
    if str(data["year"]) != year:
        problems.append(Problem(doc.path, doc.line_of(("year",)),
            f"year: {data['year']} does not match the folder '{year}'", field="year"))
    texts: list[KeyPath] = [("title",), ("committee",), ("evaluation_report", "title")]
    texts += [("sections", i, "title") for i in range(len(data["sections"]))]
    texts += [("evaluation_report", "url")] if isinstance(data["evaluation_report"]["url"], dict) else []
    for at in texts:
        value: Any = data
        for part in at:
            value = value[part]
        for lang in languages:
            if lang not in value:
                problems.append(Problem(doc.path, doc.line_of(at),
                    f"{_name(at)}: the '{lang}' version is missing", field=_name(at)))
    seen: set[str] = set()
    previous: tuple[int, ...] = ()
    for i, section in enumerate(data["sections"]):
        number = section["number"]
        at = ("sections", i, "number")
        key = tuple(int(n) for n in number.split("."))
        parent = number.rsplit(".", 1)[0] if "." in number else None
        if number in seen:
            problems.append(Problem(doc.path, doc.line_of(at),
                f"sections[{i}].number: '{number}' is listed twice", field="number"))
        elif key <= previous:
            problems.append(Problem(doc.path, doc.line_of(at),
                f"sections[{i}].number: '{number}' comes after '{'.'.join(map(str, previous))}'; "
                "list the sections in order", field="number"))
        elif parent is not None and parent not in seen:
            problems.append(Problem(doc.path, doc.line_of(at),
                f"sections[{i}].number: '{number}' needs its parent heading '{parent}' listed before it",
                field="number"))
        seen.add(number)
        previous = max(previous, key)
    return problems


# -- responses ----------------------------------------------------------------


def check_responses(loaded: Loaded, languages: tuple[str, ...], units: Mapping[str, Any],
                    sections: Mapping[str, Mapping[str, int]], bad: set[str],
                    names: Callable[[str], str] | None = None, cache: Cache | None = None) -> list[Problem]:
    """Names agree with front matter; sections and units exist; translations have originals.

    `names` gives a language's English name for messages (default: language_name). The
    rules hold within a year, so each year is checked on its own; in a warm `cache` (the
    preview), a year whose files are the same objects as in the last build keeps its result.
    """
    cache = cache or Cache.disabled()
    by_year: dict[str, list[ResponseFile]] = {}
    for r in loaded.responses:
        by_year.setdefault(r.year, []).append(r)
    problems: list[Problem] = []
    for year, responses in by_year.items():
        inputs = ("responses", year, languages, frozenset(p for p in bad if f"/{year}/" in p),
                  frozenset(p for p in loaded.paths if f"/{year}/" in p))
        problems += cache.memo_from(inputs, (
            loaded.reports.get(year), loaded.units, *responses), partial(
            _check_year, dataclasses.replace(loaded, responses=tuple(responses)), languages, units, sections,
            bad, names))
    return problems


def _check_year(loaded: Loaded, languages: tuple[str, ...], units: Mapping[str, Any],
                sections: Mapping[str, Mapping[str, int]], bad: set[str],
                names: Callable[[str], str] | None = None) -> list[Problem]:
    problems: list[Problem] = []
    if not languages:
        return problems
    by_key: dict[tuple[str, str, str, str], ResponseFile] = {}
    # Files whose names agree with their front matter first: when two answer the same, the one
    # whose front matter was changed away from its name is blamed, not the untouched one.
    for r in sorted(loaded.responses, key=lambda r: not isinstance(r.meta.data, dict) or (
            r.meta.data.get("section"), r.meta.data.get("unit")) != (r.name_section, r.name_unit)):
        if r.lang not in languages:
            problems.append(Problem(r.path, None,
                f"language '{r.lang}' in the file name is unknown; expected one of "
                f"{', '.join(languages)}{suggest_language(r.lang, languages)}", field="language"))
        elif r.path not in bad:
            problems += _check_place(r, loaded, units, sections, by_key)
    rules = _Translations(languages, names or language_name, by_key,
                          {(r.year, r.name_section, r.name_unit, r.lang) for r in loaded.responses}, bad,
                          loaded.paths)
    for r in loaded.responses:
        if r.path not in bad and r.lang in languages:
            problems += rules.check_original(r) if r.lang == languages[0] else rules.check_translation(r)
    return problems


def _check_place(r: ResponseFile, loaded: Loaded, units: Mapping[str, Any], sections: Mapping[str, Mapping[str, int]],
                 by_key: dict[tuple[str, str, str, str], ResponseFile]) -> list[Problem]:
    """The response's section and unit exist and agree with its file name; no other file answers the same."""
    problems = []
    section, unit = r.meta.data["section"], r.meta.data["unit"]
    if units and unit not in units:
        problems.append(Problem(r.path, r.meta.line_of(("unit",)),
            f"unit '{unit}' is unknown{suggest(unit, units) or '; see content/units.yaml'}", field="unit"))
    known = sections.get(r.year)
    # The name the front matter gives the file, from its parts that are valid (the file name's otherwise).
    unit_known = not units or unit in units
    renamed = (f"{section if known is None or section in known else r.name_section}-"
               f"{unit if unit_known else r.name_unit}.{r.lang}.md")
    if known is None and r.year not in loaded.reports:
        problems.append(Problem(r.path, None,
            f"the folder has no report.yaml: content/{r.year}/report.yaml lists the sections", field="section"))
    elif known is not None and section not in known:
        problems.append(Problem(r.path, r.meta.line_of(("section",)),
            f"section '{section}' is not in the {r.year} report (content/{r.year}/report.yaml)"
            f"{suggest_section(section, known)}", field="section"))
    elif section != r.name_section:
        problems.append(Problem(r.path, r.meta.line_of(("section",)),
            f"section '{section}' does not agree with the file name; rename the file to "
            f"'{renamed}' or correct the section", field="section"))
    if unit_known and unit != r.name_unit:
        problems.append(Problem(r.path, r.meta.line_of(("unit",)),
            f"unit '{unit}' does not agree with the file name; rename the file to "
            f"'{renamed}' or correct the unit", field="unit"))
    key = (r.year, section, unit, r.lang)
    if key in by_key:
        problems.append(Problem(r.path, r.meta.line_of(("section",)),
            f"{by_key[key].path} already answers section {section} for unit '{unit}' in '{r.lang}'",
            field="section"))
    by_key[key] = r
    return problems


@dataclass(frozen=True)
class _Translations:
    """The rules between an original and its translations."""

    languages: tuple[str, ...]
    name_of: Callable[[str], str]
    by_key: Mapping[tuple[str, str, str, str], ResponseFile]
    """Every valid response by (year, section, unit, language) of its front matter."""
    by_name: set[tuple[str, str, str, str]]
    """(year, section, unit, language) of every file name."""
    bad: set[str]
    found: frozenset[str] = frozenset()
    """Every Markdown file found, read or not (one that cannot be read is reported on its own)."""

    def check_original(self, r: ResponseFile) -> list[Problem]:
        """No translation fields on an original; a warning for each translation it lacks."""
        problems = []
        for name in TRANSLATION_FIELDS:
            if name in r.meta.data:
                problems.append(Problem(r.path, r.meta.line_of((name,)),
                    f"{name}: only translations may have this field ('{r.lang}' is the original language)",
                    field=name))
        original = self.name_of(r.lang)
        for lang in self.languages[1:] if not r.draft else ():  # a draft is never published: nothing to miss
            if (r.year, r.name_section, r.name_unit, lang) not in self.by_name:
                problems.append(Problem(r.path, None,
                    f"no {self.name_of(lang)} translation yet: the {self.name_of(lang)} page shows "
                    f"the {original} text until {r.name.removesuffix(f'.{r.lang}.md')}.{lang}.md exists",
                    severity="warning"))
        return problems

    def check_translation(self, r: ResponseFile) -> list[Problem]:
        """A translation names its original, records its digest, and is no more published than it."""
        meta, original = r.meta.data, self.languages[0]
        source = self.by_key.get((r.year, meta["section"], meta["unit"], original))
        expected = f"{meta['section']}-{meta['unit']}.{original}.md"
        if source is None:
            beside = f"{r.path.rsplit('/', 1)[0]}/{r.name_section}-{r.name_unit}.{original}.md"
            if (r.year, r.name_section, r.name_unit, original) in self.by_name or beside in self.found:
                return []  # the original has errors of its own, reported there
            return [Problem(r.path, None, f"this translation has no original: content/{r.year}/{expected} is missing")]
        problems = self._names_original(r, expected)
        recorded = meta.get("source_digest")
        command = f"python build.py translated {r.path}"
        if recorded is None:
            problems.append(Problem(r.path, r.meta.line_of(("translation_of",)),
                f"source_digest: no digest of the {self.name_of(original)} original is recorded; "
                f"once the translation is done, run '{command}'", field="source_digest", severity="warning"))
        elif recorded != source.digest:
            problems.append(Problem(r.path, r.meta.line_of(("source_digest",)),
                f"the {self.name_of(original)} original has changed since this translation; "
                f"update it, then run '{command}'", field="source_digest", severity="warning"))
        if not r.draft and source.draft and source.path not in self.bad:
            problems.append(Problem(r.path, None,
                f"the original {source.name} is a draft, so this translation cannot be published"))
        return problems

    @staticmethod
    def _names_original(r: ResponseFile, expected: str) -> list[Problem]:
        found = r.meta.data.get("translation_of")
        if found == expected:
            return []
        if found is None:
            return [Problem(r.path, max(r.meta.start_line - 1, 1),
                f"translation_of: required field is missing; add translation_of: {expected}",
                field="translation_of")]
        return [Problem(r.path, r.meta.line_of(("translation_of",)),
            f"translation_of: expected '{expected}' (the original beside this file), found '{found}'",
            field="translation_of")]


def _remembered_names(cache: Cache) -> Callable[[str], str]:
    """language_name(), remembered by the cache: Babel needs ~80 ms to load the data for one,
    and a rebuild after an edit to an original warns about its translation by name."""
    known: dict[str, str] = dict(cache.get(("language-names",)) or {})

    def name(code: str) -> str:
        if code not in known:
            known[code] = language_name(code)
            cache.put(("language-names",), dict(known))
        return known[code]
    return name


@cache
def language_name(code: str) -> str:
    """The English name of a language, for messages (fi → Finnish)."""
    from babel import Locale

    try:
        return str(Locale.parse(code).english_name)
    except (ValueError, TypeError):
        return code


# -- bodies -------------------------------------------------------------------

# What drives Python-Markdown's inline work: each of these characters starts a pattern that is
# tried again after every match, so a paragraph full of them costs time quadratic in their number
# (961 KB of '\\*' took 506 s). More than these in one paragraph, or in one body, are refused
# before rendering (check_bounds); bench/run.py's worst_cases_table times what is just accepted.
MAX_ESCAPES = 200
"""'\\' in one paragraph."""
MAX_ENTITIES = 200
"""'&' in one paragraph."""
MAX_EMPHASIS = 400
"""'*' and '_' together in one paragraph."""
MAX_CODE_MARKS = 200
"""'`' in one paragraph."""
MAX_BRACKETS = 200
"""'[' in one paragraph."""
MAX_ANGLES = 200
"""'<' in one paragraph."""
MAX_MARKUP = 10_000
"""All of the characters above together, in one body."""
MAX_LINES = 5_000
"""Lines in one body: block elements (rows, headings, rules, line breaks) cost per line, some
quadratically per paragraph (5 000 rules in one paragraph take 0.7 s; 250 000 took minutes)."""
_LIST_ITEM = re.compile(r"\s*([-*+]|\d+\.)\s")
MAX_NESTING = 8
"""Deeper block quotes or lists than this are refused: Python-Markdown recurses per level."""

ESCAPED_CHARS = "\\`*_{}[]()>#+-.!|<"
"""What a backslash makes literal: markup.make_converter's ESCAPED_CHARS (a test keeps them equal)."""
_ESCAPE = re.compile("\\\\[" + re.escape(ESCAPED_CHARS) + "]")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1")
_RAW_HTML = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*(?=[\s/>])|/[A-Za-z]|!--|![A-Za-z\[]|\?)")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_INLINE_LINK = re.compile(r"(!?)\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s>]*(?:\([^()\s]*\)[^()\s>]*)*)")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S*?)>?(?:\s|$)", re.M)


def check_body(r: ResponseFile) -> tuple[list[Problem], list[Link]]:
    """Markdown only: no raw HTML, only safe URL schemes, nothing that makes the renderer slow.

    Lines are checked one by one for what is local to a line (nesting), and each
    paragraph as a whole for what Markdown lets run over a line break (a tag, a
    link's address, a reference definition). Returns the problems and the links
    to other responses (checked across files later).
    """
    problems: list[Problem] = []
    found_links: list[Link] = []
    if not r.body.strip():
        return [Problem(r.path, r.body_line, "the response has no text after the front matter")], found_links
    too_much = check_bounds(r)
    if too_much:
        return too_much, found_links
    fenced = in_list = False
    block: list[tuple[int, str]] = []

    def flush() -> None:
        if block:
            _check_block(r, block, problems, found_links)
            block.clear()

    for offset, raw_line in enumerate(r.body.split("\n")):
        line_no = r.body_line + offset
        if not raw_line.strip():
            flush()
            continue
        stripped = raw_line.lstrip()
        if stripped.startswith(("```", "~~~")):
            flush()
            fenced = not fenced
            continue
        is_item = bool(_LIST_ITEM.match(raw_line))
        in_list = is_item or (in_list and raw_line[0] == " ")
        if fenced or (raw_line.startswith("    ") and not in_list):
            flush()
            continue  # code: shown as written, never interpreted
        if stripped[0] in ">-*+0123456789" or raw_line[0] in " \t":
            depth = _nesting(raw_line)
            if depth > MAX_NESTING:
                problems.append(Problem(r.path, line_no,
                    f"block quotes or lists are nested {depth} levels deep; at most {MAX_NESTING} are allowed"))
                continue
        # What a quote or list marker leaves: the text Markdown will read.
        block.append((line_no, _BLOCK_PREFIX.sub("", raw_line)))
    flush()
    return problems, found_links


_DRIVERS: tuple[tuple[str, int, str], ...] = (
    ("\\", MAX_ESCAPES, "'\\' escapes; split it into shorter paragraphs"),
    ("&", MAX_ENTITIES, "'&' characters; split it into shorter paragraphs"),
    ("*_", MAX_EMPHASIS, "'*' and '_' characters; split it, or use less bold and italics"),
    ("`", MAX_CODE_MARKS, "'`' characters; split it, or use fewer code spans"),
    ("[", MAX_BRACKETS, "'[' characters; split it or write '\\[' for a literal bracket"),
    ("<", MAX_ANGLES, "'<' characters; split it into shorter paragraphs"),
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def check_bounds(r: ResponseFile) -> list[Problem]:
    """Refuse a body with more of the characters that drive the renderer's work than it can take fast.

    Counted in the raw text, code and all, per blank-line-separated chunk (no paragraph
    of Python-Markdown's spans a blank line, so this never undercounts one) and in the
    whole body; the limits are the MAX_* constants above.
    """
    lines = r.body.rstrip("\n").count("\n") + 1
    if lines > MAX_LINES:
        return [Problem(r.path, r.body_line, f"the response has {lines:,} lines; at most {MAX_LINES:,} are allowed: "
                        "shorten it, or join lines that belong to one paragraph")]
    counts = [sum(r.body.count(c) for c in chars) for chars, _, _ in _DRIVERS]
    total = sum(counts)
    if total > MAX_MARKUP:
        return [Problem(r.path, r.body_line, f"the response has {total:,} characters of Markdown formatting "
                        f"(\\ & * _ ` [ <); at most {MAX_MARKUP:,} are allowed: split it or simplify its formatting")]
    problems: list[Problem] = []
    if all(count <= limit for count, (_, limit, _) in zip(counts, _DRIVERS, strict=True)):
        return problems  # no paragraph can hold more than the whole body: most bodies
    line = r.body_line
    start = 0
    for m in [*_PARAGRAPH_BREAK.finditer(r.body), None]:
        end = m.start() if m is not None else len(r.body)
        chunk = r.body[start:end]
        first = line + len(chunk) - len(chunk.lstrip("\n"))
        for chars, limit, what in _DRIVERS:
            if sum(chunk.count(c) for c in chars) > limit:
                problems.append(Problem(r.path, first, f"the paragraph has more than {limit} {what}"))
        if m is not None:
            line += r.body.count("\n", start, m.end())
            start = m.end()
    return problems


_BLOCK_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*")


def _check_block(r: ResponseFile, block: list[tuple[int, str]], problems: list[Problem],
                 found_links: list[Link]) -> None:
    """One paragraph (or list item, or quote) as a whole: tags and links may span its lines."""
    starts, text = [], ""
    for _, line in block:
        starts.append(len(text))
        text += line + "\n"

    def line_at(position: int) -> int:
        return block[bisect.bisect_right(starts, position) - 1][0]

    if "<" not in text and "[" not in text and "`" not in text and "{" not in text:
        return
    # Code spans are shown as written: blank them out, keeping positions.
    text = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text) if "`" in text else text
    problems += _raw_html(r, text, line_at)
    for line_no, line in block:
        if "{" in line:
            problems += _check_attributes(r, line_no, line)
    for (is_image, url), line_no in _urls(text, line_at).items():
        problem, target = _check_url(r, line_no, url, is_image)
        if problem:
            problems.append(problem)
        elif target:
            found_links.append((line_no, url, target))


def _raw_html(r: ResponseFile, text: str, line_at: Callable[[int], int]) -> list[Problem]:
    """The first raw HTML tag of a paragraph (an autolink such as <https://…> is not one)."""
    if "<" not in text:
        return []
    # '\\<' is a literal '<' (what the message below recommends): blank out every escape first.
    text = _ESCAPE.sub("  ", text) if "\\" in text else text
    without_autolinks = _AUTOLINK.sub(lambda m: " " * len(m.group(0)), text)
    html = _RAW_HTML.search(without_autolinks)
    if html is None:
        return []
    return [Problem(r.path, line_at(html.start()),
        f"raw HTML ('{without_autolinks[html.start():html.start() + 12].split('>')[0].strip()}…') is not "
        "allowed; write Markdown (to show a '<', write '\\<')")]


def _urls(text: str, line_at: Callable[[int], int]) -> dict[tuple[bool, str], int]:
    """(is an image, the URL) → its line, once each: '[x](<url>)' matches two patterns."""
    found: dict[tuple[bool, str], int] = {}
    if "](" in text:
        for m in _INLINE_LINK.finditer(text):
            found.setdefault((m.group(1) == "!", m.group(2)), line_at(m.start()))
    if "<" in text:
        for m in _AUTOLINK.finditer(text):
            found.setdefault((False, m.group(1)), line_at(m.start()))
    if "]:" in text:
        for m in _REF_DEF.finditer(text):
            found.setdefault((False, m.group(1)), line_at(m.start()))
    return found


_ATTR_LIST = re.compile(r"\{:?[ ]*([^}\n]*?)[ ]*\}")
_ALLOWED_ATTR = re.compile(r"""lang=("[A-Za-z-]{2,11}"|'[A-Za-z-]{2,11}'|[A-Za-z-]{2,11})""")


def _check_attributes(r: ResponseFile, line_no: int, line: str) -> list[Problem]:
    """Attribute lists ({: … }) may only say which language a phrase is in."""
    problems = []
    for match in _ATTR_LIST.finditer(line):
        inner = match.group(1)
        if not inner or not re.match(r"[#.:A-Za-z_]", inner) or ("=" not in inner and inner[0] not in "#."):
            continue  # ordinary text in braces, which attr_list leaves alone
        for token in inner.split():
            if not _ALLOWED_ATTR.fullmatch(token):
                problems.append(Problem(r.path, line_no,
                    f"attribute '{token[:40]}' in '{{: … }}' is not allowed; only lang is, "
                    "e.g. *Green Deal*{: lang=en }"))
    return problems


_MARKER = re.compile(r"[ \t]*(?:>|(?:[-*+]|[0-9]{1,9}[.)])(?=[ \t]|$))")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def _nesting(line: str) -> int:
    """How deep a line nests quotes and lists: every four columns of indentation, and every
    marker at its start, also several on one line (`- - - x` is three lists, `> 1. > x` three levels)."""
    if _RULE.match(line):  # `* * *` is a rule, not three lists
        return 0
    expanded = line.expandtabs(4)
    depth, pos = (len(expanded) - len(expanded.lstrip(" "))) // 4, 0
    while (m := _MARKER.match(line, pos)) is not None and m.end() > pos:
        depth, pos = depth + 1, m.end()
    return depth


def _check_url(r: ResponseFile, line_no: int, url: str, is_image: bool) -> tuple[Problem | None, str | None]:
    """A problem with one URL, or the content path of the response it links to."""
    what = "image" if is_image else "link"
    scheme = links.scheme(url)
    if scheme is not None:
        if scheme not in links.ALLOWED_SCHEMES:
            return Problem(r.path, line_no,
                f"{what} '{_short(url)}': the scheme '{url.split(':', 1)[0]}:' is not allowed; "
                f"use {', '.join(s + ':' for s in links.ALLOWED_SCHEMES)}"), None
        return None, None
    if not url or url.startswith("#"):
        return None, None
    if not url.split("#", 1)[0].endswith(".md") or is_image:
        return Problem(r.path, line_no,
            f"{what} '{_short(url)}': only links to other responses (e.g. 2.4-konsernihallinto.fi.md) "
            "or full http(s), mailto and tel addresses are allowed"), None
    target = links.resolve(r.year, url)
    if target is None:
        return Problem(r.path, line_no,
            f"{what} '{_short(url)}': write links to responses as the file name (2.4-konsernihallinto.fi.md) "
            "or, for another year, ../2023/2.4-konsernihallinto.fi.md"), None
    return None, f"content/{target[0]}/{target[1]}"


def _short(url: str, limit: int = 60) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def check_links(loaded: Loaded, found: Mapping[str, list[Link]]) -> list[Problem]:
    """Links between responses lead to files that exist and will be published."""
    by_path = {r.path: r for r in loaded.responses}
    problems = []
    for r in loaded.responses:
        for line_no, url, resolved in found.get(r.path, ()):
            target = by_path.get(resolved)
            if resolved not in loaded.paths:
                problems.append(Problem(r.path, line_no, f"link '{url}': there is no response file {resolved}"))
            elif target is not None and target.draft and not r.draft:
                # (a target with problems of its own is reported there)
                problems.append(Problem(r.path, line_no,
                    f"link '{url}': {resolved} is a draft and will not be published"))
    return problems
