"""validate: schema.yaml and the rules across files, each problem at the line an editor must change."""

from __future__ import annotations

import jsonschema
import pytest
import yaml
from conftest import ROOT, SiteDir

from sitegen.errors import Problem, sort
from sitegen.load import body_digest, load
from sitegen.validate import load_schema, suggest, validate

SCHEMA = ROOT / "schema.yaml"
FI = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"
ORIGINAL = "content/2021/1.1-konsernihallinto.fi.md"
TRANSLATION = "content/2021/1.1-konsernihallinto.sv.md"
HEAD = '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n---\n\n'


def edit(site: SiteDir, path: str, old: str, new: str) -> None:
    text = site.read(path)
    assert old in text, f"{old!r} is not in {path}"
    site.write(path, text.replace(old, new, 1))


def problems(site: SiteDir) -> list[Problem]:
    """Every problem, in the reading order the command line prints them in."""
    return sort(validate(load(site.root), SCHEMA))


def errors_in(site: SiteDir, path: str) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems(site) if p.path == path and p.severity == "error"]


def all_errors(site: SiteDir) -> list[str]:
    return [str(p) for p in problems(site) if p.severity == "error"]


# -- the schema ----------------------------------------------------------------------------


def test_schema_yaml_passes_the_json_schema_metaschema() -> None:
    jsonschema.Draft202012Validator.check_schema(yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
    assert load_schema(SCHEMA)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# Each $defs entry: (file, text, a valid replacement, an invalid one, the error it gives).
DEFS = {
    "settings": ("content/site.yaml", "base_url: https://example.org/report/",
                 "base_url: https://www.espoo.fi/arviointikertomus/", "base_url: https://example.org/report",
                 (1, "base_url: 'https://example.org/report' is not valid; "
                     "expected an https:// address ending in a slash, e.g. https://www.espoo.fi/arviointikertomus/")),
    "units": ("content/units.yaml", "  - id: konsernihallinto\n",
              "  - id: konsernihallinto\n    kind: person\n", "  - id: konsernihallinto\n    kind: persn\n",
              (3, "units[0].kind: 'persn' is not allowed; expected one of unit, person; did you mean 'person'?")),
    "report": ("content/2021/report.yaml", 'published: "2022-09-01"', "published: 2022-09-01",
               'published: "2022-09-31"',
               (8, "published: '2022-09-31' is not valid; "
                   "expected the date (YYYY-MM-DD) the responses were published")),
    "localized": ("content/units.yaml", "name: {fi: Konsernihallinto,", "name: {fi: 'Konsernihallinto (KH)',",
                  "name: {fi: '',", (3, "units[0].name.fi: '' should be non-empty")),
    "accessibility": ("content/accessibility.yaml", "reason: out_of_scope", "reason: disproportionate_burden",
                      "reason: out_of_scop",
                      (48, "known_issues[1].reason: 'out_of_scop' is not allowed; expected one of non_compliance, "
                           "disproportionate_burden, out_of_scope; did you mean 'out_of_scope'?")),
    "terminology": ("content/terminology.yaml", "avoid: [skolväg]", "avoid: [skolväg, skolvägar]", "avoid: [sk]",
                    (4, "terms[0].avoid[0]: 'sk' is too short")),
    "https_url": ("content/accessibility.yaml", "fi: https://www.espoo.fi/fi/palaute",
                  "fi: https://www.espoo.fi/fi/palaute?lomake=saavutettavuus", "fi: javascript:alert(1)",
                  (57, "feedback.url.fi: 'javascript:alert(1)' is not valid; "
                       "expected an https:// address, e.g. https://www.espoo.fi/fi")),
    "localized_https_url": ("content/accessibility.yaml", "fi: https://www.saavutettavuusvaatimukset.fi",
                            "fi: https://www.saavutettavuusvaatimukset.fi/", "fi: http://www.saavutettavuusvaatimukset.fi",
                            (68, "authority.url.fi: 'http://www.saavutettavuusvaatimukset.fi' is not valid; "
                                 "expected an https:// address, e.g. https://www.espoo.fi/fi")),
    "slug": ("content/units.yaml", "slug: {fi: konsernihallinto,", "slug: {fi: konserni-2,",
             "slug: {fi: Konserni_2,",
             (4, "units[0].slug.fi: 'Konserni_2' is not valid; expected a URL path segment "
                 "(lower-case ASCII letters, digits and hyphens)")),
}


DRAFT7_KEYWORDS = {
    "$defs", "$id", "$ref", "$schema", "additionalProperties", "description", "enum", "examples", "format",
    "items", "maximum", "minItems", "minLength", "minProperties", "minimum", "pattern", "properties",
    "propertyNames", "required", "title", "type", "maxLength", "maxItems", "const", "uniqueItems",
    "patternProperties", "anyOf", "oneOf", "allOf", "not", "exclusiveMinimum", "exclusiveMaximum", "default",
    "if", "then", "else",
}
"""Keywords that mean the same in draft 7 (fastjsonschema, the quick "valid" check) and 2020-12
(jsonschema, the messages). A 2020-12-only keyword would be ignored by the quick check."""


def test_schema_yaml_uses_only_keywords_the_quick_validator_understands_alike() -> None:
    used: set[str] = set()

    def walk(node: object, names_below: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not names_below:
                    used.add(key)
                walk(value, names_below=not names_below and key in ("properties", "$defs", "patternProperties"))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(load_schema(SCHEMA))
    assert used <= DRAFT7_KEYWORDS, used - DRAFT7_KEYWORDS
    assert {"format"} & used and all(fmt == "date" for fmt in _formats(load_schema(SCHEMA)))


def _formats(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "format"] + [f for v in node.values() for f in _formats(v)]
    return [f for v in node for f in _formats(v)] if isinstance(node, list) else []


def test_every_schema_definition_has_a_valid_and_an_invalid_case() -> None:
    assert set(DEFS) == set(load_schema(SCHEMA)["$defs"])


@pytest.mark.parametrize("name", sorted(DEFS))
def test_a_data_file_valid_under_each_definition_passes(minimal: SiteDir, name: str) -> None:
    path, old, valid, _, _ = DEFS[name]
    edit(minimal, path, old, valid)
    assert all_errors(minimal) == []


@pytest.mark.parametrize("name", sorted(DEFS))
def test_a_data_file_invalid_under_each_definition_is_located(minimal: SiteDir, name: str) -> None:
    path, old, _, invalid, expected = DEFS[name]
    edit(minimal, path, old, invalid)
    assert errors_in(minimal, path) == [expected]


def test_a_non_compliance_in_the_accessibility_statement_must_name_the_wcag_criteria(minimal: SiteDir) -> None:
    path = "content/accessibility.yaml"
    edit(minimal, path, '    criteria: ["1.4.11", "1.4.1"]\n', "")
    assert errors_in(minimal, path) == [(37, "known_issues[0].criteria: required field is missing")]
    edit(minimal, path, "reason: non_compliance", "reason: disproportionate_burden")
    assert errors_in(minimal, path) == []  # a burden or an out-of-scope item names no criteria


def test_a_wcag_criterion_is_a_number_of_three_parts(minimal: SiteDir) -> None:
    path = "content/accessibility.yaml"
    edit(minimal, path, '"1.4.11"', '"1.4"')
    assert errors_in(minimal, path) == [
        (41, "known_issues[0].criteria[0]: '1.4' is not valid; expected a WCAG success criterion's number, e.g. 1.4.3")]


def test_an_expectation_taken_from_a_description_is_not_cut_mid_sentence(minimal: SiteDir) -> None:
    edit(minimal, "content/site.yaml", "locale: sv_FI", "locale: sv-FI")
    [(line, message)] = errors_in(minimal, "content/site.yaml")
    assert line == 6
    assert message.count("(") == message.count(")") and "(e.g. fi_FI)" in message


def test_unknown_keys_get_a_did_you_mean_suggestion(minimal: SiteDir) -> None:
    edit(minimal, "content/units.yaml", "    name: {fi: Konsernihallinto", "    nmae: {fi: Konsernihallinto")
    assert (3, "units[0].nmae: unknown field; did you mean 'name'?") in errors_in(minimal, "content/units.yaml")
    assert suggest("Person", ["unit", "person"]) == "; did you mean 'person'?"
    assert suggest("xyz", ["unit", "person"]) == ""


@pytest.mark.parametrize(("path", "old", "new", "expected"), [
    ("content/2021/report.yaml", 'number: "1.1.1"', "number: 1.10",
     (19, 'sections[2].number: expected text (a string), found the number 1.1; YAML reads 1.10 as a number: '
          'quote it, number: "1.10"')),
    (FI, 'section: "2.2"', "section: 2.20",
     (2, 'section: expected text (a string), found the number 2.2; YAML reads 2.20 as a number: '
         'quote it, section: "2.20"')),
])
def test_a_section_number_written_as_a_yaml_number_gets_the_quote_it_hint(
        minimal: SiteDir, path: str, old: str, new: str, expected: tuple[int, str]) -> None:
    edit(minimal, path, old, new)
    assert errors_in(minimal, path) == [expected]


@pytest.mark.parametrize("date", ["2022-02-30", "2022-13-01", "2022-00-10"])
def test_a_date_of_the_right_form_that_is_no_calendar_day_is_an_error_not_a_crash(
        minimal: SiteDir, date: str) -> None:
    edit(minimal, FI, 'section: "2.2"', f'section: "2.2"\nupdated: {date}')
    edit(minimal, REPORT, 'published: "2022-09-01"', f'published: "{date}"')
    assert errors_in(minimal, FI) == [(3, f"updated: '{date}' is not valid; expected a date written YYYY-MM-DD, "
                                          "e.g. 2024-03-15")]
    assert [m for _, m in errors_in(minimal, REPORT)] == [
        f"published: '{date}' is not valid; expected the date (YYYY-MM-DD) the responses were published"]
    assert minimal.run("build").code == 1  # and no internal error


# -- data files ------------------------------------------------------------------------------

REPORT = "content/2021/report.yaml"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("year: 2021", "year: 2020", (1, "year: 2020 does not match the folder '2021'")),
    ('number: "2.2"', 'number: "1.2"',
     (23, "sections[4].number: '1.2' comes after '2'; list the sections in order")),
    ('number: "1.1.1"', 'number: "1.2.1"',
     (19, "sections[2].number: '1.2.1' needs its parent heading '1.2' listed before it")),
    ('number: "1.1.1"', 'number: "1.1"', (19, "sections[2].number: '1.1' is listed twice")),
    ("  sv: Revisionsnämnden\n", "", (5, "committee: the 'sv' version is missing")),
    ("{fi: Tilat, sv: Lokaler}", "{fi: Tilat}", (24, "sections[4].title: the 'sv' version is missing")),
])
def test_report_rules(minimal: SiteDir, old: str, new: str, expected: tuple[int, str]) -> None:
    edit(minimal, REPORT, old, new)
    assert errors_in(minimal, REPORT) == [expected]


