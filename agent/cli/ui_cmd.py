"""`skillgrove ui`: serve the web UI (library, runs, corrections, learning)."""

from __future__ import annotations

import click

from agent.cli import App, pass_app


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but a loopback address needs --token.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: any free one).",
)
@click.option(
    "--token",
    metavar="T",
    envvar="SKILLGROVE_UI_TOKEN",
    help="Shared secret every request must carry (also $SKILLGROVE_UI_TOKEN); open the printed URL once.",
)
@click.option(
    "--library-url",
    metavar="URL",
    help="A Chroma server for the library index (also $SKILLGROVE_LIBRARY_URL; default: a file in the data home).",
)
@click.option(
    "--store-url",
    metavar="URL",
    help="A Postgres skill store, postgresql+psycopg://... (also $SKILLGROVE_STORE_URL).",
)
@pass_app
def ui(
    app: App,
    host: str,
    port: int,
    token: str | None,
    library_url: str | None,
    store_url: str | None,
) -> None:
    """Serve the web UI: library, runs, corrections, learning.

    It listens on 127.0.0.1 unless told otherwise; exposing it with --host needs a
    token. Pages only read and show; the one write is storing a correction. No page
    runs skill code.
    """
    from agent.ui.security import is_loopback

    if not is_loopback(host) and not token:
        raise click.UsageError(
            f"--host {host} exposes the UI beyond this machine: give --token T as well"
        )
    if token is not None and len(token) < 8:
        raise click.BadParameter("use a token of at least 8 characters", param_hint="--token")
    import signal
    import threading

    import uvicorn

    from agent.factory import open_home_library
    from agent.ui.app import create_app
    from agent.ui.server import listen

    home = app.home
    library = open_home_library(home, library_url, store_url)
    warm = None
    try:
        web = create_app(home, library=library, token=token, host=host)
        try:
            sock = listen(host, port)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from None
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
        click.echo(f"skillgrove UI for {home}: {url}  (Ctrl-C to stop)", err=True)
        # load the embedding model while the person opens the page, not on the first search
        warm = threading.Thread(target=_warm_up, args=(library,), daemon=True)
        warm.start()
        # uvicorn shuts down on SIGTERM, then raises it again: end with the library closed
        signal.signal(signal.SIGTERM, _stopped)
        config = uvicorn.Config(web, log_level="warning")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if warm is not None:  # exiting while the model loads in native code aborts the process
            warm.join(120)
        library.close()


def _stopped(_signum, _frame) -> None:
    raise SystemExit(0)


def _warm_up(library) -> None:
    import contextlib

    with contextlib.suppress(Exception):  # the first search reports any real problem
        library.embedder.embed(["warm up"])
