"""Translations: record which version of the original a translation was made from, and report their state.

A translation's front matter holds `source_digest`, the digest of its original's
body when the translation was made or last brought up to date. It is written by
`record()` (the `translated` command), never by hand; `validate` compares it
with the original's current digest and warns when they differ.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import Problem
from .load import Loaded, ResponseFile, body_digest, decode, load, rel


@dataclass(frozen=True)
class Row:
    """The translation state of one response in one language."""

    year: str
    section: str
    unit: str
    lang: str
    state: str
    """up to date, stale, unrecorded (no digest yet) or missing."""
    reviewed: bool
    path: str


def find(loaded: Loaded, path: Path) -> ResponseFile | None:
    """The loaded response file at `path` (relative to the project root or absolute)."""
    target = rel(path.resolve(), loaded.root.resolve())
    return next((r for r in loaded.responses if r.path == target), None)


def original_of(loaded: Loaded, r: ResponseFile, original: str) -> ResponseFile | None:
    """The response file a translation translates."""
    name = f"{r.name_section}-{r.name_unit}.{original}.md"
    return next((o for o in loaded.responses if o.year == r.year and o.name == name), None)


def record(root: Path, path: Path, original: str, reviewed: bool | None = None) -> Problem | None:
    """Write the original's current digest (and optionally `reviewed`) into a translation's front matter."""
    loaded = load(root)
    r = find(loaded, path)
    shown = str(path)
    if r is None:
        return Problem(shown, None, "not a response file under content/<year>/")
    if r.lang == original:
        return Problem(r.path, None, f"this is an original ('{original}'), not a translation")
    source = original_of(loaded, r, original)
    if source is None:
        return Problem(r.path, None, f"there is no original {r.name_section}-{r.name_unit}.{original}.md beside it")
    # A translation brought up to date is new text: reviewed only when said so.
    updates = {"source_digest": body_digest(source.body), "reviewed": "true" if reviewed else "false"}
    raw = (root / r.path).read_bytes()
    text = set_fields(decode(raw, r.path, []) or "", updates, after="translation_of")
    if b"\r\n" in raw:  # keep the editor's line endings and byte-order mark
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    (root / r.path).write_bytes(data)
    return None


def set_fields(text: str, values: dict[str, str], after: str) -> str:
    """Set top-level front-matter fields in place, keeping every other line (and comments) as it is."""
    lines = text.split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    for key, value in values.items():
        pattern = re.compile(rf"^{re.escape(key)}\s*:")
        at = next((i for i in range(1, end) if pattern.match(lines[i])), None)
        if at is not None:
            lines[at] = f"{key}: {value}"
            continue
        anchor = next((i for i in range(1, end) if lines[i].startswith(f"{after}:")), end - 1)
        lines.insert(anchor + 1, f"{key}: {value}")
        end += 1
    return "\n".join(lines)


def status(loaded: Loaded, languages: tuple[str, ...]) -> list[Row]:
    """Every response of every year in every translated language, with its state."""
    original = languages[0]
    files = {(r.year, r.name_section, r.name_unit, r.lang): r for r in loaded.responses}
    rows = []
    for (year, section, unit, lang), source in sorted(files.items(), key=lambda kv: _order(kv[0])):
        if lang != original:
            continue
        current = body_digest(source.body)
        for code in languages[1:]:
            t = files.get((year, section, unit, code))
            if t is None:
                rows.append(Row(year, section, unit, code, "missing", False, ""))
                continue
            meta = t.meta.data or {}
            recorded = meta.get("source_digest")
            state = "unrecorded" if recorded is None else ("up to date" if recorded == current else "stale")
            rows.append(Row(year, section, unit, code, state, bool(meta.get("reviewed")), t.path))
    return rows


def _order(key: tuple[str, str, str, str]) -> tuple[int, tuple[int, ...], str, str]:
    year, section, unit, lang = key
    numbers = tuple(int(n) for n in section.split(".") if n.isdigit())
    return (-int(year), numbers, unit, lang)


def as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    """Rows as plain dictionaries, for JSON."""
    return [asdict(r) for r in rows]
