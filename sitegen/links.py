"""What a link in a response body may be, for validate (which checks) and markup (which rewrites).

Links to other responses are written to their Markdown files, relative to the
response's own year folder: `2.4-konsernihallinto.fi.md`, `./x.md` or, for
another year, `../2023/x.md`. Other links are full addresses with one of
ALLOWED_SCHEMES.
"""

from __future__ import annotations

import posixpath
import re

ALLOWED_SCHEMES = ("http", "https", "mailto", "tel")
"""The URL schemes a body may use (the sanitiser keeps only these too)."""

HTTPS_URL_PATTERN = r"^https://[^\s/?#@]+(/[^\s]*)?$"
"""Every address in a data file (schema.yaml's $defs.https_url and the *_url keys of strings.yaml)."""
HTTPS_URL = re.compile(HTTPS_URL_PATTERN)

RESPONSE_NAME = re.compile(r"^(?P<section>[^-]+)-(?P<unit>.+)\.(?P<lang>[^.]+)\.md$")
"""A response file's name: <section>-<unit>.<language>.md."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def scheme(url: str) -> str | None:
    """The URL's scheme, lower-cased (`https`), or None for a relative link."""
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


def resolve(year: str, url: str) -> tuple[str, str] | None:
    """(year, file name) of the response a relative link from `year` leads to, or None when the
    link does not lead to a Markdown file in a year folder (the fragment is ignored)."""
    path = url.split("#", 1)[0]
    if not path.endswith(".md") or scheme(url) is not None:
        return None
    parts = posixpath.normpath(posixpath.join(year, path)).split("/")
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    return parts[0], parts[1]
