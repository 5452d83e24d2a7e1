"""Real database servers for the tests: a PostgreSQL and a Chroma server on 127.0.0.1.

Each server is a child process this module started with ``subprocess.Popen`` (never a
daemonising wrapper), so it is stopped by its own PID and never by name. Safety nets, in
order: the caller's ``stop()``; an ``atexit`` hook (normal exit, Ctrl-C); and the Linux
parent-death signal, so that a server dies with the Python process that started it even
when that process is killed.

PostgreSQL binaries come from the ``pgserver`` wheel (a dev dependency, installed by
``make install``), else ``initdb``/``postgres`` on PATH or under /usr/lib/postgresql.
PostgreSQL refuses to run as root: as root the server runs as ``nobody`` from a private
directory under the system temp dir, with trust authentication on loopback only.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import glob
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "postgres"  # the superuser initdb creates; trust auth, loopback only
PG_DB = "skillgrove"
READY_TIMEOUT_S = 30.0
CHROMA_READY_TIMEOUT_S = 90.0  # `chroma run` imports chromadb first: slow on a busy machine
STOP_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1
_PRIVATE_PREFIX = "sg-pg-"  # private data dirs under the system temp dir (as root)


class ServerError(RuntimeError):
    """A test server could not be started (the message carries its log's tail)."""


@dataclass
class Server:
    url: str
    pid: int
    stop: Callable[[], None] = field(repr=False)
    log: Path | None = None
    data: Path | None = None  # the server's data directory


_running: dict[int, Callable[[], None]] = {}


@atexit.register
def _stop_all() -> None:
    for stop in list(_running.values()):
        with contextlib.suppress(Exception):
            stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent(sig: int) -> None:
    """preexec_fn: the child gets ``sig`` when this process dies (run after any uid change,
    which would clear the setting)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _start(cmd: list[str], log: Path, sig: int, **kw) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches pytest, which stops us in order
            preexec_fn=functools.partial(_die_with_parent, sig),
            **kw,
        )


def _stopper(proc: subprocess.Popen, sig: int, cleanup: Callable[[], None] | None = None):
    def stop() -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        _running.pop(proc.pid, None)
        if cleanup is not None:
            cleanup()

    _running[proc.pid] = stop
    return stop


# ---- PostgreSQL ---------------------------------------------------------------------------


def _run_as() -> dict:
    """Popen arguments that drop root to nobody (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam("nobody")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _pg_bin_candidates() -> list[Path]:
    found: list[Path] = []
    spec = importlib.util.find_spec("pgserver")  # the wheel ships initdb/postgres; not imported
    if spec is not None and spec.submodule_search_locations:
        found += [Path(p) / "pginstall" / "bin" for p in spec.submodule_search_locations]
    on_path = shutil.which("postgres")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        found.append(Path(d))
    return found


def _runs(bindir: Path) -> bool:
    try:
        r = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            timeout=30,
            cwd="/",
            **_run_as(),
        )
    except OSError:  # e.g. a checkout under /root: nobody cannot reach the binary
        return False
    return r.returncode == 0


def _readable_copy(bindir: Path) -> Path:
    """The wheel's binaries copied where nobody can run them (the venv may sit in a dir only
    root can enter); kept under the temp dir and reused while the wheel is unchanged."""
    pkg = bindir.parents[1]  # .../site-packages/pgserver
    stamp = f"{pkg}:{(bindir / 'postgres').stat().st_mtime_ns}"
    key = hashlib.sha1(stamp.encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"sg-pgbin-{key}"
    if not root.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f"sg-pgbin-{key}-"))
        shutil.copytree(pkg / "pginstall", tmp / "pgserver" / "pginstall", symlinks=True)
        if (pkg.parent / "pgserver.libs").is_dir():  # initdb's libpq, by a relative rpath
            shutil.copytree(pkg.parent / "pgserver.libs", tmp / "pgserver.libs", symlinks=True)
        for d, _, _ in os.walk(tmp):
            os.chmod(d, 0o755)
        try:
            os.rename(tmp, root)
        except OSError:  # another session made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return root / "pgserver" / "pginstall" / "bin"


def postgres_bin_dir() -> Path:
    """The first directory whose initdb and postgres run (as the user the server runs as)."""
    tried = []
    for d in _pg_bin_candidates():
        if not ((d / "initdb").exists() and (d / "postgres").exists()):
            continue
        tried.append(str(d))
        if _runs(d):
            return d
        if os.geteuid() == 0 and d.parent.name == "pginstall":
            copy = _readable_copy(d)
            tried.append(str(copy))
            if _runs(copy):
                return copy
    raise ServerError(
        "no usable PostgreSQL binaries (pip install pgserver, or apt-get install postgresql); "
        f"tried: {tried or 'nothing found'}"
    )


def _pg_connect(port: int, dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=port, user=PG_USER, dbname=dbname, connect_timeout=2, autocommit=True
    )


