"""`new`: write a draft response file (or a draft translation of one) that passes `check`."""

from __future__ import annotations

from pathlib import Path

import frontmatter
import yaml

from .errors import Problem
from .load import Loaded, language_codes
from .render import load_strings
from .validate import suggest, suggest_language, suggest_section


def new_response(loaded: Loaded, templates: Path, year: str, section: str, unit: str,
                 lang: str | None = None) -> tuple[Path | None, list[Problem]]:
    """Write content/<year>/<section>-<unit>.<lang>.md as a draft; refuse to overwrite anything."""
    root = loaded.root
    languages = list(language_codes(loaded.settings))
    original = languages[0] if languages else "fi"
    lang = lang or original
    where = f"content/{year}"
    problems = check_arguments(loaded, languages, year, section, unit, lang)
    if problems:
        return None, problems
    name = f"{section}-{unit}.{lang}.md"
    path = root / "content" / year / name
    if path.exists():
        return None, [Problem(f"{where}/{name}", None, "the file already exists; edit it instead")]
    strings = load_strings(templates, root, languages)
    meta: dict[str, object] = {"section": _Quoted(section), "unit": unit}
    if lang == original:
        body = strings["new_placeholder"][lang]
    else:
        source_name = f"{section}-{unit}.{original}.md"
        source = next((r for r in loaded.responses if r.year == year and r.name == source_name), None)
        if source is None:
            return None, [Problem(f"{where}/{source_name}", None,
                                  "a translation needs its original: write that file first")]
        meta.update(translation_of=source_name, reviewed=False)
        # The translator starts from the original text; the digest is recorded
        # only when the translation is done (`translated`).
        body = source.body.strip()
    meta["draft"] = True
    post = frontmatter.Post(body, None, **meta)
    path.write_text(frontmatter.dumps(post, sort_keys=False, Dumper=_Dumper, allow_unicode=True) + "\n",
                    encoding="utf-8")
    return path, []


def check_arguments(loaded: Loaded, languages: list[str], year: str, section: str, unit: str,
                    lang: str) -> list[Problem]:
    """The language, year, section and unit asked for exist (with did-you-mean suggestions)."""
    where = f"content/{year}"
    problems = []
    if lang not in languages:
        problems.append(Problem("--lang", None, f"language '{lang}' is unknown; expected one of "
                                f"{', '.join(languages)}{suggest_language(lang, languages)}", field="lang"))
    report = loaded.reports.get(year)
    if report is None or report.data is None:
        years = sorted(loaded.reports)
        problems.append(Problem("--year", None, f"year '{year}' has no {where}/report.yaml"
                                f"{suggest(year, years) or f'; known years: {chr(44).join(years)}'}", field="year"))
    else:
        numbers = [s["number"] for s in report.data.get("sections", [])]
        if section not in numbers:
            problems.append(Problem("--section", None, f"section '{section}' is not in the {year} report "
                                    f"({where}/report.yaml){suggest_section(section, numbers)}", field="section"))
    unit_ids = [u["id"] for u in (loaded.units.data or {}).get("units", [])] if loaded.units else []
    if unit not in unit_ids:
        problems.append(Problem("--unit", None, f"unit '{unit}' is unknown"
                                f"{suggest(unit, unit_ids) or '; see content/units.yaml'}", field="unit"))
    return problems


class _Quoted(str):
    """A value written in double quotes, as the content files do ("1.10" must never become 1.1)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Quoted, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", str(value), style='"'))