UNIT = "  - id: {id}\n    name: {{fi: {id}, sv: {id}}}\n    slug: {{fi: {id}, sv: {id}}}\n"


@pytest.mark.parametrize(("extra", "expected"), [
    (UNIT.format(id="konsernihallinto").replace("slug: {fi: konsernihallinto", "slug: {fi: kh"),
     [(12, "units[3].id: 'konsernihallinto' is listed twice")]),
    (UNIT.format(id="hallinto") + "    parent: konsernihalinto\n",
     [(15, "units[3].parent: unit 'konsernihalinto' is unknown; did you mean 'konsernihallinto'?")]),
    (UNIT.format(id="a") + "    parent: b\n" + UNIT.format(id="b") + "    parent: a\n",
     [(15, "units[3].parent: 'a' is its own ancestor"), (19, "units[4].parent: 'b' is its own ancestor")]),
    (UNIT.format(id="kh").replace("slug: {fi: kh,", "slug: {fi: konsernihallinto,"),
     [(14, "units[3].slug.fi: 'konsernihallinto' is already the slug of 'konsernihallinto'")]),
    (UNIT.format(id="kh").replace("{fi: kh, sv: kh}", "{fi: kh}", 1),
     [(13, "units[3].name: the 'sv' version is missing")]),
])
def test_units_rules(minimal: SiteDir, extra: str, expected: list[tuple[int, str]]) -> None:
    minimal.write("content/units.yaml", minimal.read("content/units.yaml") + extra)
    assert errors_in(minimal, "content/units.yaml") == expected


