"""Repair what a PDF's text (or a Word document) breaks, as the 2022 content was repaired by hand.

Lines wrapped by the page are joined into paragraphs (a line-final hyphen or dash is
real and kept, with no space after it); a blank line ends a paragraph unless the
line before it plainly runs on (double-spaced extraction); a page's first line (the
extraction indents it by one space) starts a new paragraph only after a sentence's
end; bullets (•, -, …) and numbered items (1., 2., …) become Markdown lists. A Word
paragraph is a block of its own and is never joined with another.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .docsource import SourceLine

BULLET = re.compile(r"^(?:[•●▪◦‣∙·\uf0b7\uf0a7\uf076\uf0d8]\s*|[-–*]\s+)(?=\S)")
BULLET_MARKUP = re.compile(r"^(?:[•●▪◦‣∙·\uf0b7\uf0a7\uf076\uf0d8]\s*|(?:[-–]|\\\*)\s+)(?=\S)")
NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+(?=\S)")
NUMBERED_MARKUP = re.compile(r"^(\d{1,2})[.)]\s+(?=\S)")
SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_BLOCK_START = re.compile(r"^(#|>|=|\+\s|-\s|\*\s|\d+[.)](\s|$)|\|)")
_SOFT_GAP_SHARE = 0.75
"""A blank line after a line this long (of the usual full line) that ends no sentence is double spacing."""


@dataclass
class Block:
    """A paragraph or a list item being assembled."""

    kind: str
    """'p', 'bullet' or 'number'."""
    number: int = 0
    parts: list[str] = field(default_factory=list)


def typical_width(lines: Iterable[SourceLine]) -> int:
    """The length of a full line of the text (the 90th percentile of its longer lines)."""
    lengths = sorted(len(line.text) for line in lines if not line.whole and len(line.text) >= 20)
    return lengths[int(len(lengths) * 0.9)] if lengths else 80


def repair(lines: Sequence[SourceLine], width: int) -> str:
    """One response's lines (blank ones included) as a Markdown body."""
    blocks: list[Block] = []
    prev: SourceLine | None = None
    gap = False
    for line in lines:
        if line.note or line.table:
            continue
        if not line.text:
            gap = True
            continue
        item = _list_item(line, blocks, prev)
        if item is not None:
            kind, number, markup = item
            blocks.append(Block(kind, number, [markup]))
        elif prev is not None and blocks and not line.whole and not prev.whole and _runs_on(prev, line, gap, width):
            glue = "" if prev.text.endswith(("-", "–")) else " "
            blocks[-1].parts.append(glue + line.markup)
        else:
            blocks.append(Block("p", 0, [line.markup]))
        prev, gap = line, False
    return render(blocks)


def _list_item(line: SourceLine, blocks: list[Block], prev: SourceLine | None) -> tuple[str, int, str] | None:
    """(kind, number, text) when the line starts a list item."""
    last = blocks[-1] if blocks else None
    if line.list_kind is not None:  # a Word list paragraph; a typed marker in it is dropped
        markup = BULLET_MARKUP.sub("", line.markup) if line.list_kind == "bullet" else line.markup
        number = last.number + 1 if last is not None and last.kind == "number" else 1
        return line.list_kind, number, markup
    if prev is not None and not line.whole and prev.text.endswith(("-", "–")):
        return None  # a hyphenated word's second half, not a bullet
    if BULLET.match(line.text):
        return "bullet", 0, BULLET_MARKUP.sub("", line.markup)
    numbered = NUMBERED.match(line.text)
    if numbered:
        n = int(numbered.group(1))
        in_list = last is not None and last.kind == "number"
        if n == 1 or (in_list and last is not None and n == last.number + 1):
            return "number", n, NUMBERED_MARKUP.sub("", line.markup)
    return None


def _runs_on(prev: SourceLine, line: SourceLine, gap: bool, width: int) -> bool:
    """Whether `line` continues the paragraph (or item) that `prev` belongs to."""
    if prev.text.endswith(("-", "–")):
        return True
    starts_lower = line.text[0].islower()
    ends_sentence = bool(SENTENCE_END.search(prev.text))
    if not gap:
        return not (line.page_start and ends_sentence and not starts_lower)
    if starts_lower:
        return True
    return not ends_sentence and len(prev.text) >= _SOFT_GAP_SHARE * width


def render(blocks: Sequence[Block]) -> str:
    """Blocks as Markdown: paragraphs apart by a blank line, a list's items on consecutive lines."""
    out: list[str] = []
    previous = ""
    for block in blocks:
        text = block_escape(re.sub(r" {2,}", " ", "".join(block.parts)).strip())
        if not text:
            continue
        if block.kind == "bullet":
            text = "- " + text
        elif block.kind == "number":
            text = f"{block.number}. " + text
        if out:
            out.append("\n" if block.kind != "p" and block.kind == previous else "\n\n")
        out.append(text)
        previous = block.kind
    return "".join(out)


def block_escape(text: str) -> str:
    """Escape what would make a paragraph something else: a heading, a quote, a list item."""
    numbered = re.match(r"^(\d+)([.)])(\s|$)", text)
    if numbered:
        return numbered.group(1) + "\\" + text[len(numbered.group(1)):]
    return "\\" + text if _BLOCK_START.match(text) else text


# -- headings -----------------------------------------------------------------------


def is_caps(text: str) -> bool:
    """Every letter upper case (at least two letters): the source's styling of headings."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def vocabulary(texts: Iterable[str]) -> dict[str, str]:
    """How the document's own text writes words mid-sentence, where that is not in lower case.

    'ESPOON' in a heading becomes 'Espoon' and 'ICT' stays 'ICT' because the body text
    writes them so; a word the text writes in lower case (or not at all) is lowered.
    """
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for match in re.finditer(r"[^\W\d_]+", text):
            before = text[: match.start()].rstrip()
            if not before or before[-1] in ".!?:•" or before.endswith(("(", "\"", "”")):
                continue  # a sentence's first word says nothing of the word's case
            word = match.group(0)
            forms.setdefault(word.casefold(), Counter())[word] += 1
    result = {}
    for key, counts in forms.items():
        form, n = counts.most_common(1)[0]
        if form != form.lower() and n > counts.get(form.lower(), 0):
            result[key] = form
    return result


def sentence_case(title: str, words: dict[str, str]) -> str:
    """An all-capitals heading in sentence case; a heading in mixed case is left as written."""
    if not is_caps(title):
        return title
    lowered = re.sub(r"[^\W\d_]+", lambda m: words.get(m.group(0).casefold(), m.group(0).lower()), title)
    first = re.search(r"[^\W\d_]", lowered)
    if first is None:
        return lowered
    return lowered[: first.start()] + lowered[first.start()].upper() + lowered[first.start() + 1:]
