"""Markdown to safe HTML, for the render stage.

Python-Markdown does the parsing; links to other responses' Markdown files are
rewritten to their section pages; headings are moved below the page's own; and
the result always passes through nh3's allow-list, so nothing unsafe reaches
site/ even if a check in validate were bypassed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from html.parser import HTMLParser

import markdown
import nh3
from markdown import inlinepatterns, util
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from . import links

RENDERER_VERSION = f"markdown-{markdown.__version__}/nh3-{nh3.__version__ if hasattr(nh3, '__version__') else '0'}/2"
"""Part of the cache key of rendered HTML: change it when the output of this module changes."""

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "abbr", "sub", "sup", "img",
}
ALLOWED_ATTRIBUTES = {
    "*": {"lang"},
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
HEADING_SHIFT = 2
"""A body's '#' becomes <h3>: the page has the <h1> and each response's unit the <h2>."""


_HEADINGS = {f"h{level}": f"h{min(level + HEADING_SHIFT, 6)}" for level in range(1, 7)}


class _ResponseLinks(Treeprocessor):
    """Rewrite `[text](2.4-konsernihallinto.fi.md)` to that response on its section page."""

    year: str = ""

    def run(self, root: etree.Element) -> None:
        for a in root.iter("a"):
            target = links.resolve(self.year, a.get("href", ""))
            match = links.RESPONSE_NAME.match(target[1]) if target is not None else None
            if target is None or match is None:
                continue
            # Every year-level page sits at <lang>/<year>/<slug>/index.html, so a
            # link written relative to content/<year>/ maps to the same depth.
            prefix = "../" if target[0] == self.year else f"../../{target[0]}/"
            a.set("href", f"{prefix}{match['section']}/index.html#{match['unit']}")
        for el in root.iter():
            if el.tag in _HEADINGS:
                el.tag = _HEADINGS[el.tag]


# What each of Python-Markdown's own inline patterns cannot match without: (its
# regular expression, the strings of which at least one must be in the text).
_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "backtick": (inlinepatterns.BACKTICK_RE, ("`",)),
    "escape": (inlinepatterns.ESCAPE_RE, ("\\",)),
    "reference": (inlinepatterns.REFERENCE_RE, ("[",)),
    "link": (inlinepatterns.LINK_RE, ("[",)),
    "image_link": (inlinepatterns.IMAGE_LINK_RE, ("![",)),
    "image_reference": (inlinepatterns.IMAGE_REFERENCE_RE, ("![",)),
    "short_reference": (inlinepatterns.REFERENCE_RE, ("[",)),
    "short_image_ref": (inlinepatterns.IMAGE_REFERENCE_RE, ("![",)),
    "autolink": (inlinepatterns.AUTOLINK_RE, ("<",)),
    "automail": (inlinepatterns.AUTOMAIL_RE, ("<",)),
    "linebreak": (inlinepatterns.LINE_BREAK_RE, ("  \n",)),
    "html": (inlinepatterns.HTML_RE, ("<",)),
    "entity": (inlinepatterns.ENTITY_RE, ("&",)),
    "em_strong": (r"\*|_", ("*", "_")),
}


