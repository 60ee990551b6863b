"""parallel: work spread over forked workers gives exactly what one process gives — checked on a
synthetic archive large enough for every stage to use the workers."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from sitegen import cli, parallel

sys.path.insert(0, str(ROOT / "bench"))
from corpus import generate  # noqa: E402

FILES = 2 * parallel.MIN_ITEMS  # enough for load, validate, Markdown and pages to go parallel


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_pmap_keeps_order_and_gives_what_a_loop_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEGEN_WORKERS", "2")
    items = list(range(parallel.MIN_ITEMS * 3))
    seen_pids = parallel.pmap(lambda x: os.getpid(), items)
    assert len(set(seen_pids) - {os.getpid()}) >= 1  # it really ran elsewhere
    assert parallel.pmap(lambda x: x * x, items) == [x * x for x in items]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    generate(root, FILES, seed=7)
    return root


def build(root: Path, workers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEGEN_WORKERS", workers)
    assert cli.main(["build", "--root", str(root)]) == 0


def copy(corpus: Path, dest: Path) -> Path:
    shutil.copytree(corpus / "content", dest / "content")
    return dest


def test_a_parallel_build_equals_a_serial_one_and_so_does_a_parallel_rebuild(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial, parallel_root = copy(corpus, tmp_path / "serial"), copy(corpus, tmp_path / "parallel")
    build(serial, "1", monkeypatch)
    build(parallel_root, "2", monkeypatch)
    assert tree(parallel_root / "site") == tree(serial / "site")
    # Now change one body and some front matter in the parallel copy: three rebuilds (the third one
    # brings the spare tree up to date) must each equal a clean serial build of the same content.
    originals = sorted((parallel_root / "content").rglob("*.fi.md"))
    for step, path in enumerate(originals[:3]):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\n---\n", "\nweight: 3\n---\n", 1) if step == 1 else text + f"\nLisäys {step}.\n",
                        encoding="utf-8")
        build(parallel_root, "2", monkeypatch)
        clean = copy(parallel_root, tmp_path / f"clean{step}")
        build(clean, "1", monkeypatch)
        assert tree(parallel_root / "site") == tree(clean / "site"), f"after change {step}"
