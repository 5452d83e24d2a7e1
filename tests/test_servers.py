"""The real PostgreSQL and Chroma servers the tests start (tests/servers.py, conftest fixtures)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.servers import (
    chroma_host_port,
    create_database,
    drop_database,
    start_chroma,
    start_postgres,
)

ROOT = Path(__file__).resolve().parents[1]


def _gone(pid: int, timeout: float = 20.0) -> bool:
    """True once no process ``pid`` runs (a zombie that no one reaps counts as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def test_a_table_written_through_sqlalchemy_is_read_back(pg_database):
    engine = sa.create_engine(pg_database)
    try:
        assert sa.inspect(engine).get_table_names() == []  # a fresh, empty database
        meta = sa.MetaData()
        skills = sa.Table(
            "skills",
            meta,
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
        )
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(skills.insert(), [{"name": "pick_up", "version": 1}])
            conn.execute(skills.insert(), [{"name": "stack", "version": 3}])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(skills).order_by(skills.c.name)).all()
            server = conn.execute(sa.text("select version()")).scalar_one()
        assert [tuple(r) for r in rows] == [("pick_up", 1), ("stack", 3)]
        assert server.startswith("PostgreSQL")
    finally:
        engine.dispose()


def test_each_test_database_is_new_and_dropped_after(postgres_url):
    url = create_database(postgres_url, "t_dropped_after")
    engine = sa.create_engine(url)
    with engine.connect() as conn:  # a connection left open does not block the drop
        conn.execute(sa.text("create table t (x int)"))
        conn.commit()
        drop_database(url)
    engine.dispose()
    with pytest.raises(sa.exc.OperationalError, match="does not exist"):
        sa.create_engine(url).connect()
    assert sa.make_url(postgres_url).database == "skillgrove"


def test_chroma_server_stores_and_queries_a_vector(chroma_fresh):
    import chromadb

    host, port = chroma_host_port(chroma_fresh)
    client = chromadb.HttpClient(host=host, port=port)
    col = client.create_collection("vectors", embedding_function=None)
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        metadatas=[{"n": 1}, {"n": 2}, {"n": 3}],
    )
    got = col.query(query_embeddings=[[0.1, 0.9, 0.0]], n_results=2)
    assert got["ids"] == [["b", "a"]]
    assert got["metadatas"][0][0] == {"n": 2}
    # a second client (another process would do the same) sees what the first wrote
    assert chromadb.HttpClient(host=host, port=port).get_collection("vectors").count() == 3


def test_postgres_is_gone_after_stop(tmp_path):
    server = start_postgres(tmp_path)
    assert not _gone(server.pid, timeout=0)
    with sa.create_engine(server.url).connect() as conn:
        assert conn.execute(sa.text("select 1")).scalar_one() == 1
    server.stop()
    assert _gone(server.pid, timeout=0)  # stop() waited for it
    assert not server.data.exists() or os.geteuid() != 0  # root's private dir is removed
    server.stop()  # idempotent


def test_chroma_is_gone_after_stop(tmp_path):
    server = start_chroma(tmp_path)
    assert not _gone(server.pid, timeout=0)
    server.stop()
    assert _gone(server.pid, timeout=0)
    assert (server.data / "chroma.sqlite3").exists()  # it ran on the --path it was given


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_no_server_outlives_the_process_that_started_it(tmp_path, how):
    """Ctrl-C (atexit stops it) or SIGKILL (the parent-death signal does): it is gone."""
    # A terminal's Ctrl-C raises KeyboardInterrupt; an earlier test of the suite can leave
    # this pytest process ignoring (or blocking) SIGINT, which a child inherits (and
    # Python then keeps): the child sets the terminal's behaviour first.
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
        "from tests.servers import start_postgres\n"
        f"s = start_postgres({str(tmp_path / 'pg')!r})\n"
        "print(s.pid, s.data.parent, flush=True)\n"
        "time.sleep(300)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid, _, base = child.stdout.readline().strip().partition(" ")
    try:
        assert not _gone(int(pid), timeout=0)
        child.send_signal(how)
        try:  # a bound against a hang, not a timing
            child.wait(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()
            pytest.fail(f"the parent did not exit: {child.communicate()[1][-2000:]}")
        assert _gone(int(pid)), f"postgres {pid} outlived its parent"
        if how == signal.SIGINT and os.geteuid() == 0:
            assert not Path(base).exists()  # atexit also removed root's private data dir
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if pid and not _gone(int(pid), timeout=0):  # this test failed: do not leak the server
            os.kill(int(pid), signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)  # a killed parent cannot (the next start sweeps)
