"""Stage 1, load: read content/ into parsed documents, with the line of every key.

Nothing here judges the content beyond what reading needs: bytes that are not
text, front matter that is not YAML. Everything is collected as `Problem`s;
nothing raises for content.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import yaml

from .cache import Cache, digest
from .errors import Problem, from_plain, to_plain
from .links import RESPONSE_NAME
from .parallel import MIN_ITEMS, pmap

MAX_FILE_BYTES = 1_000_000
"""Larger files are refused: no response is near this, and it bounds the work per file."""

SETTINGS_FILE = "site.yaml"
UNITS_FILE = "units.yaml"
REPORT_FILE = "report.yaml"
ACCESSIBILITY_FILE = "accessibility.yaml"
TERMINOLOGY_FILE = "terminology.yaml"
"""Optional: without it, translations are not checked for terms (see terminology.py)."""

YEAR_DIR = re.compile(r"^[0-9]{4}$")
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """Parsed YAML (a data file or a Markdown file's front matter) with the line of every key."""

    path: str
    """The file, relative to the project root."""
    data: Any
    """The parsed value; None when the YAML could not be parsed."""
    lines: Mapping[KeyPath, int] = field(default_factory=dict)
    """1-based file line of every mapping key and sequence item, by its path."""
    plain: Mapping[KeyPath, str] = field(default_factory=dict)
    """The source text of unquoted scalars that YAML read as numbers or booleans."""
    start_line: int = 1
    """The line where the YAML starts (for problems with no better line)."""

    def line_of(self, path: KeyPath) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.start_line


@dataclass(frozen=True)
class ResponseFile:
    """One Markdown response file: its name's parts, front matter and body."""

    path: str
    year: str
    name: str
    name_section: str
    name_unit: str
    lang: str
    meta: Document
    body: str
    """The Markdown body, with the front matter's lines removed (no leading blank lines)."""
    body_line: int
    """The file line on which `body` starts."""
    digest: str = ""
    """body_digest(body): what a translation records of its original, and the cache key of its HTML."""
    file_digest: str = ""
    """A digest of the file's bytes: the cache key of everything computed from the file alone."""

    @property
    def draft(self) -> bool:
        """Whether the front matter says `draft: true`: the one test of it."""
        return is_draft(self.meta.data)


def is_draft(meta: Any) -> bool:
    """Front matter (or any parsed YAML) that marks a draft: only the preview shows it."""
    return isinstance(meta, dict) and bool(meta.get("draft"))


@dataclass(frozen=True)
class Loaded:
    """Everything read from content/, and the problems met while reading it."""

    root: Path
    settings: Document | None
    units: Document | None
    reports: Mapping[str, Document]
    accessibility: Document | None
    responses: tuple[ResponseFile, ...]
    problems: tuple[Problem, ...]
    paths: frozenset[str] = frozenset()
    """Every Markdown file found under the year folders, read successfully or not."""
    terminology: Document | None = None
    """content/terminology.yaml, when there is one."""


def language_codes(settings: Document | None) -> tuple[str, ...]:
    """The site's language codes from site.yaml, the original first; () when it has none."""
    data = settings.data if settings is not None else None
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, list):
        return ()
    return tuple(lang["code"] for lang in languages if isinstance(lang, dict) and isinstance(lang.get("code"), str))


def is_ignored(name: str) -> bool:
    """Hidden files and editor leftovers (`.x`, `.#x`, `#x#`, `x~`, `x.swp`) are not content."""
    return (
        name.startswith((".", "#", "~$"))
        or name.endswith(("~", ".swp", ".swo", ".swx", ".tmp", ".bak"))
        or name in ("Thumbs.db", "desktop.ini")
    )


