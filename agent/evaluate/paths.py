"""Install paths out of the text skill code produces (issue 19, finding 13).

A numpy warning in a skill's output names the file it came from
(`/home/me/.venv/lib/python3.11/site-packages/numpy/_core/fromnumeric.py:3824`), and a
traceback may name this package's own files: where the software is installed and who
installed it is not the skill author's business, nor the person's reading a run. `scrub`
replaces those prefixes with placeholders (`<site-packages>/numpy/...`, `<python>/...`,
`<skillgrove>/...`) in the stdout, stderr and error text returned to the user: the
`sandbox run` output, evaluation feedback and run records.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

# any absolute path through a site-packages or dist-packages folder (another venv's too)
_SITE = re.compile(r"(?:[A-Za-z]:)?[\\/][^\s\"'<>|]*?[\\/](?:site|dist)-packages(?=[\\/])")


@lru_cache(maxsize=1)
def _prefixes() -> tuple[tuple[str, str], ...]:
    """(path, placeholder), longest first: this package's folder, then Python's."""
    import sysconfig

    here = Path(__file__).resolve().parents[2]  # the folder holding agent/, skills/, sim/
    pairs = {str(here): "<skillgrove>"}
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            pairs.setdefault(path, "<python-lib>")
    for prefix in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix):
        if prefix and len(prefix) > 1:
            pairs.setdefault(prefix, "<python>")
    return tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def scrub(text: str | None) -> str | None:
    """`text` with install paths replaced by placeholders (None stays None)."""
    if not text:
        return text
    out = _SITE.sub("<site-packages>", text)
    for path, label in _prefixes():
        out = out.replace(path, label)
    return out
