"""Shared helpers of the policy tests (tests/agent/test_policy_*.py, test_run_policy.py).

Everything stays offline and small: a hashing embedder instead of MiniLM and a PoseNet a
few channels wide. The fixtures that go with them (`one_thread`, `fast_embeddings`) are
in tests/agent/conftest.py; the simulator `world` in tests/conftest.py.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from agent.policy.geometry import ImageSpec

TINY_DIM = 16
SPEC = ImageSpec()


def tiny_encoder():
    """An instruction encoder over the deterministic hashing embedder (no model to load)."""
    from agent.policy.embed import InstructionEncoder
    from skills.embed import HashEmbedder

    return InstructionEncoder(HashEmbedder(TINY_DIM))


def tiny_model(seed: int = 0):
    """An untrained PoseNet a few channels wide, for `tiny_encoder`'s embeddings."""
    import torch

    from agent.policy.model import ModelConfig, PoseNet

    torch.manual_seed(seed)
    return PoseNet(ModelConfig(text_dim=3 * TINY_DIM, film_dim=8, channels=(8, 8, 8)))


def save_tiny_checkpoint(home: Path, meta: dict | None = None, seed: int = 0):
    """Save `tiny_model(seed)` as the next checkpoint version of `home`; its info."""
    from agent.policy.checkpoint import save_checkpoint

    return save_checkpoint(home, tiny_model(seed), SPEC, tiny_encoder().name, meta)


def flip_a_bit(path: Path, mask: int = 0x01) -> None:
    """Damage a file in the middle (a checkpoint whose hash no longer matches)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= mask
    path.write_bytes(bytes(data))


def forbid_torch_load(monkeypatch) -> None:
    """Fail the test if anything loads weights with torch (a corrupt file must not be)."""
    import torch

    monkeypatch.setattr(
        torch, "load", lambda *a, **k: pytest.fail("a corrupt checkpoint was loaded")
    )


def one_line(exc: pytest.ExceptionInfo) -> str:
    """The message of a raised error, checked to be one non-empty line."""
    msg = str(exc.value)
    assert msg and "\n" not in msg, msg
    return msg


# -- the command line, in process ----------------------------------------------------------
def invoke(home: Path, *args: str, as_json: bool = True) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `skillgrove --home HOME ARGS [--json]`, in process."""
    from agent.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args, *(["--json"] if as_json else [])])
    return code, out.getvalue(), err.getvalue()


def run(home: Path, *args: str) -> dict:
    """The one JSON object a successful command prints."""
    code, out, err = invoke(home, *args)
    assert code == 0, (out, err)
    (line,) = out.splitlines()
    return json.loads(line)


def fails(home: Path, *args: str, code: int | None = None) -> str:
    """The one-line error of a failing command (checked on stdout as JSON and on stderr);
    `code`: the exit code it must have (any non-zero one by default)."""
    got, out, err = invoke(home, *args)
    assert got != 0 if code is None else got == code, (got, out)
    (line,) = out.splitlines()
    message = json.loads(line)["error"]
    assert err.splitlines() == [f"error: {message}"], err
    return message


def files(home: Path) -> dict[str, int | None]:
    """Every path under `home` with its size (None for a folder): to see that nothing
    was written."""
    return {
        str(p.relative_to(home)): p.stat().st_size if p.is_file() else None for p in home.rglob("*")
    }


def recorded_run(home: Path, goal: str, objects: str) -> str:
    """`skillgrove run GOAL --objects OBJECTS` (oracle poses) in its own process, recorded
    in `home`; the run's id (the run must succeed)."""
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "run", goal]
        + ["--objects", objects, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["run_id"]
