"""Problems are values: a location, a message and a severity, collected and reported together."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, located in a file (and a line when known)."""

    path: str
    """The file, relative to the project root, with forward slashes."""
    line: int | None
    """1-based line of the offending key or text; None when the file as a whole is at fault."""
    message: str
    """What was found, what is allowed and, where possible, the fix."""
    field: str | None = None
    """The front-matter field or data key concerned, if any."""
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.severity}: {one_line(self.message)}"

    def sort_key(self) -> tuple[str, int, str]:
        """File, then line (file-level problems first), then message."""
        return (self.path, self.line or 0, self.message)

    def as_error(self) -> Problem:
        """The same problem as an error (for `--strict`)."""
        return Problem(self.path, self.line, self.message, self.field, "error")


def to_plain(problems: Iterable[Problem]) -> list[tuple[Any, ...]]:
    """Problems as plain tuples, for the cache (which stores only plain data)."""
    return [(p.path, p.line, p.message, p.field, p.severity) for p in problems]


def from_plain(rows: Iterable[tuple[Any, ...]]) -> list[Problem]:
    """The inverse of to_plain."""
    return [Problem(*row) for row in rows]


def sort(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in reading order: by file, line and message."""
    return sorted(problems, key=Problem.sort_key)


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that are errors."""
    return [p for p in problems if p.severity == "error"]


def format_problems(problems: Iterable[Problem], fmt: str = "text", color: bool = False) -> str:
    """Format problems for people (`text`), GitHub workflow annotations or JSON."""
    items = sort(problems)
    if fmt == "json":
        return json.dumps([asdict(p) for p in items], ensure_ascii=False, indent=2)
    lines = []
    for p in items:
        if fmt == "github":
            props = f"file={_gh_escape_prop(p.path)}"
            if p.line is not None:
                props += f",line={p.line}"
            lines.append(f"::{p.severity} {props}::{_gh_escape_data(p.message)}")
        elif color:
            code = "31" if p.severity == "error" else "33"
            where = p.path if p.line is None else f"{p.path}:{p.line}"
            lines.append(f"\033[1m{where}:\033[0m \033[{code}m{p.severity}:\033[0m {one_line(p.message)}")
        else:
            lines.append(str(p))
    return "\n".join(lines)


def one_line(text: str) -> str:
    """A message on one line: keys and values from content may hold line breaks (or forge a problem)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _gh_escape_data(text: str) -> str:
    # The escapes GitHub's runner itself applies to annotation messages.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")
