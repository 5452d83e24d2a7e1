"""The data home's library as the `skills` commands open it, and their tables."""

from __future__ import annotations

from contextlib import contextmanager

import click

from agent.cli import App


@contextmanager
def _library(app: App, **kw):
    """The data home's library, closed after; what it could not do (an index it could not
    update after a write it made) is printed as a warning line on stderr."""
    from agent.factory import open_home_library
    from agent.plan.goal_reader import read_template

    meta = click.get_current_context().meta
    with open_home_library(
        app.read_home, meta.get("library_url"), meta.get("store_url"), **kw
    ) as lib:
        lib.goal_reader = read_template  # the Searcher's goal channel (skills.goal_channel)
        yield lib
    for line in lib.warnings:
        click.echo(f"warning: {line}", err=True)


def _table(columns: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns)
    for r in rows:
        t.add_row(*[str(x) for x in r])
    Console().print(t)
