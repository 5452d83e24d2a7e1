"""A small client for headless Chromium over the DevTools protocol (stdlib only).

Used by the UI's browser test and by `scripts/screenshots.py`: start Debian's `chromium`
headless with a fresh profile, open one page, navigate, evaluate JavaScript, click at a
point, type, and take screenshots. The WebSocket part implements just what the DevTools
endpoint needs (RFC 6455: masked client frames, text, ping/pong, close, fragmentation).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",
)


class DevToolsError(RuntimeError):
    """The browser could not be started, or a protocol call failed."""


def find_chromium() -> str | None:
    """Path of a Chromium binary on PATH ($CHROMIUM overrides), or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return shutil.which(env) or (env if Path(env).is_file() else None)
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    """A minimal blocking WebSocket client (ws:// only)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise DevToolsError(
                    "the DevTools endpoint closed the connection during the handshake"
                )
            head += chunk
        head, self._buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise DevToolsError(
                f"WebSocket handshake refused: {head.splitlines()[0].decode(errors='replace')}"
            )

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise DevToolsError("the browser closed the DevTools connection")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def send(self, text: str, opcode: int = 1) -> None:
        data = text.encode() if isinstance(text, str) else text
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + _mask(data, mask))

    def recv(self) -> str:
        """The next text message (answers pings, joins fragments)."""
        parts: list[bytes] = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = _mask(data, mask)
            if opcode == 9:  # ping
                self.send(data.decode(errors="replace"), opcode=10)
                continue
            if opcode == 8:
                raise DevToolsError("the browser closed the DevTools connection")
            if opcode in (0, 1, 2):
                parts.append(data)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _mask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big") if n else b""


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol.

    Args:
        binary: the Chromium executable (default: `find_chromium()`).
        width, height: the page's viewport in CSS pixels.
        timeout: seconds to wait for the browser, a page load or a protocol answer.
    """

    def __init__(
        self, binary: str | None = None, width: int = 1200, height: int = 800, timeout: float = 30.0
    ) -> None:
        self.binary = binary or find_chromium()
        if not self.binary:
            raise DevToolsError("no chromium binary found (apt-get install -y chromium)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="skillgrove-chromium-")
        # chromium's stderr goes to a file: a pipe nobody reads could fill up and block it
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [
                self.binary,
                *FLAGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        self._id = 0
        self.events: list[dict] = []
        self.console: list[str] = []  # console errors and uncaught exceptions, never cleared
        try:
            port = self._wait_port()
            self.ws = WebSocket(self._page_ws(port), timeout)
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable")
            self.set_viewport(width, height)
        except BaseException:
            self.close()
            raise

    def _wait_port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-800:]
                raise DevToolsError(f"chromium exited with {self.proc.returncode}: {err.strip()}")
            try:
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise DevToolsError(f"chromium did not open its DevTools port within {self.timeout:.0f} s")

    def _page_ws(self, port: int) -> str:
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    targets = json.loads(r.read())
                pages = [
                    t for t in targets if t.get("type") == "page" and "webSocketDebuggerUrl" in t
                ]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.1)
        raise DevToolsError("chromium opened no page")

    # -- protocol --------------------------------------------------------------------------
    def call(self, method: str, **params) -> dict:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._id += 1
        me = self._id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == me:
                if "error" in msg:
                    raise DevToolsError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            self._keep(msg)
        raise DevToolsError(f"{method}: no answer within {self.timeout:.0f} s")

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        """The first kept or next event named `method` (consumed)."""
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            if time.monotonic() > end:
                raise DevToolsError(f"no {method} event within {timeout or self.timeout:.0f} s")
            self._keep(json.loads(self.ws.recv()))

    def _keep(self, msg: dict) -> None:
        if "method" not in msg:
            return
        self.events.append(msg)
        if msg["method"] == "Log.entryAdded" and msg["params"]["entry"].get("level") == "error":
            self.console.append(msg["params"]["entry"].get("text", ""))
        elif msg["method"] == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            self.console.append(str(d.get("exception", {}).get("description") or d.get("text")))

    # -- conveniences ----------------------------------------------------------------------
    def set_viewport(self, width: int, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def goto(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.events = [e for e in self.events if e["method"] != "Page.loadEventFired"]
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise DevToolsError(f"cannot open {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        r = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise DevToolsError(
                f"JavaScript error: {d.get('exception', {}).get('description') or d.get('text')}"
            )
        return r.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None) -> object:
        """Poll a JavaScript expression until it is truthy; returns its value."""
        end = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < end:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise DevToolsError(f"timed out waiting for {expression!r}")

    def click(self, x: float, y: float) -> None:
        """A real left mouse click at viewport coordinates (CSS pixels)."""
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def center_of(self, selector: str) -> tuple[float, float]:
        """Viewport center of the first element matching a CSS selector (scrolled into view)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        if not box:
            raise DevToolsError(f"no element matches {selector!r}")
        return float(box[0]), float(box[1])

    def click_selector(self, selector: str) -> None:
        self.click(*self.center_of(selector))

    def type_text(self, text: str) -> None:
        """Type into the focused element (as an input method would)."""
        self.call("Input.insertText", text=text)

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )

    def screenshot(self, path: str | Path, full_page: bool = False) -> Path:
        """A PNG of the viewport (or the whole page, up to 4000 px high)."""
        params: dict = {"format": "png"}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size[0],
                "height": min(size[1], 4000),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            with contextlib.suppress(DevToolsError, OSError):
                self.call("Browser.close")
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def serve(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port in a thread; yields its base URL."""
    import threading

    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > end:
            raise DevToolsError("the UI server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
