"""The search index: Pagefind (a Rust binary shipped on PyPI) indexes a finished tree.

It runs on the new tree before the swap, so the published site and its index
always match. Pagefind reads <html lang> and builds one index per language,
with Finnish and Swedish stemming; only elements under data-pagefind-body
(the section pages' responses) are indexed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .write import INDEX_FOLDER as BUNDLE


def enabled() -> bool:
    """The index is built unless SITEGEN_SEARCH=0 (benchmarks, quick local builds)."""
    return os.environ.get("SITEGEN_SEARCH", "1") != "0"


def indexer(preview: bool, asked: bool = True) -> Callable[[Path], float] | None:
    """What builds the index of a new tree: nothing in the preview, with `build --no-search`
    (`asked` false) or with SITEGEN_SEARCH=0."""
    return build_index if asked and enabled() and not preview else None


def build_index(tree: Path) -> float:
    """Index `tree` in place (writes tree/pagefind/); returns the seconds it took."""
    started = time.perf_counter()
    bundle = tree / BUNDLE
    # A cloned tree shares its files with the published one: never write into them.
    shutil.rmtree(bundle, ignore_errors=True)
    run = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(tree), "--output-subdir", BUNDLE,
                          "--silent"], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"pagefind failed ({run.returncode}): {(run.stderr or run.stdout).strip()[-2000:]}")
    # Pagefind lists the languages in hash-map order: sort them, so that the same
    # content always gives the same bytes (its script reads the file as JSON).
    entry = bundle / "pagefind-entry.json"
    entry.write_text(json.dumps(json.loads(entry.read_text(encoding="utf-8")), sort_keys=True,
                                separators=(",", ":")), encoding="utf-8")
    return time.perf_counter() - started
