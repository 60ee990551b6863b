"""The one check every path the importer writes goes through: it must stay inside content/;
and the one pattern of every name from the data that becomes part of an output path."""

from __future__ import annotations

import os
import re
from pathlib import Path

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
"""A slug (a unit's, search_slug, statement_slug): lower-case letters, digits and single hyphens.
schema.yaml's $defs.slug says the same (a test keeps them equal)."""
SLUG = re.compile(SLUG_PATTERN)


def inside(base: Path, relative: str) -> Path | None:
    """`base / relative`, resolved (symbolic links followed), or None when it would lead outside `base`.

    `relative` comes from input (a year, a section number, a unit id): an absolute
    path, a `..` segment, a drive letter or a symbolic link out of `base` all make
    it refuse, as does a NUL byte or a path that resolves to `base` itself.
    """
    if not relative or "\0" in relative or os.path.isabs(relative) or Path(relative).drive:
        return None
    root = base.resolve()
    target = (root / relative).resolve()
    if target == root or root not in target.parents:
        return None
    return target
