"""A progress bar on stderr for long work (silent with --json)."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def progress(label: str, total: int, quiet: bool = False):
    """Yield an `advance()` callable; draws a rich progress bar on stderr unless quiet."""
    if quiet or total <= 1:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    cols = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*cols, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)
