"""Debian's Chromium driven by Playwright, for the UI's browser test and screenshots.

Playwright (a dev extra) is only the driver here: it starts the system's `chromium`
(`executable_path`), never a browser of its own, so nothing is downloaded (do not run
`playwright install`). Headless, with a fresh profile each time; `--no-sandbox` because
the tests may run as root, where Chromium's sandbox refuses to start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars")


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


def playwright_missing() -> str | None:
    """Why no browser can be driven here (one line), or None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if find_chromium() is None:
        return "chromium is not installed (apt-get install -y chromium)"
    return None


@contextlib.contextmanager
def open_page(
    width: int = 1200, height: int = 800, timeout_ms: float = 30_000
) -> Iterator[tuple[Any, list[str]]]:
    """A Playwright page of a headless Chromium, and the list its console errors collect in.

    Console errors and uncaught exceptions include what the Content-Security-Policy blocked.
    """
    from playwright.sync_api import sync_playwright

    binary = find_chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=binary, headless=True, args=list(ARGS))
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, errors
        finally:
            browser.close()