class _QuickInline(InlineProcessor):
    """Python-Markdown's inline stage, minus the patterns that cannot match.

    It tries each of its 14 patterns on every run of text, at a few microseconds
    each even when the text has no '[' or '*' at all: 40 % of all the time spent
    on a typical response. Here a pattern is skipped, exactly as if it had not
    matched, when the text lacks the character it must start with; the output is
    the same (tests/test_markup.py compares the two on many inputs). Should a
    later Python-Markdown rename the private method overridden here, it is simply
    not called and every pattern is tried again.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.patterns: list[inlinepatterns.Pattern] = []
        self.needs: list[tuple[str, ...] | None] = []

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        if len(self.patterns) != len(self.inlinePatterns):  # once: extensions register theirs before
            registry = self.inlinePatterns
            self.patterns = list(registry)  # type: ignore[arg-type]
            # Only a pattern that is exactly Python-Markdown's own is ever skipped.
            self.needs = [None] * len(registry)
            for name, (regex, needs) in _NEEDS.items():
                if name in registry and getattr(registry[name], "compiled_re", None) is not None \
                        and registry[name].compiled_re.pattern == regex:  # type: ignore[attr-defined]
                    self.needs[registry.get_index_for_name(name)] = needs
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802,N803
        # The loop of InlineProcessor.__handleInline, with the test for `needs` added.
        if not isinstance(data, util.AtomicString):
            start = 0
            patterns, needs, count = self.patterns, self.needs, len(self.patterns)
            apply = self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
            while patternIndex < count:
                need = needs[patternIndex]
                if need is not None:
                    for n in need:
                        if n in data:
                            break
                    else:  # none of them: this pattern cannot match
                        patternIndex, start = patternIndex + 1, 0
                        continue
                data, matched, start = apply(patterns[patternIndex], data, patternIndex, start)
                if not matched:
                    patternIndex += 1
        return data


class _Extension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        md.treeprocessors.register(_ResponseLinks(md), "response_links", 5)
        if type(md.treeprocessors["inline"]) is InlineProcessor:
            # Python-Markdown registers its inline stage at 20 (treeprocessors.build_treeprocessors).
            md.treeprocessors.register(_QuickInline(md), "inline", 20)


def make_converter() -> markdown.Markdown:
    """One configured Python-Markdown instance (reuse it: building one costs more than a page)."""
    # Extension objects, not names: a name makes Python-Markdown scan every installed
    # package's entry points, which costs more than rendering fifty responses.
    md = markdown.Markdown(
        extensions=[AttrListExtension(), SaneListExtension(), TableExtension(), _Extension()],
        output_format="html",
    )
    md.ESCAPED_CHARS.append("<")  # '\\<' shows a '<' (as validate's raw-HTML message says), not a tag
    return md


_converter: markdown.Markdown | None = None


def to_html(text: str, year: str) -> str:
    """Render one response body (Markdown) to sanitised HTML, with its response links resolved."""
    return sanitize(raw_html(text, year))


def raw_html(text: str, year: str) -> str:
    """What Python-Markdown makes of a body, before the sanitiser (validate checks this)."""
    global _converter
    if _converter is None:
        _converter = make_converter()
    md = _converter
    md.reset()
    links = md.treeprocessors["response_links"]
    assert isinstance(links, _ResponseLinks)
    links.year = year
    return md.convert(text)


_ALIGN = re.compile(r"text-align: (left|right|center);")


class _Findings(HTMLParser):
    """Everything in rendered HTML that the sanitiser would have to remove: (what to look for in the
    Markdown, the problem)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.found.append((f"<{tag}", f"raw HTML ('<{tag}…') is not allowed; write Markdown "
                               "(to show a '<', write '\\<')"))
            return
        for name, value in attrs:
            self._attribute(tag, name, value or "")

    def _attribute(self, tag: str, name: str, value: str) -> None:
        if name == "style" and tag in ("th", "td") and _ALIGN.fullmatch(value):
            return  # a table column's alignment (the sanitiser drops it; the page's CSS aligns)
        if name not in ALLOWED_ATTRIBUTES["*"] and name not in ALLOWED_ATTRIBUTES.get(tag, set()):
            self.found.append((name, f"attribute '{name[:40]}' is not allowed; only lang is, "
                               "e.g. *Green Deal*{: lang=en }"))
        elif name in ("href", "src"):
            problem = url_problem(value, is_image=name == "src")
            if problem:
                self.found.append((value, problem))

    def handle_comment(self, data: str) -> None:
        self.found.append(("<!--", "raw HTML ('<!--…') is not allowed; write Markdown (to show a '<', write '\\<')"))

    def handle_decl(self, decl: str) -> None:
        self.found.append(("<!", "raw HTML ('<!…') is not allowed; write Markdown (to show a '<', write '\\<')"))

    def handle_pi(self, data: str) -> None:
        self.found.append(("<?", "raw HTML ('<?…') is not allowed; write Markdown (to show a '<', write '\\<')"))


def url_problem(url: str, is_image: bool) -> str | None:
    """What is wrong with an address in rendered HTML: a scheme the site does not allow, or an image
    that is not on the web (the rewriting of links to responses leaves '../…/index.html#…')."""
    scheme = links.scheme(url)
    short = url if len(url) <= 60 else url[:59] + "…"
    what = "image" if is_image else "link"
    if scheme is not None and scheme not in links.ALLOWED_SCHEMES:
        return (f"{what} '{short}': the scheme '{url.split(':', 1)[0]}:' is not allowed; "
                f"use {', '.join(s + ':' for s in links.ALLOWED_SCHEMES)}")
    if is_image and scheme not in ("http", "https"):
        return f"image '{short}': only full http(s) addresses are allowed"
    return None


def findings(html: str) -> list[tuple[str, str]]:
    """(what to look for in the Markdown, the problem) for each thing in `html` the site does not allow."""
    parser = _Findings()
    parser.feed(html)
    parser.close()
    return parser.found


TOO_COMPLEX = ("this response is too complex to render: block quotes, lists or emphasis are nested too deeply; "
               "simplify it: fewer levels of nesting, one list or quote inside another at most a few times")
"""The message of a body the renderer gave up on (validate refuses what it knows to be too deep)."""


def try_html(text: str, year: str) -> str | None:
    """to_html(), or None when Python-Markdown recursed too deep on this body: never an exception."""
    raw = try_raw_html(text, year)
    return None if raw is None else sanitize(raw)


def try_raw_html(text: str, year: str) -> str | None:
    """raw_html(), or None when Python-Markdown recursed too deep on this body: never an exception."""
    global _converter
    try:
        return raw_html(text, year)
    except RecursionError:
        _converter = None  # its state is unknown after an aborted run: the next body gets a fresh one
        return None


def deepest_line(text: str) -> int:
    """The 0-based line of `text` that opens the most quotes and lists: where to look first."""
    depths = [len(re.findall(r"(?:^|[ \t])(?:>|[-*+]|\d+[.)])(?=[ \t])", line.split("`")[0]))
              for line in text.split("\n")]
    return depths.index(max(depths)) if depths else 0


def sanitize(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(links.ALLOWED_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