def test_only_the_units_on_a_cycle_are_called_their_own_ancestors(minimal: SiteDir) -> None:
    extra = (UNIT.format(id="a") + "    parent: b\n" + UNIT.format(id="b") + "    parent: c\n"
             + UNIT.format(id="c") + "    parent: b\n")
    minimal.write("content/units.yaml", minimal.read("content/units.yaml") + extra)
    assert [m for _, m in errors_in(minimal, "content/units.yaml")] == [
        "units[4].parent: 'b' is its own ancestor", "units[5].parent: 'c' is its own ancestor"]


def test_a_language_listed_twice_in_site_yaml_is_an_error(minimal: SiteDir) -> None:
    minimal.write("content/site.yaml", minimal.read("content/site.yaml") + "  - code: fi\n    locale: fi_FI\n")
    assert errors_in(minimal, "content/site.yaml") == [(7, "languages[2].code: 'fi' is listed twice")]


# -- translations ---------------------------------------------------------------------------


def test_translation_fields_on_an_original_are_errors(minimal: SiteDir) -> None:
    edit(minimal, FI, "unit: tilapalvelut-liikelaitos\n",
         "unit: tilapalvelut-liikelaitos\ntranslation_of: x.fi.md\nreviewed: false\n")
    assert errors_in(minimal, FI) == [
        (4, "translation_of: only translations may have this field ('fi' is the original language)"),
        (5, "reviewed: only translations may have this field ('fi' is the original language)")]


