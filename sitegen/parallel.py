"""Spread independent work over the machine's cores; small jobs run in this process."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

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


def pmap(fn: Callable[[T], R], items: Sequence[T], min_items: int = MIN_ITEMS,
         meanwhile: Callable[[], None] | None = None) -> list[R]:
    """[fn(x) for x in items], in order, on every core when there are enough items.

    Workers are forked, so they start with this process's memory (the model, the
    templates) and only the items and results cross between processes. `meanwhile`
    runs in this process while they work (after the items, when there are no workers).
    """
    n = workers()
    if n < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        results = [fn(x) for x in items]
        if meanwhile is not None:
            meanwhile()
        return results
    global _job
    # Inherited by the forked workers: only indices go to them and results come back,
    # so neither fn nor the items need to be picklable or copied.
    _job = (fn, items)
    # The workers' garbage collector would walk (and so copy, page by page) every
    # object they inherit: frozen, those are never looked at. Only what the work
    # itself allocates is collected.
    settled = gc.get_freeze_count() > 0  # a caller froze the heap and will thaw it
    gc.freeze()
    try:
        # Small chunks: the last one to finish keeps the other cores idle.
        chunks = max(1, len(items) // (n * 32))
        with multiprocessing.get_context("fork").Pool(n) as pool:
            pending = pool.map_async(_run, range(len(items)), chunksize=chunks)
            if meanwhile is not None:
                meanwhile()
            return pending.get()
    finally:
        _job = None
        if not settled:
            gc.unfreeze()


@contextmanager
def long_lived() -> Iterator[Callable[[], None]]:
    """Within: calling the given `settle()` tells the collector that everything made so far
    lives to the end (content read, the model), so it stops walking those objects again
    and again; everything is handed back to it on the way out."""
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection within, for code that makes many long-lived objects and
    no cycles (reading the cache, thawing what it holds): every collection would walk the
    objects just made again, for nothing (marshal reads the cache 2.5x faster so).

    On the way out they are frozen, as by long_lived's settle(), or the first collection
    after would walk them all at once; being acyclic, they are still freed when unused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _run(index: int) -> Any:
    assert _job is not None
    fn, items = _job
    return fn(items[index])
