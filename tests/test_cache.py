"""cache: plain data kept in marshal shards under .cache/, reused by digest, rewritten only where it
changed, and never a reason for a build to fail."""

from __future__ import annotations

import os
from pathlib import Path

from sitegen import cache as cache_module
from sitegen.cache import SHARDS, Cache, _shard


def shard_files(root: Path) -> dict[str, int]:
    folder = root / ".cache" / "t"
    return {p.name: p.stat().st_ino for p in folder.glob("*.marshal")}


def test_entries_come_back_in_the_next_run(tmp_path: Path) -> None:
    first = Cache.at(tmp_path, "t")
    first.put(("load", "a.md", "d1"), (("a.md", {"section": "1.1"}, {("section",): 2}), []))
    first.put(("html", "d1", "2022"), "<p>x</p>")
    first.save()
    again = Cache.at(tmp_path, "t")
    assert again.get(("load", "a.md", "d1")) == (("a.md", {"section": "1.1"}, {("section",): 2}), [])
    assert again.get(("html", "d1", "2022")) == "<p>x</p>"
    assert again.get(("html", "d2", "2022")) is None


def saved_keys(root: Path, count: int) -> list[tuple[str, str, str]]:
    """`count` html entries (value: their digest) saved in a new cache under `root`."""
    cache = Cache.at(root, "t")
    keys = [("html", f"digest{i}", "2022") for i in range(count)]
    for key in keys:
        cache.put(key, key[1])
    cache.save()
    return keys


def test_a_change_rewrites_only_the_shard_it_falls_in(tmp_path: Path) -> None:
    keys = saved_keys(tmp_path, 200)
    before = shard_files(tmp_path)
    assert len(before) == SHARDS
    second = Cache.at(tmp_path, "t")
    for key in keys:
        second.get(key)
    second.put(keys[0], "changed")
    second.save()
    after = shard_files(tmp_path)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {f"{_shard(keys[0]):02d}.marshal"}
    assert Cache.at(tmp_path, "t").get(keys[0]) == "changed"


def test_unused_entries_of_a_used_kind_are_dropped_and_other_kinds_kept(tmp_path: Path) -> None:
    """A build drops what it no longer needs; a `check` keeps the page manifest it never asked for."""
    first = Cache.at(tmp_path, "t")
    for key in [("load", "a.md", "1"), ("load", "b.md", "1"), ("pages", "site")]:
        first.put(key, "x")
    first.save()
    second = Cache.at(tmp_path, "t")
    for shard in range(SHARDS):
        second.old(shard)  # everything read, as a build that walks every file does
    assert second.get(("load", "a.md", "1")) == "x"
    second.save()
    third = Cache.at(tmp_path, "t")
    assert third.get(("load", "b.md", "1")) is None
    assert third.get(("load", "a.md", "1")) == "x"
    assert third.get(("pages", "site")) == "x"


def test_a_damaged_or_foreign_shard_is_only_a_slower_build(tmp_path: Path, monkeypatch) -> None:
    first = Cache.at(tmp_path, "t")
    first.put(("html", "d1", "2022"), "<p>x</p>")
    first.put(("html", "d2", "2022"), "<p>y</p>")
    first.save()
    damaged = tmp_path / ".cache" / "t" / f"{_shard(('html', 'd1')):02d}.marshal"
    damaged.write_bytes(b"\x00garbage")
    assert Cache.at(tmp_path, "t").get(("html", "d1", "2022")) is None
    monkeypatch.setattr(cache_module, "CODE_DIGEST", "another version of the generator")
    assert Cache.at(tmp_path, "t").get(("html", "d2", "2022")) is None


def test_a_disabled_cache_stores_nothing_on_disk(tmp_path: Path) -> None:
    cache = Cache.disabled()
    cache.put(("html", "d", "2022"), "x")
    cache.save()
    assert cache.get(("html", "d", "2022")) == "x"  # within the run
    assert not any(tmp_path.iterdir()) and not os.path.exists(".cache/None")


def test_retained_entries_survive_and_unread_shards_are_not_read_for_them(tmp_path: Path) -> None:
    keys = saved_keys(tmp_path, 100)
    second = Cache.at(tmp_path, "t")
    assert second.get(keys[0]) == "digest0"  # reads one shard
    second.retain(keys)
    assert sum(shard is not None for shard in second._old) == 1  # the others stay unread
    second.save()
    third = Cache.at(tmp_path, "t")
    assert [third.get(key) for key in keys] == [key[1] for key in keys]