def load(root: Path, content_dir: str = "content", cache: Cache | None = None,
         stats: Mapping[str, os.stat_result] | None = None) -> Loaded:
    """Read settings, units, every year's report.yaml and every response file under content/.

    A response file whose bytes are unchanged since the last build is taken from
    `cache`; the others are parsed on every core when there are many. `stats`:
    the files' stats by path, when the caller has just taken them.
    """
    cache = cache or Cache.disabled()
    problems: list[Problem] = []
    base = root / content_dir
    if not base.is_dir():
        problems.append(Problem(content_dir, None, f"the content folder is missing: looked for {base}; run the "
                                "command in the project folder, or name that folder with --root"))
        return Loaded(root, None, None, {}, None, (), tuple(problems))
    found = _scan(base, root, content_dir, problems, stats or {})
    data = {name: _data_file(path, root, cache, problems) for name, path in found.data.items()}
    reports = {year: doc for year, path in found.reports.items()
               if (doc := _data_file(path, root, cache, problems)) is not None}
    responses: list[ResponseFile] = []
    for response, probs in read_responses(found.responses, cache):
        problems.extend(probs)
        if response is not None:
            responses.append(response)
    for name in (SETTINGS_FILE, UNITS_FILE, ACCESSIBILITY_FILE):
        if data.get(name) is None and not any(p.path == f"{content_dir}/{name}" for p in problems):
            problems.append(Problem(f"{content_dir}/{name}", None, "the file is missing"))
    if not reports and not responses:
        problems.append(Problem(content_dir, None,
            "no report years found: add a folder such as content/2022/ with a report.yaml"))
    responses.sort(key=lambda r: r.path)
    return Loaded(root, data.get(SETTINGS_FILE), data.get(UNITS_FILE), reports, data.get(ACCESSIBILITY_FILE),
                  tuple(responses), tuple(problems), frozenset(shown for _, shown, _, _ in found.responses),
                  data.get(TERMINOLOGY_FILE))


@dataclass
class _Found:
    """What a walk of content/ found, by kind: nothing read yet."""

    data: dict[str, Path] = field(default_factory=dict)
    """The top-level data files by name."""
    reports: dict[str, Path] = field(default_factory=dict)
    """Each year's report.yaml."""
    responses: list[tuple[str, str, str, os.stat_result | None]] = field(default_factory=list)
    """(path, shown path, year, stat) of every Markdown file in a year folder."""


DATA_FILES = (SETTINGS_FILE, UNITS_FILE, ACCESSIBILITY_FILE, TERMINOLOGY_FILE)


def _scan(base: Path, root: Path, content_dir: str, problems: list[Problem],
          stats: Mapping[str, os.stat_result]) -> _Found:
    """List content/: the data files, the year folders' reports and Markdown files; anything else is a problem."""
    found = _Found()
    for entry in _entries(base):
        name = nfc(entry.name)
        if is_ignored(name) or not _inside(entry, base, root, problems):
            continue
        if name in DATA_FILES:
            found.data[name] = Path(entry.path)
        elif entry.is_dir() and YEAR_DIR.match(name):
            _scan_year(entry, name, base, root, content_dir, found, problems, stats)
        else:
            problems.append(Problem(rel(Path(entry.path), root), None,
                f"'{name}' is not expected in {content_dir}/; expected {SETTINGS_FILE}, {UNITS_FILE}, "
                f"{ACCESSIBILITY_FILE}, {TERMINOLOGY_FILE} (optional) and one folder per report year (e.g. 2022/)"))
    return found


def _scan_year(folder: os.DirEntry[str], year: str, base: Path, root: Path, content_dir: str, found: _Found,
               problems: list[Problem], stats: Mapping[str, os.stat_result]) -> None:
    for item in _entries(Path(folder.path)):
        item_name = nfc(item.name)
        if is_ignored(item_name) or not _inside(item, base, root, problems):
            continue
        shown = f"{content_dir}/{year}/{item_name}"
        if item_name == REPORT_FILE:
            found.reports[year] = Path(item.path)
        elif item_name.endswith(".md") and item.is_file():
            found.responses.append((item.path, shown, year, stats.get(item.path) or _stat(item)))
        else:
            problems.append(Problem(shown, None,
                f"'{item_name}' is not a response file; expected <section>-<unit>.<language>.md or report.yaml"))