def _wait_pg(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"postgres exited with {proc.returncode}; log:\n{_tail(log)}")
        try:
            _pg_connect(port).close()
            return
        except Exception as e:  # psycopg.OperationalError while it starts
            last = e
            time.sleep(0.1)
    raise ServerError(
        f"postgres did not accept connections on port {port} within {READY_TIMEOUT_S:.0f} s "
        f"({last}); log:\n{_tail(log)}"
    )


def _sweep_stale_dirs(max_age_s: float = 600.0) -> None:
    """Remove private data dirs left by a killed session (no live postmaster in them)."""
    for d in Path(tempfile.gettempdir()).glob(_PRIVATE_PREFIX + "*"):
        try:
            if time.time() - d.stat().st_mtime < max_age_s:
                continue
            pidfile = d / "data" / "postmaster.pid"
            if pidfile.exists():
                os.kill(int(pidfile.read_text().split()[0]), 0)
                continue  # a live server
        except ProcessLookupError:
            pass
        except (OSError, ValueError, IndexError):
            continue
        shutil.rmtree(d, ignore_errors=True)


def start_postgres(tmp_dir: str | os.PathLike) -> Server:
    """initdb + ``postgres`` on 127.0.0.1:<free port>; returns the URL of a fresh database."""
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    bindir = postgres_bin_dir()
    as_user = _run_as()
    # The data and socket dirs: as root, a short private dir that nobody owns (pytest's tmp
    # dirs are root-only); otherwise under tmp_dir, with the socket in a short path.
    own = bool(as_user) or len(str(tmp_dir)) > 80
    if own:
        _sweep_stale_dirs()
    base = Path(tempfile.mkdtemp(prefix=_PRIVATE_PREFIX)) if own else tmp_dir
    cleanup = (lambda: shutil.rmtree(base, ignore_errors=True)) if own else None
    if as_user:
        os.chown(base, as_user["user"], as_user["group"])
    data, sock = base / "data", base / "sock"
    log = tmp_dir / "postgres.log"
    try:
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust"]
            + ["--encoding=UTF8", "--locale=C", "--no-sync"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=base,
            **as_user,
        )
        if init.returncode != 0:
            raise ServerError(f"initdb failed ({bindir}):\n{init.stdout[-2000:]}{init.stderr}")
        sock.mkdir()
        if as_user:
            os.chown(sock, as_user["user"], as_user["group"])
        for attempt in range(3):  # a free port can be taken before postgres binds it
            port = free_port()
            cmd = [str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1"]
            cmd += ["-p", str(port), "-k", str(sock), "-c", "fsync=off"]
            cmd += ["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
            proc = _start(cmd, log, signal.SIGINT, cwd=base, **as_user)  # SIGINT: fast shutdown
            stop = _stopper(proc, signal.SIGINT)
            try:
                _wait_pg(proc, port, log)
                break
            except ServerError:
                stop()
                if attempt == 2 or "could not bind" not in _tail(log, 40):
                    raise
        with _pg_connect(port) as conn:
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
    except BaseException:
        if cleanup:
            cleanup()
        raise
    _running.pop(proc.pid, None)
    stop = _stopper(proc, signal.SIGINT, cleanup)
    url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{PG_DB}"
    return Server(url=url, pid=proc.pid, stop=stop, log=log, data=data)


def create_database(url: str, name: str) -> str:
    """CREATE DATABASE ``name`` on the server of ``url``; returns the new database's URL."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with _pg_connect(u.port) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """DROP DATABASE of ``url``, closing any connection a test left open."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with _pg_connect(u.port) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')


# ---- Chroma -------------------------------------------------------------------------------


def _chroma_ready(port: int) -> bool:
    for path in ("/api/v2/heartbeat", "/api/v1/heartbeat"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            continue
    return False


def start_chroma(tmp_dir: str | os.PathLike) -> Server:
    """``chroma run`` (the venv's) on 127.0.0.1:<free port>, data under ``tmp_dir/chroma``."""
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        raise ServerError(f"the chroma server command is not installed ({chroma})")
    log = tmp_dir / "chroma.log"
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    for attempt in range(3):
        port = free_port()
        cmd = [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--path", str(tmp_dir / "chroma")]
        proc = _start(cmd, log, signal.SIGTERM, env=env)
        stop = _stopper(proc, signal.SIGTERM)
        deadline = time.monotonic() + CHROMA_READY_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if _chroma_ready(port):
                url = f"http://127.0.0.1:{port}"
                return Server(url=url, pid=proc.pid, stop=stop, log=log, data=tmp_dir / "chroma")
            time.sleep(0.2)
        exited = proc.poll() is not None
        stop()
        if attempt == 2 or not exited:
            break
    raise ServerError(
        f"chroma did not answer its heartbeat on port {port}"
        f"{' (it exited)' if exited else ''}; log:\n{_tail(log)}"
    )


def chroma_host_port(url: str) -> tuple[str, int]:
    """("127.0.0.1", 8000) from "http://127.0.0.1:8000"."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 8000
