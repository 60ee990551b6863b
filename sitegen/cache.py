"""What earlier builds computed, kept in .cache/ and reused when the inputs are the same.

Every entry is keyed by digests of its inputs (a file's bytes, a body's text,
the schema, the templates, this package's code), so a stale entry is never
read: it simply stops being asked for, and `save()` keeps only what the last
build used. The file is ours, written and read by this package; no content is
ever executed from it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

CACHE_DIR = ".cache"
FORMAT = 1


def digest(*parts: bytes | str) -> str:
    """A short, stable digest of some bytes or text."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:32]


def tree_digest(paths: Iterable[Path]) -> str:
    """A digest of files' names and contents (templates, this package's code)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


CODE_DIGEST = tree_digest(Path(__file__).parent.glob("*.py"))
"""Changes when the generator's code changes: every cached result depends on it."""


class Cache:
    """A persistent map from input digests to earlier results; a no-op when disabled."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._old: dict[Hashable, Any] | None = None
        self.new: dict[Hashable, Any] = {}
        self.dirty = False

    @property
    def old(self) -> dict[Hashable, Any]:
        """The previous build's entries, read on first use (a build that needs none never reads them)."""
        if self._old is None:
            self._old = {}
            if self.path is not None and self.path.is_file():
                try:
                    with open(self.path, "rb") as handle:
                        stored = pickle.load(handle)  # noqa: S301 (our own file; see the module docstring)
                    if stored.get("format") == FORMAT and stored.get("code") == CODE_DIGEST:
                        self._old = stored["entries"]
                except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, KeyError,
                        TypeError):
                    self._old = {}  # a damaged cache is only a slower build
        return self._old

    @classmethod
    def at(cls, root: Path, name: str) -> Cache:
        return cls(root / CACHE_DIR / f"{name}.pickle")

    @classmethod
    def disabled(cls) -> Cache:
        return cls(None)

    def get(self, key: Hashable) -> Any:
        """The value stored under `key` by this or the previous build, or None."""
        if key in self.new:
            return self.new[key]
        value = self.old.get(key)
        if value is not None:
            self.new[key] = value
        return value

    def remember(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value under `key`, computed and stored when missing."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if not self.dirty and self.old.get(key) != value:
            self.dirty = True
        self.new[key] = value

    def save(self) -> None:
        """Keep what this build used, atomically (a killed build leaves the previous cache)."""
        if self.path is None or not (self.dirty or (self._old is not None and len(self.new) < len(self._old))):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as handle:
            pickle.dump({"format": FORMAT, "code": CODE_DIGEST, "entries": self.new}, handle,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
