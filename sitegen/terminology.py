"""Terminology: one Swedish rendering per listed term, and a warning where a translation uses another.

content/terminology.yaml (schema.yaml#/$defs/terminology) lists Finnish terms, the
one Swedish rendering of each, and the renderings to avoid. `check` warns at the
file and line where a Swedish response uses a rendering to avoid, quoting the words
found and the rendering to use. Only the Swedish text is read, whatever the Finnish
says. The file is optional: without it there is nothing to check.

A rendering to avoid is a word stem, or a phrase whose last word is one: it matches
at the start of a word, in any inflected form (``skolväg`` finds skolväg, skolvägen,
skolvägar …), whatever the case, and the words of a phrase may be split over lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .errors import Problem
from .load import Document, ResponseFile

LANGUAGE = "sv"
"""The language whose responses are checked: the renderings in the list are Swedish."""


@dataclass(frozen=True)
class Term:
    """One entry of the terminology list."""

    fi: str
    """The Finnish term, as the originals write it."""
    sv: str
    """The one Swedish rendering to use."""
    avoid: tuple[str, ...]
    """Swedish renderings not to use: stems or phrases (see the module's docstring)."""


def load_terms(doc: Document | None) -> tuple[Term, ...]:
    """The terms of a terminology file validated against the schema; () when there is none."""
    if doc is None or not isinstance(doc.data, dict):
        return ()
    return tuple(Term(t["fi"], t["sv"], tuple(t["avoid"])) for t in doc.data["terms"])


def stem_pattern(rendering: str) -> str:
    """The regular expression (case ignored) of a rendering to avoid, in any inflected form."""
    words = r"\s+".join(re.escape(word) for word in rendering.split())
    return rf"(?<!\w){words}\w*"


@lru_cache(maxsize=8)
def _pattern(terms: tuple[Term, ...]) -> re.Pattern[str] | None:
    """All renderings to avoid in one expression: group t<i> is term i's (one pass over each text)."""
    groups = [f"(?P<t{i}>{'|'.join(stem_pattern(a) for a in term.avoid)})"
              for i, term in enumerate(terms) if term.avoid]
    return re.compile("|".join(groups), re.IGNORECASE) if groups else None


def check_terms(response: ResponseFile, terms: Sequence[Term]) -> list[Problem]:
    """A warning for each rendering to avoid in a Swedish response's body, at the file line of the match.

    The message quotes the words as found and the rendering to use:
    ``'skolvägen' — use 'skolstigen' (koulupolku)``. Responses in other languages
    have nothing to check.
    """
    if response.lang != LANGUAGE or not terms:
        return []
    # Most texts hold none of the renderings: a substring test per term (lower-cased, in C) keeps
    # the regular expression, slow over long texts, for the few terms that may be there.
    lowered = " ".join(response.body.lower().split())
    terms = tuple(term for term in terms if any(_needle(a) in lowered for a in term.avoid))
    pattern = _pattern(terms) if terms else None
    if pattern is None:
        return []
    problems = []
    for match in pattern.finditer(response.body):
        assert match.lastgroup is not None
        term = terms[int(match.lastgroup[1:])]
        found = " ".join(match.group(0).split())
        line = response.body_line + response.body.count("\n", 0, match.start())
        problems.append(Problem(response.path, line, f"'{found}' — use '{term.sv}' ({term.fi})",
                                field=None, severity="warning"))
    return problems


@lru_cache(maxsize=256)
def _needle(rendering: str) -> str:
    """What a text must contain, lower-cased and with single spaces, for the rendering to match in it."""
    return " ".join(rendering.lower().split())


def check_list(doc: Document) -> list[Problem]:
    """The list itself: a rendering to avoid must not match the rendering to use (it would warn on it)."""
    problems = []
    for i, term in enumerate(load_terms(doc)):
        for j, rendering in enumerate(term.avoid):
            if re.search(stem_pattern(rendering), term.sv, re.IGNORECASE):
                problems.append(Problem(doc.path, doc.line_of(("terms", i, "avoid", j)),
                    f"terms[{i}].avoid[{j}]: '{rendering}' also matches the rendering to use, "
                    f"'{term.sv}'; write more of the word to avoid", field=f"terms[{i}].avoid"))
    return problems


def terms_to_check(doc: Document | None, bad: set[str]) -> tuple[tuple[Term, ...], list[Problem]]:
    """The terms each Swedish response is checked against (validate does it file by file), and the
    problems of the list itself; no terms when there is no list or it has problems.

    `bad`: the files already found invalid (a list that breaks its schema is not read).
    """
    if doc is None or doc.path in bad:
        return (), []
    problems = check_list(doc)
    return (() if problems else load_terms(doc)), problems


def check(doc: Document | None, responses: Iterable[ResponseFile]) -> list[Problem]:
    """Everything validation asks of the terminology list: the list itself, then every Swedish response.

    `doc`: content/terminology.yaml, valid under the schema, or None when there is
    no such file (then nothing is checked).
    """
    terms, problems = terms_to_check(doc, set())
    return problems + [p for r in responses for p in check_terms(r, terms)]
