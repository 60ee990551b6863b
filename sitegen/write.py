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

All of it happens inside the command: `publish` prepares the new tree (from
the spare, or a hard-linked copy of the published tree when there is none
yet), adds the pages, keeps the unchanged ones, prunes, swaps and removes what
is no longer needed, before it returns.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .cache import digest
from .errors import Problem

BUILDS_DIR = ".builds"
TMP_PREFIX = "tmp-"
TRASH_PREFIX = "old-"
SPARE = "spare"
MANIFEST_SUFFIX = ".files.json"
UNKNOWN = ""
"""The version of a file whose bytes no build recorded (a folder another tool wrote, the search index)."""


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
    problems: list[Problem] = field(default_factory=list)
    """Pages that could not be made: then nothing was published."""
    index_seconds: float | None = None
    """How long the search index took, when one was made."""


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


# -- publishing -----------------------------------------------------------------------------------


def holding(site: Path) -> Callable[[str, str], bool]:
    """Whether the published tree holds a file in a version (its manifest says so, and the file is
    there: one may delete files by hand): what need not be rendered again."""
    tree = current_tree(site)
    files = read_manifest(tree) or {}

    top = f"{tree}{os.sep}"  # plain strings: pathlib's joins cost more than the lstat here

    def holds(path: str, version: str) -> bool:
        return files.get(path) == version != UNKNOWN and tree is not None and os.path.lexists(top + path)
    return holds


Sink = Callable[[Page], bool]
"""Puts one page into the new tree; True when its bytes had to be written (see `put`)."""
Done = tuple[str, bool]
"""A page put into the new tree: its path, and whether its bytes had to be written."""


@dataclass(frozen=True)
class Pages:
    """The files a build must write: `count` of them, made by `make`, which is handed the sink
    that puts a page into the new tree. Whoever makes a page puts it (a worker process, say, so
    that the bytes need not travel) and yields what it did, or the Problem that stopped it."""

    make: Callable[[Sink], Iterable[Done | Problem]]
    count: int

    @classmethod
    def ready(cls, pages: Sequence[Page]) -> Pages:
        """Pages whose bytes are already at hand."""
        return cls(lambda sink: ((page.path, sink(page)) for page in pages), len(pages))


def publish(site: Path, files: Mapping[str, str], pages: Pages,
            index: Callable[[Path], float] | None = None) -> WriteStats:
    """Make `files` (path → version) the site, atomically: write `pages`, keep the other files from
    the published tree, prune the rest, build the search index (`index`), swap, clean up.

    `pages` are the files the published tree lacks (see `holding`). When there are none
    and the tree holds exactly `files`, it stays as it is, not even relinked. A Problem
    among the pages means nothing is published.
    """
    folders = [f"{INDEX_FOLDER}/"] if index is not None else []
    outside = [Problem(path, None, "refused: this output path would lead outside the site's folder")
               for path in files if not is_tree_path(path)]
    if outside:
        return WriteStats(0, 0, current_tree(site) or site, outside)
    try:
        return _publish(site, files, pages, index, folders)
    except OSError as exc:  # a full disk, no permission, …: the published tree is as it was
        return WriteStats(0, 0, current_tree(site) or site, [os_problem(exc, site)])


_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space, then build again",
    errno.EDQUOT: "the disk quota is used up: free some space, then build again",
    errno.EACCES: "no permission to write here: check who owns the folder, then build again",
    errno.EPERM: "no permission to write here: check who owns the folder, then build again",
    errno.EROFS: "the file system is read-only: build on a writable disk",
}


def os_problem(exc: OSError, site: Path) -> Problem:
    """An error of the operating system while writing, at the path it names, with what to do."""
    where = str(exc.filename) if exc.filename is not None else str(site)
    project = str(site.parent).rstrip(os.sep) + os.sep
    shown = (where[len(project):] if where.startswith(project) else where).replace(os.sep, "/")
    advice = _ADVICE.get(exc.errno or 0, "fix that, then build again")
    return Problem(shown, None, f"cannot write the site: {exc.strerror or exc}; {advice}")


def _publish(site: Path, files: Mapping[str, str], pages: Pages,
             index: Callable[[Path], float] | None, folders: list[str]) -> WriteStats:
    with build_lock(site):
        current = current_tree(site)
        if pages.count == 0 and _holds_exactly(current, files, folders):
            assert current is not None
            return WriteStats(0, len(files), current)
        draft = begin(site, reuse=True)
        try:
            problems = _fill(draft, files, pages)
            if problems:
                abandon_failed(draft)
                return WriteStats(0, 0, current or draft.tmp, problems)
            seconds = index(draft.tmp) if index is not None else None
            for folder in folders:
                add_folder(draft, folder)
            prune(draft, [*files, *folders])
        except BaseException:
            abandon_failed(draft)
            raise
        stats = commit(draft)
    return WriteStats(stats.written, stats.kept, stats.tree, index_seconds=seconds)


INDEX_FOLDER = "pagefind"
"""Where the search index writes its files (see search.py): recorded as one folder."""


