"""write: a new tree under .builds/, swapped in for site/ with one rename; unchanged files are
hard-linked from the previous tree; the tree before last is brought up to date rather than copied;
a failure at any point leaves the previous site as it was."""

from __future__ import annotations

import builtins
import errno
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SiteDir

from sitegen import cli, pipeline, write
from sitegen.render import Page
from sitegen.write import write_site

OLD = 946_684_800  # 2000-01-01: a modification time no build could give a file


def pages(**files: str) -> list[Page]:
    """Pages from keyword arguments: a__b_html="x" is a/b.html."""
    return [Page(name.replace("__", "/").replace("_", "."), text.encode()) for name, text in files.items()]


def contents(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def trees(root: Path) -> list[Path]:
    """Every directory under .builds/ that holds a build (finished or not)."""
    return sorted(p for p in (root / write.BUILDS_DIR).rglob("*")
                  if p.is_dir() and p.name.startswith(("site-", "tmp-")))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """site/ after one build: index.html, a/index.html and static/style.css, all dated 2000."""
    link = tmp_path / "site"
    write_site(pages(index_html="home", a__index_html="a", static__style_css="css"), link)
    for f in link.rglob("*"):
        if f.is_file():
            os.utime(f, (OLD, OLD))
    return link


def test_site_is_a_symlink_to_a_complete_tree_under_builds(site: Path, tmp_path: Path) -> None:
    assert site.is_symlink()
    tree = site.resolve()
    assert (tmp_path / write.BUILDS_DIR).resolve() in tree.parents
    assert not os.path.isabs(os.readlink(site))  # the project folder can move
    assert contents(site) == {"a/index.html": b"a", "index.html": b"home", "static/style.css": b"css"}


def test_unchanged_files_are_hard_linked_and_keep_their_mtime(site: Path) -> None:
    before = {name: os.stat(site / name) for name in ("index.html", "a/index.html")}
    stats = write_site(pages(index_html="home", a__index_html="changed", static__style_css="css"), site)
    assert (stats.written, stats.kept) == (1, 2)
    same = os.stat(site / "index.html")
    assert (same.st_ino, same.st_mtime) == (before["index.html"].st_ino, OLD)
    changed = os.stat(site / "a/index.html")
    assert changed.st_ino != before["a/index.html"].st_ino and changed.st_mtime != OLD
    assert (site / "a/index.html").read_bytes() == b"changed"


def test_the_previous_tree_becomes_the_spare_with_its_manifest(site: Path, tmp_path: Path) -> None:
    first, before = site.resolve(), contents(site)
    stats = write_site(pages(index_html="new"), site)
    assert not first.exists()
    assert site.resolve() == stats.tree.resolve()
    assert trees(tmp_path) == [stats.tree]
    assert contents(site) == {"index.html": b"new"}  # pages that are gone are gone
    spare = stats.tree.parent / write.SPARE
    assert contents(spare) == before  # untouched by the build that replaced it
    assert write.read_manifest(spare) == {path: write.version_of(data) for path, data in before.items()}
    assert write.read_manifest(stats.tree) == {"index.html": write.version_of(b"new")}


def test_stale_temporary_trees_are_cleaned_by_the_next_build(site: Path, tmp_path: Path) -> None:
    builds = site.resolve().parent
    (builds / "tmp-41" / "fi").mkdir(parents=True)
    (builds / "tmp-41" / "fi" / "index.html").write_text("half")
    (builds / "site-40").mkdir()
    stats = write_site(pages(index_html="home"), site)
    assert trees(tmp_path) == [stats.tree]


def test_a_page_colliding_with_a_directory_fails_and_leaves_the_previous_site(site: Path) -> None:
    before, tree = contents(site), site.resolve()
    stats = write_site(pages(index_html="new", a="a file where a/ is a folder", a__index_html="x"), site)
    [problem] = stats.problems  # the operating system's error, at its path, as a value (issue 13)
    assert problem.message.startswith("cannot write the site: ")
    assert site.resolve() == tree
    assert contents(site) == before


def test_a_write_failing_midway_leaves_the_previous_site_and_the_next_build_recovers(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before, tree = contents(site), site.resolve()
    opened = []

    def full_disk(path: os.PathLike[str], mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode or "x" in mode:
            opened.append(path)
            if len(opened) > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(write, "open", full_disk, raising=False)
    new = pages(index_html="1", a__index_html="2", b_html="3", c_html="4", static__style_css="5")
    [problem] = write_site(new, site).problems
    assert "No space left on device" in problem.message and "the disk is full" in problem.message
    assert len(opened) == 3
    assert site.resolve() == tree and contents(site) == before
    monkeypatch.undo()
    stats = write_site(new, site)
    assert contents(site) == {"a/index.html": b"2", "b.html": b"3", "c.html": b"4", "index.html": b"1",
                              "static/style.css": b"5"}
    assert trees(tmp_path) == [stats.tree]


def test_a_plain_site_folder_is_kept_aside_not_deleted(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "mine.html").write_text("hand-made")
    write_site(pages(index_html="home"), tmp_path / "site")
    assert (tmp_path / "site").is_symlink()
    kept = [p for p in (tmp_path / write.BUILDS_DIR).rglob("mine.html")]
    assert [p.read_text() for p in kept] == ["hand-made"]


def test_rebuilding_unchanged_content_rewrites_nothing(minimal: SiteDir) -> None:
    project = pipeline.Project.at(minimal.root)
    first = pipeline.build(project)
    assert first.written is not None and first.written.kept == 0
    second = pipeline.build(project)
    assert second.written is not None
    assert (second.written.written, second.written.kept) == (0, first.written.written)


# -- incremental rebuilds ---------------------------------------------------------------------------

ORIGINAL = "content/2021/1.1-konsernihallinto.fi.md"
EDITS = {
    "an original's text": (ORIGINAL, "Talous on tasapainossa.", "Talous on nyt tasapainossa."),
    "a unit's name": ("content/units.yaml", "sv: Koncernförvaltningen}", "sv: Koncernledningen}"),
    "a section title": ("content/2021/report.yaml", "{fi: Talous, sv: Ekonomi}", "{fi: Talous ja tase, sv: Ekonomi}"),
    "the base URL": ("content/site.yaml", "https://example.org/report/", "https://example.org/vastaukset/"),
    "a draft": ("content/2021/2.2-konsernihallinto.fi.md", "weight: 1\n", "weight: 1\ndraft: true\n"),
    "a weight": ("content/2021/2.2-konsernihallinto.fi.md", "weight: 1\n", ""),
    "a UI string": ("templates/strings.yaml", "sv: Läs originalet", "sv: Läs originaltexten"),
    "a template": ("templates/section.html", '<p class="meta">', '<p class="meta edited">'),
    "a response's date": ("content/2021/1.1.1-kaupunkiympariston-toimiala.fi.md", '"2022-10-15"', '"2022-11-16"'),
    "a report's date": ("content/2021/report.yaml", '"2022-09-01"', '"2022-08-31"'),
    "a locale": ("content/site.yaml", "locale: sv_FI", "locale: sv_SE"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_rebuild_after_an_edit_gives_the_same_site_as_a_clean_build(minimal: SiteDir, tmp_path: Path,
                                                                       edit: str) -> None:
    shutil.copytree(ROOT / "templates", minimal.root / "templates")
    assert minimal.run("build").code == 0
    path, old, new = EDITS[edit]
    text = minimal.read(path)
    assert old in text
    minimal.write(path, text.replace(old, new))
    assert minimal.run("build").code == 0
    clean = tmp_path / "clean"
    for part in ("content", "templates"):
        shutil.copytree(minimal.root / part, clean / part)
    assert cli.main(["build", "--root", str(clean)]) == 0
    assert contents(minimal.root / "site") == contents(clean / "site")


def test_a_rebuild_after_an_edit_loads_no_babel_data(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    # Babel needs ~80 ms to load a locale: the dates and language names a build wrote
    # out are kept, so an editor's rebuild (here one that warns about a stale translation) needs none.
    assert minimal.run("build").code == 0
    text = minimal.read(ORIGINAL)
    minimal.write(ORIGINAL, text.replace("Talous on tasapainossa.", "Talous on nyt tasapainossa."))
    import babel.dates

    from sitegen import validate

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("Babel was asked")

    monkeypatch.setattr(babel.dates, "format_date", refuse)
    monkeypatch.setattr(validate, "language_name", refuse)
    result = minimal.run("build")
    assert result.code == 0
    assert "the Finnish original has changed since this translation" in result.err


def test_a_rebuild_with_another_base_url_option_rewrites_the_canonical_urls(minimal: SiteDir) -> None:
    assert minimal.run("build").code == 0
    assert minimal.run("build", "--base-url", "https://x.example/y/").code == 0
    assert '<link rel="canonical" href="https://x.example/y/fi/2021/1.1/">' in minimal.page("fi/2021/1.1/index.html")
    assert minimal.run("build").code == 0
    assert "https://x.example/" not in minimal.page("fi/2021/1.1/index.html") + minimal.page("sitemap.xml")


# -- the spare tree ---------------------------------------------------------------------------------


def build_with(site: Path, versions: dict[str, tuple[str, str]]) -> write.Draft:
    """One build the way the pipeline does it: reuse a tree, put pages with their versions, prune."""
    with write.build_lock(site):
        draft = write.begin(site, reuse=True)
        for path, (version, text) in versions.items():
            write.put(draft, Page(path, text.encode()), version)
        write.prune(draft, versions)
        write.commit(draft)
    return draft


def test_the_third_build_updates_the_spare_touching_only_what_differs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    v1 = {"index.html": ("k1", "home"), "a/index.html": ("a1", "a"), "b/index.html": ("b1", "b")}
    v2 = {"index.html": ("k1", "home"), "a/index.html": ("a2", "a two"), "c/index.html": ("c1", "c")}
    v3 = {"index.html": ("k1", "home"), "a/index.html": ("a2", "a two"), "c/index.html": ("c2", "c two")}
    assert build_with(site, v1).reused == "new"
    assert build_with(site, v2).reused == "clone"  # no spare yet: a linked copy of the published tree
    published = contents(site)
    inodes = {p: os.stat(site / p).st_ino for p in published}
    third = build_with(site, v3)
    assert third.reused == "spare"
    assert contents(site) == {"index.html": b"home", "a/index.html": b"a two", "c/index.html": b"c two"}
    assert not (site / "b").exists()  # gone in v2: removed from the spare, folder and all
    # a/ came from the published tree by hard link; c/ was written; index.html was never touched.
    assert os.stat(site / "a/index.html").st_ino == inodes["a/index.html"]
    assert os.stat(site / "c/index.html").st_ino != inodes["c/index.html"]
    assert (third.written, third.kept) == (1, 2)
    assert contents(site.resolve().parent / write.SPARE) == published  # the previous site, byte for byte
    assert write.read_manifest(site.resolve()) == {path: version for path, (version, _) in v3.items()}


def test_a_spare_without_its_manifest_is_not_trusted(tmp_path: Path) -> None:
    site = tmp_path / "site"
    v = {"index.html": ("k1", "home"), "a/index.html": ("a1", "a")}
    build_with(site, v)
    build_with(site, {**v, "a/index.html": ("a2", "a two")})
    spare = site.resolve().parent / write.SPARE
    (spare / "stray.html").write_text("left by a killed build")
    write.manifest_path(spare).unlink()
    draft = build_with(site, {**v, "a/index.html": ("a3", "a three")})
    assert draft.reused == "clone"
    assert contents(site) == {"index.html": b"home", "a/index.html": b"a three"}
    assert not spare.exists() or "stray.html" not in contents(spare)


def test_a_build_killed_while_updating_the_spare_leaves_the_site_and_the_next_build_recovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    v = {"index.html": ("k1", "home"), "a/index.html": ("a1", "a"), "b/index.html": ("b1", "b")}
    build_with(site, v)
    build_with(site, {**v, "b/index.html": ("b2", "b two")})
    before, tree = contents(site), site.resolve()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "_write_manifest", killed)  # dies just before the swap
    with pytest.raises(KeyboardInterrupt):
        build_with(site, {**v, "a/index.html": ("a2", "a two")})
    monkeypatch.undo()
    assert site.resolve() == tree and contents(site) == before
    assert not (tree.parent / write.SPARE).exists()  # it was the draft: no longer a trusted spare
    final = {**v, "a/index.html": ("a3", "a three")}
    build_with(site, final)
    assert contents(site) == {"index.html": b"home", "a/index.html": b"a three", "b/index.html": b"b"}
    assert trees(tmp_path) == [site.resolve()]


def test_the_second_build_makes_the_spare_within_the_command_and_the_third_reuses_it(
        minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    project = pipeline.Project.at(minimal.root)
    began = []
    real_begin = write.begin
    monkeypatch.setattr(write, "begin", lambda *a, **k: began.append(real_begin(*a, **k)) or began[-1])
    for step in range(3):
        minimal.write(ORIGINAL, minimal.read(ORIGINAL).replace("tasapainossa", f"tasapainossa {step}"))
        assert pipeline.build(project).written is not None
    assert [draft.reused for draft in began] == ["new", "clone", "spare"]
    spare = write.builds_dir(project.site) / write.SPARE
    assert write.read_manifest(spare) is not None  # the tree before the last, recorded


def test_no_process_outlives_a_build_and_its_outputs_can_be_removed_at_once(minimal: SiteDir,
                                                                           tmp_path: Path) -> None:
    """What `make clean` does right after a build: nothing may still be writing (no detached helper).

    A slow `cp` stands in for a large site, so that a helper copying trees would still be at work."""
    import subprocess
    import sys

    slow = tmp_path / "bin"
    slow.mkdir()
    (slow / "cp").write_text(f'#!/bin/sh\nsleep 1\nexec {shutil.which("cp")} "$@"\n')
    (slow / "cp").chmod(0o755)
    env = {**os.environ, "PATH": f"{slow}{os.pathsep}{os.environ['PATH']}", "SITEGEN_SEARCH": "0"}
    for _ in range(2):  # the first build, and the one that makes the spare
        minimal.write(ORIGINAL, minimal.read(ORIGINAL) + "\nLisäys.\n")
        build = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--root", str(minimal.root)],
                               env=env, capture_output=True, timeout=120, check=False)
        assert build.returncode == 0, build.stderr
        assert processes_using(minimal.root) == []
    for name in ("site", ".builds", ".cache"):
        path = minimal.root / name
        path.unlink() if path.is_symlink() else shutil.rmtree(path)  # no "Directory not empty"
    assert not (minimal.root / ".builds").exists()


def processes_using(root: Path) -> list[int]:
    """The processes other than this one with a file under `root` open or `root` in their command line
    (a detached helper starts a session of its own, so its session says nothing)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                uses = str(root).encode() in handle.read()
            for fd in os.listdir(f"/proc/{entry}/fd"):
                uses = uses or os.readlink(f"/proc/{entry}/fd/{fd}").startswith(str(root))
        except OSError:  # gone meanwhile, or not ours to look at
            continue
        if uses:
            found.append(int(entry))
    return found


# -- what hands and signals do to trees (found in review) -----------------------------------------


def test_a_file_or_folder_deleted_by_hand_from_a_published_tree_comes_back(tmp_path: Path) -> None:
    site = tmp_path / "site"
    v = {"index.html": ("k1", "home"), "a/index.html": ("a1", "a"), "b/index.html": ("b1", "b")}
    build_with(site, v)
    (site / "a/index.html").unlink()
    shutil.rmtree(site / "b")
    build_with(site, {**v, "index.html": ("k2", "home two")})  # a clone of the damaged tree
    assert contents(site) == {"index.html": b"home two", "a/index.html": b"a", "b/index.html": b"b"}
    build_with(site, v)  # the damaged tree is the spare now
    assert contents(site) == {"index.html": b"home", "a/index.html": b"a", "b/index.html": b"b"}


def test_a_file_put_in_a_published_tree_by_hand_is_never_written_through_nor_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    v = {"index.html": ("k1", "home")}
    build_with(site, v)
    (site / "b.html").write_text("hand-made")
    (site / "c.html").write_text("hand-made")
    published = site.resolve()
    build_with(site, {**v, "b.html": ("b1", "generated b")})  # a clone: b.html is shared with the old tree
    assert (published.parent / write.SPARE / "b.html").read_text() == "hand-made"  # not written through
    assert contents(site) == {"index.html": b"home", "b.html": b"generated b"}


def test_a_build_killed_after_its_swap_is_corrected_by_the_next_even_when_content_goes_back(
        minimal: SiteDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache then describes the tree before; the manifest describes the tree that is there."""
    project = pipeline.Project.at(minimal.root)
    before = minimal.read(ORIGINAL)
    assert pipeline.build(project).written is not None
    minimal.write(ORIGINAL, before.replace("tasapainossa", "nyt tasapainossa"))

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "finish", killed)  # right after the swap, before the store is saved
    with pytest.raises(KeyboardInterrupt):
        pipeline.build(project)
    monkeypatch.undo()
    assert "nyt tasapainossa" in minimal.page("fi/2021/1.1/index.html")
    minimal.write(ORIGINAL, before)
    assert pipeline.build(project).written is not None
    clean = tmp_path / "clean"
    shutil.copytree(minimal.root / "content", clean / "content")
    assert cli.main(["build", "--root", str(clean)]) == 0
    assert contents(minimal.root / "site") == contents(clean / "site")


def test_a_spare_prepared_ahead_is_what_the_next_build_starts_from(tmp_path: Path) -> None:
    """The preview prepares the spare at start, so that its first rebuild only updates it."""
    site = tmp_path / "site"
    v = {"index.html": ("k1", "home"), "a/index.html": ("a1", "a")}
    build_with(site, v)
    assert write.prepare_spare(site)
    spare = write.builds_dir(site) / write.SPARE
    assert write.read_manifest(spare) == write.read_manifest(site.resolve()) and contents(spare) == contents(site)
    assert not write.prepare_spare(site)  # one is there already
    draft = build_with(site, {**v, "a/index.html": ("a2", "a two")})
    assert draft.reused == "spare"
    assert contents(site) == {"index.html": b"home", "a/index.html": b"a two"}
