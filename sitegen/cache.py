"""The one store: what earlier builds computed, kept in .cache/ and reused when the inputs are the same.

Every entry is keyed by digests of its inputs (a file's bytes, a body's text,
the schema, the templates, this package's code), so a stale entry is never
read: it simply stops being asked for, and `save()` drops it. Values are plain
data (tuples, lists, dicts, strings, numbers), stored with `marshal`: it reads
10 000 parsed files about five times faster than pickle reads the same as
dataclasses, and it cannot name a class or call a function, so nothing is ever
executed from the file. Typed records (`get_record`, `put_record`) are frozen
dataclasses of plain fields with a VERSION, which is part of their key.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import zlib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

CACHE_DIR = ".cache"
STORE_NAME = "store"
FORMAT = 4
"""The store's own layout: a store of another format is not read (only a slower build)."""


class Record(Protocol):
    """A dataclass of plain fields kept between builds; VERSION changes with its fields."""

    VERSION: ClassVar[int]


R = TypeVar("R", bound=Record)
T = TypeVar("T")


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


SHARDS = 16
"""The cache is split in this many files by the entry's subject (a file, a body), so that a
build which changed one file rewrites a sixteenth of it, not all of it."""


def _shard(key: tuple[Any, ...]) -> int:
    # The subject (a path, a digest) decides: every entry about one file shares a shard.
    subject = key[1] if len(key) > 1 else key[0]
    shard = _shards.get(subject)
    if shard is None:
        shard = _shards[subject] = zlib.crc32(str(subject).encode()) % SHARDS
    return shard


_shards: dict[Any, int] = {}