def _data_file(path: Path, root: Path, cache: Cache, problems: list[Problem]) -> Document | None:
    """A YAML data file, parsed (or taken from the cache when its bytes are unchanged)."""
    shown = rel(path, root)
    raw = read_bytes(path, shown, problems)
    if raw is None:
        return None

    def parse() -> tuple[Document | None, list[Problem]]:
        probs: list[Problem] = []
        text = decode(raw, shown, probs)
        doc, more = parse_yaml(text, shown) if text is not None else (None, [])
        return doc, probs + more

    key = ("data", shown, digest(raw))
    cache.remember(key, lambda: _freeze(*parse()))
    doc, probs = cache.thawed(key, lambda value: _thaw(value, Document)) or (None, [])
    problems.extend(probs)
    return doc


def read_responses(files: list[tuple[str, str, str, os.stat_result | None]],
                   cache: Cache) -> list[tuple[ResponseFile | None, list[Problem]]]:
    """Read and parse response files (path, shown path, year, stat), reusing what the cache holds.

    A file whose size, times and inode are those recorded by an earlier build is
    not even read (make and git trust the same signs); the others are read, on
    every core when there are many, and parsed only when their bytes are new.
    """
    results: list[tuple[ResponseFile | None, list[Problem]] | None] = [None] * len(files)
    todo: list[tuple[int, tuple[int, int, int, int] | None]] = []
    now = time.time_ns()
    for index, (_path, shown, _year, st) in enumerate(files):
        signature = trusted_signature(st, now)
        if signature is not None:
            known = cache.thawed(("stat", shown), tuple)  # warm: the last build's, without a lookup
            if known is not None and known[0] == signature:
                results[index] = cache.thawed(("load", shown, known[1]), _thaw_response)
            if results[index] is not None:
                continue
        todo.append((index, signature))
    if len(todo) >= MIN_ITEMS:
        cache.read_all()  # once, before the workers start, rather than once in each
    done = pmap(partial(_read_and_parse, cache=cache), [files[index][:3] for index, _ in todo])
    for (index, signature), (file_digest, parsed) in zip(todo, done, strict=True):
        shown = files[index][1]
        if file_digest is None:  # unreadable: the problem says why
            results[index] = _thaw(parsed, ResponseFile)
            continue
        if signature is not None:
            cache.put(("stat", shown), (signature, file_digest))
        key = ("load", shown, file_digest)
        if parsed is not None:  # new bytes (else the cache has them parsed)
            cache.put(key, parsed)
        results[index] = cache.thawed(key, _thaw_response)
    return [r for r in results if r is not None]


def _read_and_parse(job: tuple[str, str, str], cache: Cache) -> tuple[str | None, tuple[Any, ...] | None]:
    """(digest of the bytes, the parsed file as plain data); None when the cache holds these bytes parsed.

    Plain data (_freeze) because that is what the cache keeps, and it crosses from
    a worker process four times faster than the dataclasses.
    """
    path, shown, year = job
    problems: list[Problem] = []
    raw = read_bytes(Path(path), shown, problems)
    if raw is None:
        return None, _freeze(None, problems)
    file_digest = digest(raw)
    if cache.peek(("load", shown, file_digest)) is not None:
        return file_digest, None
    return file_digest, _freeze(parse_response(raw, shown, year, problems), problems)


RACY_NS = 2_000_000_000
"""A file changed this recently may change again within the same clock tick unseen: always read it."""


def signature(st: os.stat_result) -> tuple[int, int, int, int]:
    """What identifies a file's version without reading it: size, times and inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def trusted_signature(st: os.stat_result | None, now: int) -> tuple[int, int, int, int] | None:
    """The signature, or None when it is not safe to go by (see RACY_NS)."""
    if st is None or now - st.st_mtime_ns < RACY_NS:
        return None
    return signature(st)


def _stat(entry: os.DirEntry[str]) -> os.stat_result | None:
    try:
        return entry.stat()
    except OSError:
        return None


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """A folder's entries by name; scandir knows symbolic links without a system call per file."""
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


# The cache holds plain data (see cache.py): documents and response files travel as tuples.


def _document_plain(doc: Document | None) -> tuple[Any, ...] | None:
    return None if doc is None else (doc.path, doc.data, dict(doc.lines), dict(doc.plain), doc.start_line)


def _document(row: tuple[Any, ...] | None) -> Document | None:
    return None if row is None else Document(*row)