def test_a_missing_translation_is_a_warning_on_the_original(minimal: SiteDir) -> None:
    [warning] = [p for p in problems(minimal) if p.path == FI]
    assert (warning.severity, warning.line) == ("warning", None)
    assert warning.message == ("no Swedish translation yet: the Swedish page shows the Finnish text until "
                               "2.2-tilapalvelut-liikelaitos.sv.md exists")


def test_a_changed_original_makes_its_translation_stale(minimal: SiteDir) -> None:
    edit(minimal, ORIGINAL, "Talous on tasapainossa.", "Talous on nyt tasapainossa.")
    [stale] = [p for p in problems(minimal) if p.path == TRANSLATION]
    assert (stale.severity, stale.line, stale.field) == ("warning", 5, "source_digest")
    assert stale.message.startswith("the Finnish original has changed since this translation")
    assert f"python build.py translated {TRANSLATION}" in stale.message


def test_a_translation_without_a_digest_is_a_warning_and_one_naming_another_file_an_error(minimal: SiteDir) -> None:
    edit(minimal, TRANSLATION, "translation_of: 1.1-", "translation_of: 2.2-")
    edit(minimal, TRANSLATION, minimal.read(TRANSLATION).split("\n")[4] + "\n", "")
    found = {p.severity: p for p in problems(minimal) if p.path == TRANSLATION}
    assert sorted(found) == ["error", "warning"]
    assert (found["error"].line, found["error"].message) == (4, (
        "translation_of: expected '1.1-konsernihallinto.fi.md' (the original beside this file), "
        "found '2.2-konsernihallinto.fi.md'"))
    assert found["warning"].line == 4
    assert found["warning"].message.startswith("source_digest: no digest of the Finnish original is recorded")


def test_a_translation_of_a_draft_cannot_be_published(minimal: SiteDir) -> None:
    edit(minimal, ORIGINAL, "unit: konsernihallinto\n", "unit: konsernihallinto\ndraft: true\n")
    assert errors_in(minimal, TRANSLATION) == [
        (None, "the original 1.1-konsernihallinto.fi.md is a draft, so this translation cannot be published")]


# -- bodies -----------------------------------------------------------------------------------


def test_raw_html_is_an_error_at_its_line_but_not_inside_code(minimal: SiteDir) -> None:
    minimal.write(FI, HEAD + "A `<b>` span.\n\n```\n<div>\n```\n\n    <table>\n\nAnd <b>this</b>.\n")
    assert errors_in(minimal, FI) == [
        (14, "raw HTML ('<b…') is not allowed; write Markdown (to show a '<', write '\\<')")]


@pytest.mark.parametrize("link", [
    "[x](data:text/html,hi)", "![x](data:image/png;base64,AAAA)", "[x](javascript:alert(1))",
    "<javascript:alert(1)>", "[x][r]\n\n[r]: JavaScript:alert(1)",
])
def test_data_and_javascript_urls_are_refused(minimal: SiteDir, link: str) -> None:
    minimal.write(FI, HEAD + link + "\n")
    [(line, message)] = errors_in(minimal, FI)
    assert line == 6 + link.count("\n")
    assert "is not allowed; use http:, https:, mailto:, tel:" in message


@pytest.mark.parametrize("link", [
    "[x](mailto:kirjaamo@espoo.fi)", "[x](tel:+358981621)", "[x](https://www.espoo.fi/fi)", "<https://espoo.fi>",
    "[x](#konsernihallinto)", "[x](1.1-konsernihallinto.fi.md#konsernihallinto)",
])
def test_mail_phone_web_and_response_links_are_allowed(minimal: SiteDir, link: str) -> None:
    minimal.write(FI, HEAD + link + "\n")
    assert errors_in(minimal, FI) == []


def test_links_to_missing_responses_and_other_files_are_refused(minimal: SiteDir) -> None:
    minimal.write(FI, HEAD + "[a](9.9-konsernihallinto.fi.md)\n\n[b](liite.pdf)\n")
    assert errors_in(minimal, FI) == [
        (6, "link '9.9-konsernihallinto.fi.md': there is no response file content/2021/9.9-konsernihallinto.fi.md"),
        (8, "link 'liite.pdf': only links to other responses (e.g. 2.4-konsernihallinto.fi.md) "
            "or full http(s), mailto and tel addresses are allowed")]