class Cache:
    """A persistent map from input digests to earlier results; a no-op when disabled.

    Keys are tuples whose first item names their kind ("load", "html", …). An
    entry survives a save when this run used it, or used no entry of its kind
    (a `check` keeps the build's page manifest it never looked at).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        """The folder of the shards, or None (disabled)."""
        self._old: list[dict[tuple[Any, ...], Any] | None] = [None] * SHARDS
        self.new: list[dict[tuple[Any, ...], Any]] = [{} for _ in range(SHARDS)]
        self.dirty: set[int] = set()
        self.kinds: set[str] = set()
        self.warm = False
        """Kept in memory between runs (the preview): then `memo` keeps objects too."""
        self.objects: dict[Hashable, Any] = {}
        self.touched: set[Hashable] = set()
        self.unsaved: set[int] = set()
        """Shards changed in memory since they were last written (a warm store writes on `save`)."""

    def _shard_file(self, shard: int) -> Path:
        assert self.path is not None
        return self.path / f"{shard:02d}.marshal"

    def old(self, shard: int) -> dict[tuple[Any, ...], Any]:
        """A shard's entries from the previous build, read on first use."""
        entries = self._old[shard]
        if entries is None:
            entries = {}
            if self.path is not None:
                try:
                    stored = marshal.loads(self._shard_file(shard).read_bytes())
                    if stored.get("format") == FORMAT and stored.get("code") == CODE_DIGEST:
                        entries = stored["entries"]
                except (OSError, EOFError, ValueError, TypeError, AttributeError, KeyError):
                    entries = {}  # missing or damaged: only a slower build
            self._old[shard] = entries
        return entries

    @classmethod
    def at(cls, root: Path, name: str = STORE_NAME) -> Cache:
        return cls(root / CACHE_DIR / name)

    @classmethod
    def disabled(cls) -> Cache:
        return cls(None)

    def get(self, key: tuple[Any, ...]) -> Any:
        """The value stored under `key` by this or the previous build, or None."""
        shard = _shard(key)
        self.kinds.add(key[0])
        new = self.new[shard]
        if key in new:
            return new[key]
        value = self.old(shard).get(key)
        if value is not None:
            new[key] = value
        return value

    def get_record(self, kind: type[R], *key: Any) -> R | None:
        """The record of this class stored under `key` (in the class's current VERSION), or None."""
        row = self.get((kind.__name__, *key, kind.VERSION))
        return None if row is None else kind(*row)

    def put_record(self, record: Record, *key: Any) -> None:
        """Store a record's fields (plain data) under `key`."""
        row = tuple(getattr(record, f.name) for f in fields(record))  # type: ignore[arg-type]
        self.put((type(record).__name__, *key, record.VERSION), row)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """make(); in a warm store, what it made for the same key in this run or the last.

        For objects built from stored data or from other memoised objects (parsed files,
        a year's model, its pages' plan): a warm preview rebuilds only what an edit changed.
        The key must name everything the object is made from.
        """
        if not self.warm:
            return make()
        self.touched.add(key)
        if key in self.objects:
            return self.objects[key]  # type: ignore[no-any-return]
        value = self.objects[key] = make()
        return value

    def memo_from(self, kind: Hashable, sources: tuple[Any, ...], make: Callable[[], T]) -> T:
        """memo() keyed by `kind` (what else the value depends on) and the identity of the
        (memoised) objects it is made from; the entry holds them, so that no other object can
        come to have their ids while it lives."""
        if not self.warm:  # no key to build: nothing is kept
            return make()
        key = (kind, *(id(source) for source in sources))
        return self.memo(key, lambda: (sources, make()))[1]

    def thawed(self, key: tuple[Any, ...], thaw: Callable[[Any], T]) -> T | None:
        """The value under `key` made into objects by `thaw` (once while the store is warm), or None."""
        if key in self.objects:  # warm: a warm store keeps every entry, so no use need be marked
            self.touched.add(key)
            return self.objects[key]  # type: ignore[no-any-return]
        value = self.get(key)
        if value is None:
            return None
        return self.memo(key, lambda: thaw(value))

    def remember(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The value under `key`, computed and stored when missing."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def peek(self, key: tuple[Any, ...]) -> Any:
        """Like get, but does not count as a use (a worker asking: its marks would be lost)."""
        shard = _shard(key)
        return self.new[shard].get(key, self.old(shard).get(key))

    def read_all(self) -> None:
        """Read every shard now (before forking workers that will look things up)."""
        for shard in range(SHARDS):
            self.old(shard)

    def retain(self, keys: Iterable[tuple[Any, ...]]) -> None:
        """Keep these entries through the next save, without reading any shard for them.

        Only shards already read can drop entries, so only their entries need the mark;
        a warm store drops nothing, so it need not look at the keys at all.
        """
        if self.warm:
            return
        for key in keys:
            if self._old[_shard(key)] is not None:
                self.get(key)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Store plain data (what marshal can write) under `key`."""
        shard = _shard(key)
        self.kinds.add(key[0])
        if shard not in self.dirty and self.old(shard).get(key) != value:
            self.dirty.add(shard)
        self.new[shard][key] = value
        self.objects.pop(key, None)  # what was made from the old value is stale

    def save(self) -> None:
        """Write the shards whose entries changed, each atomically (a killed build leaves the
        previous one; entries are keyed by their inputs, so shards of two builds still agree).

        Entries this run did not use are dropped, but for kinds it never asked about (a
        `check` keeps the pages a build rendered) and in a warm store, which keeps all.
        """
        self.unsaved |= self._merge()
        if self.path is not None:
            for shard in sorted(self.unsaved):
                target = self._shard_file(shard)
                tmp = target.with_suffix(f".tmp{os.getpid()}")
                try:
                    self.path.mkdir(parents=True, exist_ok=True)
                    tmp.write_bytes(marshal.dumps({"format": FORMAT, "code": CODE_DIGEST,
                                                   "entries": self._old[shard]}))
                    os.replace(tmp, target)
                except OSError:  # a full disk, say: the store is only a speed-up, the next build redoes it
                    with contextlib.suppress(OSError):
                        tmp.unlink(missing_ok=True)
                    break
        self.unsaved = set()

    def _merge(self) -> set[int]:
        """Fold this run's entries into the shards in memory; the shards that changed."""
        changed = set()
        for shard, old in enumerate(self._old):
            if old is None:  # never read: nothing in it was used or replaced
                continue
            if self.warm:  # keeps every entry: only what this run added or replaced
                if shard in self.dirty:
                    old.update(self.new[shard])
                    changed.add(shard)
                continue
            entries = {key: value for key, value in old.items() if key[0] not in self.kinds}
            entries.update(self.new[shard])
            if shard in self.dirty or len(entries) != len(old):
                self._old[shard] = entries
                changed.add(shard)
        self.dirty.clear()
        return changed

    def next_run(self) -> None:
        """Start a new run on what is in memory (the preview's warm session): nothing is written
        to disk until `save`, and the objects no run asked for since the last are let go."""
        self.unsaved |= self._merge()
        self.new = [{} for _ in range(SHARDS)]
        self.kinds = set()
        self.objects = {key: value for key, value in self.objects.items() if key in self.touched}
        self.touched = set()