def _freeze(value: Document | ResponseFile | None, problems: list[Problem]) -> tuple[Any, ...]:
    if isinstance(value, ResponseFile):
        plain = (value.path, value.year, value.name, value.name_section, value.name_unit, value.lang,
                 _document_plain(value.meta), value.body, value.body_line, value.digest, value.file_digest)
        return plain, to_plain(problems)
    return _document_plain(value), to_plain(problems)


def _thaw_response(stored: tuple[Any, ...]) -> tuple[ResponseFile | None, list[Problem]]:
    return _thaw(stored, ResponseFile)


def _thaw(stored: tuple[Any, ...] | None, kind: type) -> tuple[Any, list[Problem]]:
    assert stored is not None
    row, problems = stored
    if row is None:
        return None, from_plain(problems)
    if kind is ResponseFile:
        return ResponseFile(*row[:6], _document(row[6]), *row[7:]), from_plain(problems)  # type: ignore[call-arg]
    return _document(row), from_plain(problems)


def read_response(path: Path, root: Path, year: str, problems: list[Problem]) -> ResponseFile | None:
    """Read one Markdown file: name parts, front matter (with lines) and body."""
    shown = rel(path, root)
    raw = read_bytes(path, shown, problems)
    return None if raw is None else parse_response(raw, shown, year, problems)


def parse_response(raw: bytes, shown: str, year: str, problems: list[Problem]) -> ResponseFile | None:
    """Parse one Markdown file's bytes: name parts, front matter (with lines) and body."""
    text = decode(raw, shown, problems)
    if text is None:
        return None
    name = shown.rsplit("/", 1)[-1]
    match = RESPONSE_NAME.match(name)
    if not match:
        problems.append(Problem(shown, None,
            f"file name '{name}' is not <section>-<unit>.<language>.md "
            "(e.g. 2.4-konsernihallinto.fi.md)"))
        return None
    split = split_front_matter(text, shown, problems)
    if split is None:
        return None
    yaml_text, body, body_line = split
    meta, probs = parse_yaml(yaml_text, shown, first_line=2)
    problems.extend(probs)
    return ResponseFile(shown, year, name, match["section"], match["unit"], match["lang"],
                        meta, body, body_line, body_digest(body), digest(raw))


def split_front_matter(text: str, shown: str, problems: list[Problem]) -> tuple[str, str, int] | None:
    """Split `---`-fenced YAML from the body; returns (yaml, body, line the body starts on)."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        problems.append(Problem(shown, 1,
            "the file must start with front matter: a line '---', the fields "
            "(section, unit), and another line '---'"))
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            body_start = i + 1
            while body_start < len(lines) and not lines[body_start].strip():
                body_start += 1
            # An empty body is placed on the last line of the file, not past its end.
            last = len(lines) - 1 if lines[-1] == "" else len(lines)
            return "\n".join(lines[1:i]), "\n".join(lines[body_start:]), min(body_start, max(last - 1, i)) + 1
    problems.append(Problem(shown, 1,
        "the front matter is not closed: add a line '---' after the last field"))
    return None


def read_text(path: Path, root: Path, problems: list[Problem]) -> str | None:
    """Read a file as UTF-8 text: NFC, LF line endings, no BOM; bad bytes are located problems."""
    shown = rel(path, root)
    raw = read_bytes(path, shown, problems)
    return None if raw is None else decode(raw, shown, problems)


def read_bytes(path: Path, shown: str, problems: list[Problem]) -> bytes | None:
    """A file's bytes, or a problem when it is not a regular file, too large or unreadable.

    Opened without blocking and checked before any read: a named pipe (or a device)
    in place of a file would otherwise make the build wait for ever (or read without end).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        problems.append(Problem(shown, None, f"cannot read the file: {exc.strerror}"))
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            problems.append(Problem(shown, None, f"this is {_kind(st.st_mode)}, not an ordinary file: "
                                    "replace it with the file itself"))
            return None
        with open(fd, "rb") as handle:
            fd = -1  # the handle closes it
            # Sized by the file, not by the limit: read(limit + 1) would allocate a
            # megabyte for each small file, which is most of the cost of reading it.
            raw = handle.read() if st.st_size <= MAX_FILE_BYTES else handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.append(Problem(shown, None, f"cannot read the file: {exc.strerror}"))
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem(shown, None,
            f"the file is {max(st.st_size, len(raw)):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"))
        return None
    return raw