def test_a_published_response_may_not_link_to_a_draft_but_a_draft_may(minimal: SiteDir) -> None:
    edit(minimal, FI, "unit: tilapalvelut-liikelaitos\n", "unit: tilapalvelut-liikelaitos\ndraft: true\n")
    assert errors_in(minimal, ORIGINAL) == [
        (6, "link '2.2-tilapalvelut-liikelaitos.fi.md': content/2021/2.2-tilapalvelut-liikelaitos.fi.md "
            "is a draft and will not be published")]
    edit(minimal, ORIGINAL, "unit: konsernihallinto\n", "unit: konsernihallinto\ndraft: true\n")
    assert errors_in(minimal, ORIGINAL) == []


def test_an_empty_body_is_an_error(minimal: SiteDir) -> None:
    minimal.write(FI, HEAD + "\n  \n")
    assert [m for _, m in errors_in(minimal, FI)] == ["the response has no text after the front matter"]


def test_an_empty_front_matter_is_an_error_asking_for_section_and_unit(minimal: SiteDir) -> None:
    minimal.write(FI, "---\n---\n\nTilat.\n")
    found = errors_in(minimal, FI)
    assert found and all(line in (1, 2) for line, _ in found)
    assert "section" in " ".join(m for _, m in found) and "unit" in " ".join(m for _, m in found)


def test_a_link_to_a_file_whose_front_matter_is_a_list_is_checked_without_crashing(minimal: SiteDir) -> None:
    minimal.write(FI, "---\n- section\n---\n\nTilat.\n")  # 1.1-konsernihallinto.fi.md links here
    assert errors_in(minimal, FI) == [(2, "front matter: expected a mapping of fields, found a list")]


# -- digests -------------------------------------------------------------------------------------


def test_the_body_digest_ignores_normalisation_line_endings_and_outer_whitespace() -> None:
    digest = body_digest("Kehitys jatkuu.\nSeuraava rivi.")
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert body_digest("\n  Kehitys jatkuu.\r\nSeuraava rivi.\n\n") == digest
    assert body_digest("Kehitys jatkuu.\n\nSeuraava rivi.") != digest
    assert body_digest("Tämä on.") == body_digest("Ta\u0308ma\u0308 on.")


def test_every_field_of_the_schema_has_a_description_for_editors_tools() -> None:
    undescribed = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    undescribed.append(f"{path}.{key}")
                walk(sub, f"{path}.{key}")
            walk(node.get("items"), f"{path}[]")
            for key, sub in node.get("$defs", {}).items():
                walk(sub, f"$defs.{key}")

    walk(load_schema(SCHEMA), "")
    assert undescribed == []


@pytest.mark.parametrize("text", [
    b"no front matter\n",
    b'---\nsection: "1.1"\nunit: konsernihallinto\n\nNo closing line.\n',
    b'---\nsection: "1.1"\nunit: konsernihallinto\n---\n\nLatin-1: \xe4\n',
    b'---\nsection: "1.1"\nunit: konsernihallinto\n---\n\n' + b"x" * 1_000_001,
], ids=["no front matter", "unclosed front matter", "not UTF-8", "over the size limit"])
def test_an_unreadable_original_is_its_one_problem_not_also_its_translations(minimal: SiteDir, text: bytes) -> None:
    minimal.write(ORIGINAL, text)
    found = all_errors(minimal)
    assert len(found) == 1 and found[0].startswith(f"{ORIGINAL}"), found
    assert not [p for p in problems(minimal) if p.path == TRANSLATION]


def test_a_section_changed_to_one_another_file_answers_blames_the_changed_file(minimal: SiteDir) -> None:
    changed, untouched = "content/2021/1.1-konsernihallinto.fi.md", "content/2021/2.2-konsernihallinto.fi.md"
    edit(minimal, changed, 'section: "1.1"', 'section: "2.2"')
    assert errors_in(minimal, untouched) == []
    assert [message for _, message in errors_in(minimal, changed)] == [
        f"{untouched} already answers section 2.2 for unit 'konsernihallinto' in 'fi'",
        "section '2.2' does not agree with the file name; rename the file to '2.2-konsernihallinto.fi.md' "
        "or correct the section"]


def test_a_date_in_the_wrong_form_is_reported_once(minimal: SiteDir) -> None:
    edit(minimal, FI, 'section: "2.2"', 'section: "2.2"\nupdated: 15.3.2024')
    assert errors_in(minimal, FI) == [(3, "updated: '15.3.2024' is not valid; expected a date written YYYY-MM-DD, "
                                          "e.g. 2024-03-15")]