def _fill(draft: Draft, files: Mapping[str, str], pages: Pages) -> list[Problem]:
    """Put the new pages, then keep every other file from the published tree; stop at the first
    page that could not be made (a template mistake would repeat on every page like it).

    A page put by a worker process is recorded here from what it reports: the worker's
    changes to its copy of the draft stay in that copy.
    """
    written = 0
    done: set[str] = set()
    try:
        for item in pages.make(lambda page: put(draft, page, files[page.path])):
            if isinstance(item, Problem):
                return [item]
            path, wrote = item
            draft.files[path] = files[path]
            done.add(path)
            written += wrote
    except OutsideTree as exc:  # raised where the page was put, a worker's included
        return [Problem(str(exc), None, "refused: this output path leads outside the site's folder")]
    draft.written, draft.kept = written, len(done) - written
    lost = [path for path, version in files.items() if path not in done and not keep(draft, path, version)]
    return [Problem(path, None, "this page left the published site during the build "
                    "(another build at the same time?); build again") for path in lost]


def _holds_exactly(tree: Path | None, files: Mapping[str, str], folders: list[str]) -> bool:
    """The tree's manifest lists exactly these files in these versions, and these folders."""
    held = read_manifest(tree)
    return (held is not None and {path for path in held if path.endswith("/")} == set(folders)
            and {path: v for path, v in held.items() if not path.endswith("/")} == dict(files))


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


class OutsideTree(ValueError):
    """A path to write that would lead outside the tree being written: refused, never written."""


def is_tree_path(path: str) -> bool:
    """A relative path of '/'-separated names, none empty, '.' or '..' (a folder may end in '/')."""
    names = path.removesuffix("/").split("/")
    return (bool(path) and "\0" not in path and "\\" not in path and not path.startswith("/")
            and "" not in names and "." not in names and ".." not in names and not os.path.splitdrive(path)[0])


def tree_target(tree: Path, path: str) -> Path:
    """`tree / path`: the one way a file of the site is named on disk; OutsideTree if `path` leaves it."""
    if not is_tree_path(path):
        raise OutsideTree(path)
    return tree / path


def _folder(draft: Draft, target: Path) -> None:
    if target.parent not in draft.dirs:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A folder of the draft that is a symbolic link (put by hand into the tree it was copied
        # from) would take the file elsewhere: the folder must resolve inside the draft.
        real, root = os.path.realpath(target.parent), os.path.realpath(draft.tmp)
        if real != root and not real.startswith(root + os.sep):
            raise OutsideTree(str(target.relative_to(draft.tmp)))
        draft.dirs.add(target.parent)


def put(draft: Draft, page: Page, version: str | None = None) -> bool:
    """Add a page to the draft; returns True when its bytes had to be written.

    `version` (default: a digest of the bytes) names the page's content: a draft
    file of the same version stays as it is, and a published file of the same
    version or the same bytes is linked, not rewritten.
    """
    version = version or version_of(page.data)
    target = tree_target(draft.tmp, page.path)
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
    if draft.files.get(path) == version != UNKNOWN and is_tree_path(path) \
            and os.path.lexists(f"{draft.tmp}{os.sep}{path}"):
        draft.kept += 1  # the draft (a spare) has it already: most files of a rebuild
        return True
    target = tree_target(draft.tmp, path)
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
        if not is_tree_path(path):  # a damaged manifest's entry: nothing of ours to remove
            continue
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


def commit(draft: Draft) -> WriteStats:
    """Swap the finished tree in for site/ with one atomic rename; the old tree becomes the spare.

    An old tree without a manifest is deleted instead (a spare must say what it holds).
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
            if spare.exists():  # a draft that did not reuse it: the newer tree wins
                _discard(spare, f"{TRASH_PREFIX}{SPARE}-{draft.number}")
            old.rename(spare)
            old_manifest.rename(manifest_path(spare))
        else:
            _discard(old, f"{TRASH_PREFIX}{draft.number}")
    return WriteStats(draft.written, draft.kept, final)


def _discard(tree: Path, trash_name: str) -> None:
    """Drop a tree and its manifest: renamed aside at once (a build killed while deleting leaves
    a name clean_stale knows), then deleted."""
    manifest_path(tree).unlink(missing_ok=True)
    trash = tree.with_name(trash_name)
    tree.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


def prepare_spare(site: Path) -> bool:
    """Make the spare tree now, a hard-linked copy of the published one (the preview does this at
    start, so that its first rebuild need not); False when there is nothing to copy or no `cp`."""
    with build_lock(site):
        builds, tree = builds_dir(site), current_tree(site)
        files = read_manifest(tree)
        spare = builds / SPARE
        if tree is None or files is None or read_manifest(spare) is not None or not shutil.which("cp"):
            return False
        shutil.rmtree(spare, ignore_errors=True)
        if subprocess.run(["cp", "-al", str(tree), str(spare)], capture_output=True).returncode != 0:
            shutil.rmtree(spare, ignore_errors=True)
            return False
        _write_manifest(spare, files)  # last: a spare without its manifest is never trusted
        return True


def abandon_failed(draft: Draft) -> None:
    """The build failed while writing: drop the draft; site/ was never touched."""
    shutil.rmtree(draft.tmp, ignore_errors=True)


def write_site(pages: Iterable[Page], site: Path) -> WriteStats:
    """Make exactly `pages` the site: publish() for files known only by their bytes."""
    pages = list(pages)
    return publish(site, {page.path: version_of(page.data) for page in pages}, Pages.ready(pages))


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
                                             or p.name == SPARE):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.endswith(MANIFEST_SUFFIX) and p.with_name(p.name[: -len(MANIFEST_SUFFIX)]) not in keep:
            p.unlink(missing_ok=True)