def _kind(mode: int) -> str:
    """What a file that is not an ordinary file is, for messages."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"


def decode(raw: bytes, shown: str, problems: list[Problem]) -> str | None:
    """Bytes to text: UTF-8, NFC, LF line endings, no BOM; bad bytes are located problems."""
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        problems.append(Problem(shown, line, "the file contains a NUL byte; it is not a text file"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line,
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8"))
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return nfc(text)


def parse_yaml(text: str, shown: str, first_line: int = 1) -> tuple[Document, list[Problem]]:
    """Parse YAML safely, recording the line of every key; never constructs tags or aliases."""
    problems: list[Problem] = []
    empty = Document(shown, None, start_line=first_line)
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + first_line
        return empty, [Problem(shown, line,
            "the YAML contains a tab; indent with spaces")]
    node = _compose(text, shown, first_line)
    if isinstance(node, Problem):
        return empty, [node]
    lines: dict[KeyPath, int] = {}
    plain: dict[KeyPath, str] = {}
    try:
        value = _construct(node, (), lines, plain, problems, shown, first_line, set()) if node else {}
    except _Refused as refused:
        return empty, [refused.problem]
    return Document(shown, value, lines, plain, first_line), problems


def _compose(text: str, shown: str, first_line: int) -> yaml.Node | None | Problem:
    """The YAML's node tree (None when empty), or the problem that stops it being read."""
    try:
        node = _compose_simple(text)
        if node is not None:
            return node
        if "&" in text or "*" in text or "!" in text:
            # Anchors leave no trace in the composed nodes: look at the events.
            for event in yaml.parse(text, Loader=_Loader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    return Problem(shown, _line(event.start_mark) + first_line,
                                   "YAML anchors and aliases (& and *) are not allowed; write the value out")
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        if exc.context and "quoted scalar" in exc.context and exc.context_mark:
            return Problem(shown, exc.context_mark.line + first_line,
                           "invalid YAML: the quote opened on this line is not closed")
        line = _line(exc.problem_mark or exc.context_mark) + first_line
        what = exc.problem or exc.context or "invalid YAML"
        return Problem(shown, line, f"invalid YAML: {what}{_yaml_hint(what)}")
    except yaml.YAMLError as exc:
        return Problem(shown, first_line, f"invalid YAML: {exc}")


# libyaml's C parser when PyYAML was built with it (the wheels are): ~10x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.SafeLoader("")
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}


# One line of the simplest front matter: a lower-case key, one space, and a plain word
# (a number, a date, a name, true/false) or a double-quoted text without escapes or
# any character YAML reads as a line break or refuses.
_SIMPLE_LINE = re.compile(
    r'([a-z_]+): (?:"([^"\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*)"'
    r"|([A-Za-z0-9](?:[A-Za-z0-9._:-]*[A-Za-z0-9._-])?))")  # not ending in ':', a mapping in YAML
_STR = "tag:yaml.org,2002:str"


def _line(mark: Any) -> int:
    """The 0-based line of a YAML mark (0 when there is none)."""
    return mark.line if mark is not None else 0


def _compose_simple(text: str) -> yaml.MappingNode | None:
    """The node yaml.compose() makes of a document of only such lines, or None for any other.

    Nearly every response's front matter is a few `key: value` lines, and libyaml
    plus PyYAML's resolver cost 0.07 ms a file for them: a third of loading. The
    scalars are typed by the same resolver, so the values are the same (a property
    test compares the two on generated documents); anything else takes yaml.compose.
    """
    pairs = []
    for number, line in enumerate(text.split("\n")):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        key, quoted, word = match.groups()
        mark = yaml.Mark("<unicode string>", 0, number, 0, None, None)  # type: ignore[arg-type]
        key_node = yaml.ScalarNode(_plain_tag(key), key, mark, mark)
        if quoted is not None:
            value_node = yaml.ScalarNode(_STR, quoted, mark, mark, style='"')
        else:
            value_node = yaml.ScalarNode(_plain_tag(word), word, mark, mark)
        pairs.append((key_node, value_node))
    start = yaml.Mark("<unicode string>", 0, 0, 0, None, None)  # type: ignore[arg-type]
    return yaml.MappingNode("tag:yaml.org,2002:map", pairs, start, start)


