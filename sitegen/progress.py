"""The progress bar of a long build on a terminal: stage, count and time left (rich).

Shown only to a person: on a terminal, with `--format text`, and not in CI.
rich is imported only when a bar is shown, so a check, a CI build or a tool
reading `--format json` never loads it.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import IO, Any


def wanted(stream: IO[str], fmt: str, env: dict[str, str] | None = None) -> bool:
    """Whether to show a bar: a person watches a terminal (not CI, not a tool's format)."""
    env = dict(os.environ) if env is None else env
    return fmt == "text" and stream.isatty() and env.get("CI", "").lower() not in ("true", "1") \
        and env.get("TERM") != "dumb"


class Bar:
    """One transient bar that each call moves on (a pipeline.Progress); gone when the work ends."""

    def __init__(self, stream: IO[str], force_terminal: bool | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("time left"), TimeRemainingColumn(),
                                 console=Console(file=stream, force_terminal=force_terminal), transient=True)
        self.task: Any = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:  # a new stage starts its own count and its own estimate
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.task = self.progress.add_task(stage, total=total or None)
            self.stage = stage
        self.progress.update(self.task, completed=done, total=total or None)

    def __enter__(self) -> Bar:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.progress.stop()
