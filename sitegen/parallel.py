"""Spread independent work over the machine's cores; small jobs run in this process."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 300
"""Below this, starting workers costs more than it saves."""


def workers() -> int:
    """How many worker processes to use (SITEGEN_WORKERS overrides; 1 turns parallelism off)."""
    configured = os.environ.get("SITEGEN_WORKERS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def pmap(fn: Callable[[T], R], items: Sequence[T], min_items: int = MIN_ITEMS) -> list[R]:
    """[fn(x) for x in items], in order, on every core when there are enough items.

    Workers are forked, so they start with this process's memory (the model, the
    templates) and only the items and results cross between processes.
    """
    n = workers()
    if n < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(x) for x in items]
    global _job
    _job = fn  # inherited by the forked workers: fn need not be picklable, nor what it refers to
    try:
        chunks = max(1, len(items) // (n * 8))
        with multiprocessing.get_context("fork").Pool(n) as pool:
            return pool.map(_run, items, chunksize=chunks)
    finally:
        _job = None


_job: Callable[..., object] | None = None


def _run(item: object) -> object:
    assert _job is not None
    return _job(item)
