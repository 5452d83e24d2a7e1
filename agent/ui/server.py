"""Serving the UI: the listening socket of `skillgrove ui`, and the app in a thread.

`serve` runs the app with uvicorn on 127.0.0.1 and a free port in a thread of this
process, for the browser test and `scripts/screenshots.py`; it stops the server it
started and nothing else.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from agent.errors import AgentError


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on `host:port` (port 0: any free one); OSError when it cannot.

    It listens before the server runs, so the URL printed at once is already answered:
    connections wait in the backlog until uvicorn accepts them.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def serve(app, host: str = "127.0.0.1", timeout: float = 30.0) -> Iterator[str]:
    """Serve an ASGI app in a thread on a free port; yields its base URL, then stops it."""
    import uvicorn

    sock = listen(host, 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > end:
            server.should_exit = True
            sock.close()
            raise AgentError("the UI server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
