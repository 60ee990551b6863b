"""Spread independent work over the machine's cores; small jobs run in this process."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
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


def pmap(fn: Callable[[T], R], items: Sequence[T], min_items: int = MIN_ITEMS) -> list[R]:
    """[fn(x) for x in items], in order, on every core when there are enough items (see pmap_iter)."""
    return list(pmap_iter(fn, items, min_items))


def pmap_iter(fn: Callable[[T], R], items: Sequence[T], min_items: int = MIN_ITEMS) -> Iterator[R]:
    """fn(x) for x in items, in order, yielded as they are done: the caller consumes each result
    (writes a page, say) while the workers make the next, and never holds them all.

    Workers are forked, so they start with this process's memory (the model, the
    templates) and only the items' indices and the results cross between
    processes. The pool is closed when the iteration ends or is abandoned: no
    worker outlives it. Below `min_items`, starting workers costs more than it
    saves: the items are done here.
    """
    n = workers()
    if n < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        yield from (fn(x) for x in items)
        return
    global _job
    # Inherited by the forked workers: neither fn nor the items need to be picklable or copied.
    _job = (fn, items)
    try:
        # Small chunks: the last one to finish keeps the other cores idle.
        chunks = max(1, len(items) // (n * 32))
        with multiprocessing.get_context("fork").Pool(n) as pool:
            yield from pool.imap(_run, range(len(items)), chunksize=chunks)
    finally:
        _job = None


_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _run(index: int) -> Any:
    assert _job is not None
    fn, items = _job
    return fn(items[index])
