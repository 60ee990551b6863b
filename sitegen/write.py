"""Stage 5, write: put the rendered pages in place atomically.

site/ is a symbolic link to a complete tree under .builds/. A build writes a
new tree beside the old one and flips the link with one rename, so there is no
moment in which site/ is missing or half-written, and a failed or killed build
leaves the previous site as it was. Files whose bytes did not change are
hard-linked from the previous tree rather than written again: their mtimes
stay, which keeps deploys and rsync cheap, and the new tree still never shares
a file that is being written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


BUILDS_DIR = ".builds"
TMP_PREFIX = "tmp-"
TRASH_PREFIX = "old-"


@dataclass(frozen=True)
class Page:
    """One output file: its path below site/ and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True)
class WriteStats:
    written: int
    """Files whose bytes changed (or are new)."""
    kept: int
    """Files identical to the previous build, linked, not rewritten."""
    tree: Path


def builds_dir(site: Path) -> Path:
    """Where the trees behind the link `site` live: .builds/<link name>/ beside it."""
    return site.parent / BUILDS_DIR / site.name.lstrip(".")


@contextmanager
def build_lock(site: Path) -> Iterator[None]:
    """One build at a time per output: a second one waits for the first."""
    builds = builds_dir(site)
    builds.mkdir(parents=True, exist_ok=True)
    with open(builds / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_tree(site: Path) -> Path | None:
    """The tree site/ points to now, if any."""
    if site.is_symlink():
        target = site.parent / os.readlink(site)
        return target if target.is_dir() else None
    return site if site.is_dir() else None


@dataclass
class Draft:
    """A new tree being written beside the current one; nothing is visible until `commit`."""

    site: Path
    builds: Path
    tmp: Path
    number: int
    previous: Path | None
    written: int = 0
    kept: int = 0
    cloned: bool = False
    """The tree started as a hard-linked copy of the previous one."""
    dirs: set[Path] = field(default_factory=set)
    """Folders already made in the draft (one mkdir per folder, not per file)."""


def begin(site: Path, clone: bool = False) -> Draft:
    """Start a new tree for `site` (call under build_lock); clears trees left by killed builds.

    With `clone`, the new tree starts as a hard-linked copy of the current one
    (one `cp -al`, much faster than linking file by file), and pages then
    replace files in it without touching the current tree.
    """
    builds = builds_dir(site)
    builds.mkdir(parents=True, exist_ok=True)
    previous = current_tree(site)
    clean_stale(builds, keep=previous)
    number = _next_number(builds)
    tmp = builds / f"{TMP_PREFIX}{number}"
    cloned = False
    if clone and previous is not None and sys.platform.startswith("linux") and shutil.which("cp"):
        cloned = subprocess.run(["cp", "-al", str(previous), str(tmp)], capture_output=True).returncode == 0
        if not cloned:
            shutil.rmtree(tmp, ignore_errors=True)
    if not cloned:
        tmp.mkdir()
    return Draft(site, builds, tmp, number, previous, cloned=cloned)


def _folder(draft: Draft, target: Path) -> None:
    if target.parent not in draft.dirs:
        target.parent.mkdir(parents=True, exist_ok=True)
        draft.dirs.add(target.parent)


def put(draft: Draft, page: Page) -> bool:
    """Add a page to the draft; an identical file of the previous tree is linked, not rewritten."""
    target = draft.tmp / page.path
    if draft.cloned:
        if same_bytes(target, page.data):
            draft.kept += 1
            return False
        # The file is shared with the current tree: replace it, never write into it.
        target.unlink(missing_ok=True)
    _folder(draft, target)
    old = draft.previous / page.path if draft.previous is not None and not draft.cloned else None
    if old is not None and same_bytes(old, page.data) and _link(old, target):
        draft.kept += 1
        return False
    with open(target, "wb") as handle:
        handle.write(page.data)
    draft.written += 1
    return True


def keep(draft: Draft, path: str) -> bool:
    """Take a file unchanged from the previous tree (its inputs did not change); False if it has none."""
    if draft.previous is None:
        return False
    target = draft.tmp / path
    if draft.cloned:
        present = target.is_file()
        draft.kept += present
        return present
    _folder(draft, target)
    if _link(draft.previous / path, target):
        draft.kept += 1
        return True
    return False


def prune(draft: Draft, paths: Iterable[str]) -> None:
    """Remove from a cloned draft the files that are no longer part of the site."""
    if not draft.cloned:
        return
    wanted = set(paths)
    folders = tuple(p for p in wanted if p.endswith("/"))  # whole folders written by others (the index)
    for folder, dirs, files in os.walk(draft.tmp, topdown=False):
        rel = os.path.relpath(folder, draft.tmp)
        for name in files:
            path = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            if path not in wanted and not path.startswith(folders):
                os.unlink(os.path.join(folder, name))
        if rel != "." and not os.listdir(folder):
            os.rmdir(folder)


def commit(draft: Draft, background: bool = False) -> WriteStats:
    """Swap the finished tree in for site/ with one atomic rename, and drop the old tree.

    With `background`, the old tree is deleted by a detached process, so that the
    build does not wait for thousands of unlinks; the next build removes it anyway.
    """
    final = draft.builds / f"site-{draft.number}"
    draft.tmp.rename(final)
    _swap(draft.site, final)
    old = draft.previous
    if old is not None and old != final and old.parent == draft.builds:
        trash = draft.builds / f"{TRASH_PREFIX}{draft.number}"
        old.rename(trash)
        remove_tree(trash, background)
    return WriteStats(draft.written, draft.kept, final)


def remove_tree(path: Path, background: bool) -> None:
    """Delete a tree now, or in a detached grandchild process (POSIX) that nobody waits for."""
    if background and hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:  # child: fork again so that the grandchild is not our zombie
            try:
                if os.fork() == 0:
                    os.setsid()
                    shutil.rmtree(path, ignore_errors=True)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        return
    shutil.rmtree(path, ignore_errors=True)


def abandon_failed(draft: Draft) -> None:
    """The build failed while writing: drop the draft; site/ was never touched."""
    shutil.rmtree(draft.tmp, ignore_errors=True)


def write_site(pages: Iterable[Page], site: Path) -> WriteStats:
    """Write `pages` as a new tree and swap it in for site/ (call under build_lock)."""
    draft = begin(site)
    for page in pages:
        put(draft, page)
    return commit(draft)


def _link(old: Path, target: Path) -> bool:
    try:
        os.link(old, target)
        return True
    except OSError as exc:  # another file system, or no hard links: write instead
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.ENOENT):
            return False
        raise


def same_bytes(old: Path, data: bytes) -> bool:
    try:
        if old.stat().st_size != len(data):
            return False
        return old.read_bytes() == data
    except OSError:
        return False


def _swap(site: Path, final: Path) -> None:
    """Point site/ at `final` with one atomic rename."""
    link = site.parent / f".{site.name}.link-{os.getpid()}"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(final, site.parent))
    if site.exists() and not site.is_symlink():
        # A plain folder from elsewhere: keep it under .builds/ rather than delete it.
        site.rename(final.parent / f"previous-{final.name}")
    os.replace(link, site)


def _next_number(builds: Path) -> int:
    numbers = [int(p.name.rsplit("-", 1)[1]) for p in builds.iterdir()
               if p.name.rsplit("-", 1)[-1].isdigit()]
    return max(numbers, default=0) + 1


def clean_stale(builds: Path, keep: Path | None) -> None:
    """Remove trees left by killed builds: every tree but the one site/ points to."""
    for p in builds.iterdir():
        if p.is_dir() and p != keep and p.name.startswith((TMP_PREFIX, TRASH_PREFIX, "site-")):
            shutil.rmtree(p, ignore_errors=True)
