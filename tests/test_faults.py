"""Nothing lost when things go wrong: a build killed in the middle of writing leaves the previous
site whole, builds are byte-for-byte repeatable whatever the clock, locale or file dates, and no
internal link or asset of a built site is missing."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from posixpath import normpath
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from conftest import ROOT, copy_site
from htmlcheck import broken_links, parse

from sitegen import pipeline, search, write

BUILD = [sys.executable, str(ROOT / "build.py"), "build"]


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def stray_trees(root: Path) -> list[str]:
    builds = root / write.BUILDS_DIR / "site"
    return sorted(p.name for p in builds.iterdir() if p.name.startswith(write.TMP_PREFIX)) if builds.is_dir() else []


# == a build killed with SIGKILL while writing ========================================================


def corpus(root: Path, responses: int) -> list[int]:
    """bench/corpus.py's synthetic content (with the real accessibility statement if it writes none);
    returns its report years."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from corpus import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    summary = generate(root, responses)
    for name in ("accessibility.yaml",):
        if not (root / "content" / name).exists() and (ROOT / "content" / name).exists():
            shutil.copyfile(ROOT / "content" / name, root / "content" / name)
    return list(summary["years"])


@pytest.mark.slow
def test_a_build_killed_while_writing_leaves_the_previous_site_and_the_next_build_recovers(tmp_path: Path) -> None:
    root = tmp_path / "big"
    corpus(root, 20)
    first = subprocess.run([*BUILD, "--root", str(root)], capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    site = root / "site"
    link, before = os.readlink(site), tree(site)
    small_fi = set(os.listdir(site / "fi"))
    assert len(before) > 20

    years = corpus(root, 2000)  # a site that takes seconds to write
    assert {str(y) for y in years} - small_fi
    log = (tmp_path / "killed.log").open("w")
    # Its own process group: the kill takes the build, its workers and Pagefind at once.
    build = subprocess.Popen([*BUILD, "--root", str(root)], stdout=log, stderr=log, start_new_session=True)
    builds = root / write.BUILDS_DIR / "site"
    deadline = time.monotonic() + 120
    killed = False
    try:
        while time.monotonic() < deadline and build.poll() is None:
            drafts = [p for p in builds.glob(f"{write.TMP_PREFIX}*") if p.is_dir()]
            # Wait until the draft holds a year the small site never had: pages are being written.
            if any((d / "fi").is_dir() and set(os.listdir(d / "fi")) - small_fi for d in drafts):
                killed = True
                break
            time.sleep(0.005)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
        log.close()
    assert killed, "the build ended before it could be killed: " + (tmp_path / "killed.log").read_text()
    assert build.returncode == -signal.SIGKILL

    assert os.readlink(site) == link
    assert tree(site) == before
    assert stray_trees(root), "the kill should have left its half-written draft behind"

    after = subprocess.run([*BUILD, "--root", str(root)], capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stderr
    assert re.search(r"^Built \d+ pages", after.stderr, re.M), after.stderr
    assert stray_trees(root) == []
    assert os.readlink(site) != link
    assert sorted(p.name for p in (site / "fi").iterdir() if re.fullmatch(r"\d{4}", p.name)) == \
        sorted(str(y) for y in years)


# == repeatable builds =============================================================================


def _locale_available(name: str) -> bool:
    probe = f"import locale; locale.setlocale(locale.LC_ALL, {name!r})"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False).returncode == 0


OTHER_LOCALE = "fi_FI.UTF-8" if _locale_available("fi_FI.UTF-8") else "en_US.UTF-8"
ENVIRONMENTS = [
    {"TZ": "UTC", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONHASHSEED": "1", "SITEGEN_WORKERS": "1"},
    {"TZ": "Pacific/Kiritimati", "LC_ALL": OTHER_LOCALE, "LANG": OTHER_LOCALE, "PYTHONHASHSEED": "2"},
]
MTIMES = [946_684_800, 1_900_000_000]  # 2000-01-01 and 2030-03-17


def _copy_shuffled(dest: Path, seed: int, mtime: int) -> None:
    """content/ created file by file in a shuffled order, every file and folder dated `mtime`."""
    files = sorted(p for p in (ROOT / "content").rglob("*") if p.is_file())
    random.Random(seed).shuffle(files)
    for src in files:
        target = dest / "content" / src.relative_to(ROOT / "content")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)  # not copy2: the copies get dates of their own
        os.utime(target, (mtime, mtime))
    for folder in [dest / "content", *(p for p in (dest / "content").rglob("*") if p.is_dir())]:
        os.utime(folder, (mtime, mtime))


@pytest.fixture(scope="module")
def real_builds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The real content built twice, in two folders, under two clocks, locales and file dates."""
    roots = []
    for i, (extra, mtime) in enumerate(zip(ENVIRONMENTS, MTIMES, strict=True)):
        root = tmp_path_factory.mktemp(f"repeat{i}") / f"site-copy-{i}"
        _copy_shuffled(root, seed=i + 7, mtime=mtime)
        env = {k: v for k, v in os.environ.items() if k not in ("SITEGEN_SEARCH", "SITEGEN_WORKERS")} | extra
        run = subprocess.run([*BUILD, "--root", str(root)], capture_output=True, text=True, env=env, check=False)
        assert run.returncode == 0, run.stderr
        roots.append(root)
    return roots


def site_digest(site: Path) -> tuple[str, dict[str, str]]:
    files = {rel: hashlib.sha256(data).hexdigest() for rel, data in tree(site).items()}
    whole = hashlib.sha256("\n".join(f"{rel}\0{h}" for rel, h in sorted(files.items())).encode()).hexdigest()
    return whole, files


def test_two_builds_in_different_places_clocks_and_locales_are_identical(real_builds: list[Path]) -> None:
    (a, files_a), (b, files_b) = (site_digest(root / "site") for root in real_builds)
    assert sorted(files_a) == sorted(files_b)
    assert [rel for rel in files_a if files_a[rel] != files_b[rel]] == []
    assert a == b
    assert len(files_a) > 60


def build_day_forms() -> set[str]:
    """Today (in every time zone the builds use) as a page might print it."""
    days = {dt.datetime.now(ZoneInfo(env["TZ"])).date() for env in ENVIRONMENTS} | {dt.date.today()}
    forms = set()
    for d in days:
        forms |= {f"{d.day}.{d.month}.{d.year}", f"{d:%d.%m.%Y}", d.isoformat(),
                  format_date(d, "long", locale="fi_FI"), format_date(d, "long", locale="sv_FI")}
    return forms


def test_no_page_shows_the_build_date(tmp_path: Path) -> None:
    """The real content, with any date in it that happens to be today moved to another day, so that
    only a date the build itself prints could match."""
    root = tmp_path / "real"
    shutil.copytree(ROOT / "content", root / "content")
    today = {f for f in build_day_forms() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", f)}
    for path in (root / "content").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for iso in today:
                text = text.replace(iso, "2023-06-30")
            path.write_text(text, encoding="utf-8")
    for env in ENVIRONMENTS:
        run = subprocess.run([*BUILD, "--root", str(root)], capture_output=True, text=True, check=False,
                             env={**os.environ, **env, "SITEGEN_SEARCH": "0"})
        assert run.returncode == 0, run.stderr
        forms = build_day_forms()
        for path in (root / "site").rglob("*"):
            if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt", ".css", ".js"):
                text = path.read_text(encoding="utf-8", errors="replace")
                assert [f for f in forms if f in text] == [], path
        for leftover in (root / "site", root / write.BUILDS_DIR, root / ".cache"):  # render afresh next time
            leftover.unlink() if leftover.is_symlink() else shutil.rmtree(leftover, ignore_errors=True)


def test_the_search_index_entry_is_byte_identical_every_time(tmp_path: Path) -> None:
    """Pagefind lists languages in hash-map order; the build must still write the same bytes every time
    (six indexings: were the order left to chance, all six would agree once in 32 runs)."""
    root = copy_site("minimal", tmp_path / "minimal")
    env = {"SITEGEN_SEARCH": "0"}
    run = subprocess.run([*BUILD, "--root", str(root)], capture_output=True, text=True, check=False,
                         env={**os.environ, **env})
    assert run.returncode == 0, run.stderr
    entries = set()
    for i in range(6):
        copy = tmp_path / f"tree{i}"
        shutil.copytree(root / "site", copy)
        search.build_index(copy)
        entries.add((copy / search.BUNDLE / "pagefind-entry.json").read_bytes())
    assert len(entries) == 1, entries


# == no broken link, no missing asset ================================================================

CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def missing_assets(site: Path, published: bool = True) -> list[str]:
    """What broken_links does not look at: url() and @import in style sheets, and the search bundle."""
    site = site.resolve()
    problems = []
    for css in site.rglob("*.css"):
        for m in CSS_URL.finditer(css.read_text(encoding="utf-8")):
            url = m.group(1) or m.group(2)
            parts = urlsplit(url)
            if parts.scheme or url.startswith(("//", "#")):
                continue
            if not (css.parent / unquote(parts.path)).is_file():
                problems.append(f"{css.relative_to(site)}: {url}")
    if published:
        for page in site.rglob("*.html"):
            for _tag, attrs in parse(page).tags:
                bundle = attrs.get("data-bundle")
                if bundle and not Path(normpath(str(page.parent / bundle))).is_file():
                    problems.append(f"{page.relative_to(site)}: data-bundle {bundle}")
    return problems


def _languages(site: Path) -> dict[str, int]:
    return {lang: sum(1 for _ in (site / lang).rglob("*.html")) for lang in ("fi", "sv")}


def test_the_real_site_has_no_broken_link_or_missing_asset_in_either_language(real_builds: list[Path]) -> None:
    site = real_builds[0] / "site"
    counts = _languages(site)
    assert counts["fi"] == counts["sv"] > 30
    for lang in ("fi", "sv"):
        assert {parse(p).html_lang for p in (site / lang).rglob("*.html")} == {lang}
    assert broken_links(site) == []
    assert missing_assets(site) == []


def test_the_preview_of_the_minimal_site_has_no_broken_link_or_missing_asset(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_site("minimal", tmp_path / "minimal")
    result = pipeline.build(pipeline.Project.at(root), preview=True)
    assert not result.failed, result.problems
    preview = root / ".preview"
    assert preview.is_dir() and not (root / "site").exists()
    counts = _languages(preview)
    assert counts["fi"] > 5 and counts["sv"] > 5
    assert broken_links(preview) == []
    assert missing_assets(preview, published=False) == []
