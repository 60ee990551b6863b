"""Stage 5, write: put the rendered pages in place atomically.

site/ is a symbolic link to a complete tree under .builds/. A build writes a
new tree beside the old one and flips the link with one rename, so there is no
moment in which site/ is missing or half-written, and a failed or killed build
leaves the previous site as it was.

The new tree is not written from nothing. Each tree has a manifest beside it
(`site-7.files.json`): every file's path and version (the page key that
determines its bytes, or a digest of the bytes). The tree replaced by the last
swap is kept as the *spare*; the next build renames it to a draft and brings
it up to date by touching only the files whose version differs, so a
one-page change costs a few file operations rather than a copy of thousands.
Files whose bytes did not change are hard-linked from the published tree
rather than written again: their mtimes stay, which keeps deploys and rsync
cheap. Trees share files only by hard link and a file is always replaced,
never written into, so no build ever changes a byte of the published tree.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import digest


BUILDS_DIR = ".builds"
TMP_PREFIX = "tmp-"
TRASH_PREFIX = "old-"
SPARE = "spare"
SPARE_PARTIAL = "spare.partial"
"""The spare while it is being copied (see prepare_spare)."""
MANIFEST_SUFFIX = ".files.json"
UNKNOWN = ""
"""The version of a file whose bytes no build recorded (rewritten in place by the preview)."""


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
    """Files identical to the previous build, linked or left in place, not rewritten."""
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


def version_of(data: bytes) -> str:
    """The version of a file known only by its bytes."""
    return digest(data)


# -- manifests ------------------------------------------------------------------------------------


def manifest_path(tree: Path) -> Path:
    return tree.with_name(tree.name + MANIFEST_SUFFIX)


def read_manifest(tree: Path | None) -> dict[str, str] | None:
    """path → version of every file in `tree`, or None when no build recorded it."""
    if tree is None:
        return None
    try:
        files = json.loads(manifest_path(tree).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return files if isinstance(files, dict) else None


def _write_manifest(tree: Path, files: dict[str, str]) -> None:
    target = manifest_path(tree)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(files, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, target)


# -- drafts ---------------------------------------------------------------------------------------


@dataclass
class Draft:
    """A new tree being written beside the current one; nothing is visible until `commit`."""

    site: Path
    builds: Path
    tmp: Path
    number: int
    previous: Path | None
    files: dict[str, str]
    """What the draft holds now: path → version."""
    previous_files: dict[str, str]
    """What the published tree holds (empty when unknown)."""
    written: int = 0
    kept: int = 0
    reused: str = "new"
    """How the draft started: "new" (empty), "spare" (the tree before last) or "clone" (a copy of the current)."""
    dirs: set[Path] = field(default_factory=set)
    """Folders known to exist in the draft (one mkdir per folder, not per file)."""


def begin(site: Path, reuse: bool = False) -> Draft:
    """Start a new tree for `site` (call under build_lock); clears trees left by killed builds.

    With `reuse`, the draft starts as the spare tree when it has a manifest, or
    else as a hard-linked copy of the current tree (one `cp -al`); pages then
    replace only the files whose version differs.
    """
    builds = builds_dir(site)
    builds.mkdir(parents=True, exist_ok=True)
    previous = current_tree(site)
    previous_files = read_manifest(previous) or {}
    spare = builds / SPARE
    spare_files = read_manifest(spare) if reuse and spare.is_dir() else None
    clean_stale(builds, keep=[p for p in (previous, spare if spare_files is not None else None) if p is not None])
    number = _next_number(builds)
    tmp = builds / f"{TMP_PREFIX}{number}"
    how, files = "new", {}
    if spare_files is not None:
        # From here on the spare is a draft: a build killed now leaves it to clean_stale.
        manifest_path(spare).unlink()
        spare.rename(tmp)
        how, files = "spare", spare_files
    elif (reuse and previous is not None and previous_files and sys.platform.startswith("linux")
          and shutil.which("cp")):
        if subprocess.run(["cp", "-al", str(previous), str(tmp)], capture_output=True).returncode == 0:
            how, files = "clone", dict(previous_files)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if how == "new":
        tmp.mkdir()
    return Draft(site, builds, tmp, number, previous, files, previous_files, reused=how)


def _folder(draft: Draft, target: Path) -> None:
    if target.parent not in draft.dirs:
        target.parent.mkdir(parents=True, exist_ok=True)
        draft.dirs.add(target.parent)


def put(draft: Draft, page: Page, version: str | None = None) -> bool:
    """Add a page to the draft; returns True when its bytes had to be written.

    `version` (default: a digest of the bytes) names the page's content: a draft
    file of the same version stays as it is, and a published file of the same
    version or the same bytes is linked, not rewritten.
    """
    version = version or version_of(page.data)
    target = draft.tmp / page.path
    if _holds(draft, page.path, version, target):
        draft.kept += 1
        return False
    _replaceable(draft, target)
    draft.files[page.path] = version
    old = draft.previous / page.path if draft.previous is not None else None
    if (old is not None and (draft.previous_files.get(page.path) == version != UNKNOWN or same_bytes(old, page.data))
            and _link(old, target)):
        draft.kept += 1
        return False
    with open(target, "xb") as handle:  # "x": a new file, never one shared with another tree
        handle.write(page.data)
    draft.written += 1
    return True


def keep(draft: Draft, path: str, version: str) -> bool:
    """Take a file unchanged from the published tree; False if neither tree has that version."""
    target = draft.tmp / path
    if _holds(draft, path, version, target):
        draft.kept += 1
        return True
    if draft.previous is None or draft.previous_files.get(path) != version or version == UNKNOWN:
        return False
    _replaceable(draft, target)
    draft.files.pop(path, None)
    if not _link(draft.previous / path, target):
        return False
    draft.files[path] = version
    draft.kept += 1
    return True


def _holds(draft: Draft, path: str, version: str, target: Path) -> bool:
    """The draft already has this version of the file (and it is really there: one may delete by hand)."""
    return draft.files.get(path) == version != UNKNOWN and os.path.lexists(target)


def _replaceable(draft: Draft, target: Path) -> None:
    """Clear the way for a new file: whatever is there may be shared with another tree by hard
    link, so it is removed, never written into; and its folder may have been removed by hand."""
    try:
        target.unlink()
    except FileNotFoundError:
        pass
    _folder(draft, target)


def add_folder(draft: Draft, folder: str) -> None:
    """Record a folder written into the draft by someone else (the search index), as one entry."""
    draft.files[folder.rstrip("/") + "/"] = UNKNOWN


def prune(draft: Draft, paths: Iterable[str]) -> None:
    """Remove from the draft every file (and recorded folder) that is no longer part of the site.

    A spare holds exactly what its manifest lists; a copy of the published tree may
    also hold what someone put there by hand, so it is walked.
    """
    wanted = set(paths)
    if draft.reused == "clone":
        folders = tuple(p for p in wanted if p.endswith("/"))
        for folder, _dirs, names in os.walk(draft.tmp):
            rel = os.path.relpath(folder, draft.tmp).replace(os.sep, "/")
            for name in names:
                path = name if rel == "." else f"{rel}/{name}"
                if path not in wanted and not path.startswith(folders):
                    draft.files.setdefault(path, UNKNOWN)  # removed below, with its empty folders
    gone = [path for path in draft.files if path not in wanted]
    for path in gone:
        del draft.files[path]
        target = draft.tmp / path
        if path.endswith("/"):
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
        _remove_empty_parents(draft, target.parent)


def _remove_empty_parents(draft: Draft, folder: Path) -> None:
    while folder != draft.tmp:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): the folders above are not empty either
            return
        draft.dirs.discard(folder)
        folder = folder.parent


def commit(draft: Draft, background: bool = False) -> WriteStats:
    """Swap the finished tree in for site/ with one atomic rename; the old tree becomes the spare.

    An old tree without a manifest is deleted instead; with `background`, by a
    detached process, so that the build does not wait for thousands of unlinks.
    """
    final = draft.builds / f"site-{draft.number}"
    _write_manifest(final, draft.files)  # before the tree: a published tree always has its record
    draft.tmp.rename(final)
    _swap(draft.site, final)
    old = draft.previous
    if old is not None and old != final and old.parent == draft.builds:
        old_manifest = manifest_path(old)
        if draft.previous_files and old_manifest.is_file():
            spare = draft.builds / SPARE
            if spare.exists():  # a draft that did not reuse it (write_site): the newer tree wins
                _discard(spare, f"{TRASH_PREFIX}{SPARE}-{draft.number}", background)
            old.rename(spare)
            old_manifest.rename(manifest_path(spare))
        else:
            _discard(old, f"{TRASH_PREFIX}{draft.number}", background)
    return WriteStats(draft.written, draft.kept, final)


def _discard(tree: Path, trash_name: str, background: bool) -> None:
    """Drop a tree and its manifest: renamed aside at once (clean_stale knows the name), deleted after."""
    manifest_path(tree).unlink(missing_ok=True)
    trash = tree.with_name(trash_name)
    tree.rename(trash)
    remove_tree(trash, background)


def prepare_spare(site: Path) -> None:
    """When no spare exists (after a first build), make one in a detached process.

    It waits for this build's lock, then copies the published tree with hard links
    (`cp -al`), so that the next build brings a spare up to date instead of paying
    for the copy itself. Nobody waits for it; a build that starts before it is done
    waits for the lock, and one that finds a half-made copy removes it.
    """
    builds = builds_dir(site)
    if (builds / SPARE).exists() or not shutil.which("cp"):
        return
    detached(_copy_spare, site)


def _copy_spare(site: Path) -> None:
    with build_lock(site):
        builds = builds_dir(site)
        tree, spare, partial = current_tree(site), builds / SPARE, builds / SPARE_PARTIAL
        files = read_manifest(tree)
        if tree is None or files is None or spare.exists():
            return
        shutil.rmtree(partial, ignore_errors=True)
        if subprocess.run(["cp", "-al", str(tree), str(partial)], capture_output=True).returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            return
        partial.rename(spare)
        _write_manifest(spare, files)  # last: a spare without its manifest is never trusted


def replace_in_place(site: Path, pages: Iterable[Page]) -> None:
    """Replace files of the published tree one by one (the preview's quick path and status file).

    Each file is a new one renamed over the old (trees sharing the old by hard
    link keep it); the manifest marks it unknown, so no build trusts it later.
    """
    tree = current_tree(site)
    if tree is None:
        return
    pages = list(pages)
    files = read_manifest(tree)
    if files is not None:  # first: a rewrite cut short must not leave a file its manifest vouches for
        _write_manifest(tree, files | {page.path: UNKNOWN for page in pages})
    for page in pages:
        target = tree / page.path
        # Written outside the tree, so that an interrupted rewrite leaves nothing in it.
        tmp = builds_dir(site) / f".replace-{os.getpid()}.tmp"
        tmp.write_bytes(page.data)
        os.replace(tmp, target)


def remove_tree(path: Path, background: bool) -> None:
    """Delete a tree now, or in a detached process (POSIX) that nobody waits for."""
    if not (background and detached(shutil.rmtree, path, ignore_errors=True)):
        shutil.rmtree(path, ignore_errors=True)


def detached(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Run fn in a detached grandchild process; False where processes cannot be forked.

    The grandchild keeps none of our file descriptors: not the build lock (a
    build killed now must not leave its lock held by a helper), and not the
    pipes of whoever started the build (who would otherwise wait for it).
    """
    if not hasattr(os, "fork"):
        return False
    pid = os.fork()
    if pid == 0:  # child: fork again so that the grandchild is not our zombie
        try:
            if os.fork() == 0:
                os.setsid()
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.closerange(3, 65536)
                try:
                    fn(*args, **kwargs)
                except BaseException:  # noqa: BLE001 (nobody is listening; the next build copes)
                    pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return True


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
               if p.is_dir() and p.name.rsplit("-", 1)[-1].isdigit()]
    return max(numbers, default=0) + 1


def clean_stale(builds: Path, keep: list[Path]) -> None:
    """Remove what killed builds left: every tree but the published one and a recorded spare."""
    for p in builds.iterdir():
        if p.is_dir() and p not in keep and (p.name.startswith((TMP_PREFIX, TRASH_PREFIX, "site-"))
                                             or p.name in (SPARE, SPARE_PARTIAL)):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.endswith(MANIFEST_SUFFIX) and p.with_name(p.name[: -len(MANIFEST_SUFFIX)]) not in keep:
            p.unlink(missing_ok=True)