@lru_cache(maxsize=1024)
def _plain_tag(word: str) -> str:
    """The type PyYAML's resolver gives an unquoted word (keys repeat in every file)."""
    return str(_SCALARS.resolve(yaml.ScalarNode, word, (True, False)))  # type: ignore[no-untyped-call]


class _Refused(Exception):
    """A construct we never build (an alias, a tag): ends the parse of this document at once."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _construct(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], plain: dict[KeyPath, str],
               problems: list[Problem], shown: str, first: int, seen: set[int]) -> Any:
    # Composing is linear even for an alias bomb (an alias is a second reference
    # to the same node); building values is not, so a node met twice is refused.
    if id(node) in seen:
        raise _Refused(Problem(shown, node.start_mark.line + first,
            "YAML anchors and aliases (& and *) are not allowed; write the value out"))
    seen.add(id(node))
    if node.tag not in _PLAIN_TAGS:
        raise _Refused(Problem(shown, node.start_mark.line + first,
            f"YAML tags such as '{node.tag}' are not allowed; write a plain value"))
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + first
            if id(key_node) in seen or key_node.tag not in _PLAIN_TAGS:
                raise _Refused(Problem(shown, line, "a key must be a plain name (no anchors, aliases or tags)"))
            seen.add(id(key_node))
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(shown, line, "a key must be a plain name"))
                continue
            key = key_node.value
            if ZERO_WIDTH.search(key):
                problems.append(Problem(shown, line,
                    f"the key {key!r} contains an invisible (zero-width) character; retype it",
                    field=ZERO_WIDTH.sub("", key)))
            if key in result:
                problems.append(Problem(shown, line,
                    f"{_name(path + (key,))}: the key appears twice (first on line "
                    f"{lines[path + (key,)]}); keep one", field=_name(path + (key,))))
                continue
            lines[path + (key,)] = line
            result[key] = _construct(value_node, path + (key,), lines, plain, problems, shown, first, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + first
            items.append(_construct(item, path + (i,), lines, plain, problems, shown, first, seen))
        return items
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # dates stay text; the schema checks their form
    value = _SCALARS.construct_object(node)
    if not getattr(node, "style", None) and not isinstance(value, str) and value is not None:
        plain[path] = node.value
    if isinstance(value, str) and ZERO_WIDTH.search(value):
        problems.append(Problem(shown, node.start_mark.line + first,
            f"{_name(path)}: the value contains an invisible (zero-width) character; retype it",
            field=_name(path)))
    return value


def _name(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _yaml_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return " (a value containing ': ' needs quotes)"
    return ""


def body_digest(body: str) -> str:
    """The digest a translation records of its original: SHA-256 of the NFC, LF, trimmed body."""
    text = unicodedata.normalize("NFC", body).replace("\r\n", "\n").replace("\r", "\n").strip()
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def nfc(text: str) -> str:
    """Unicode NFC, so that 'ä' typed as one or two code points is the same letter."""
    return unicodedata.normalize("NFC", text)


def rel(path: Path, root: Path) -> str:
    """A path relative to the project root, with forward slashes, for messages."""
    text, prefix = str(path), str(root).rstrip(os.sep) + os.sep
    shown = text[len(prefix):] if text.startswith(prefix) else text
    return nfc(shown.replace(os.sep, "/"))


def _inside(entry: os.DirEntry[str], base: Path, root: Path, problems: list[Problem]) -> bool:
    """Symbolic links may point within content/ only."""
    if not entry.is_symlink():
        return True
    try:
        os.stat(entry.path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problems.append(Problem(rel(Path(entry.path), root), None,
                "a symbolic link that leads round in a loop (to itself, or through other links back to it); "
                "remove it or point it at the file"))
            return False
    target = Path(os.path.realpath(entry.path))
    if target == base.resolve() or base.resolve() in target.parents:
        return True
    problems.append(Problem(rel(Path(entry.path), root), None,
        "a symbolic link that leads outside content/ is not allowed"))
    return False
