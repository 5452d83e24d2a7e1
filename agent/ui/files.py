"""Files of the data home the UI may serve: only existing files under the home."""

from __future__ import annotations

from pathlib import Path


def inside(home: Path, relative: str | Path) -> Path | None:
    """`home / relative` when it is an existing file under `home` (no `..`, no link out), else None."""
    root = Path(home).resolve()
    try:
        path = (root / relative).resolve()
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
