"""One real Ray cluster on loopback for the whole test session (the `ray_address` fixture).

Started as a user would (`ray start --head --node-ip-address 127.0.0.1 --port P
--num-cpus 2 --disable-usage-stats`, its own temp dir and ports), connected to by address,
and stopped by its own processes: those whose command line names its temp dir or its GCS
port, and their descendants (never `ray stop`, which would stop other clusters on this
machine). Starting a head takes seconds, so every Ray test shares this one.
`scripts/bench_ray.py` starts its cluster the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p.name))
    return kids


def cluster_pids(temp_dir: str, port: int) -> set[int]:
    """This cluster's processes: Ray's that name its temp dir or its GCS port (the client
    server names only the latter), and all their descendants."""
    gcs = re.compile(rf":{port}(\D|$)")
    found = set()
    for p in Path("/proc").iterdir():
        cmd = _cmdline(int(p.name)) if p.name.isdigit() else ""
        if temp_dir in cmd or ("ray" in cmd and gcs.search(cmd)):
            found.add(int(p.name))
    kids, todo = _children(), list(found)
    while todo:
        for k in kids.get(todo.pop(), []):
            if k not in found:
                found.add(k)
                todo.append(k)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids, seconds: float = 30.0) -> set[int]:
    """The pids still alive after up to `seconds` (a bound against hanging, not a timing)."""
    end = time.monotonic() + seconds
    left = {p for p in pids if alive(p)}
    while left and time.monotonic() < end:
        time.sleep(0.2)
        left = {p for p in left if alive(p)}
    return left


@contextlib.contextmanager
def loopback_cluster(cpus: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """A Ray head with `cpus` CPUs on 127.0.0.1; yields its address (HOST:PORT); on exit
    every process of it is stopped (TERM, then KILL) and its temp dir removed. `env`:
    more environment for `ray start` (e.g. Ray's own `RAY_worker_niceness`).

    Raises:
        RuntimeError: the head did not start, or processes of it outlived the stop.
    """
    exe = Path(sys.executable).parent / "ray"
    if not exe.exists():
        raise RuntimeError(f"no ray CLI next to the interpreter ({exe})")
    temp_dir = tempfile.mkdtemp(prefix="sgray-", dir="/tmp")  # short: Ray's socket paths
    port = free_port()
    cmd = [str(exe), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    cmd += ["--num-cpus", str(cpus), "--disable-usage-stats", "--temp-dir", temp_dir]
    cmd += ["--include-dashboard", "false", "--dashboard-port", str(free_port())]
    cmd += ["--ray-client-server-port", str(free_port())]
    cmd += ["--dashboard-agent-listen-port", str(free_port())]
    env = os.environ | {"RAY_USAGE_STATS_ENABLED": "0"} | (env or {})
    try:
        started = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        if started.returncode != 0:
            raise RuntimeError(f"ray start failed: {started.stdout}{started.stderr}")
        yield f"127.0.0.1:{port}"
    finally:
        pids = cluster_pids(temp_dir, port)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
            pids = wait_gone(pids, 3)
        leftover = cluster_pids(temp_dir, port)
        shutil.rmtree(temp_dir, ignore_errors=True)
        if pids or leftover:
            raise RuntimeError(f"cluster processes left: {pids | leftover}")


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """A 2-CPU Ray head on loopback for the whole session, this process connected to it;
    yields its address. Skips when `ray` is not installed."""
    ray = pytest.importorskip("ray")
    with loopback_cluster(2) as address:
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
            assert ray.cluster_resources().get("CPU") == 2
            yield address
        finally:
            ray.shutdown()
