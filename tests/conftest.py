"""Shared fixtures: one simulator World per test module (creating one takes ~0.3 s)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pytest_collection_modifyitems(items):
    """`slow` tests first (stable otherwise): `make test`'s workers take whole files in this
    order, so the longest files start at once instead of near the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="module")
def world():
    from sim.world import World

    w = World()
    yield w
    w.close()


# ---- real database servers (tests/servers.py): started lazily, one of each per session ----


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A PostgreSQL server on 127.0.0.1 for the whole session; the URL of its database."""
    from tests.servers import start_postgres

    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    yield server.url
    server.stop()


@pytest.fixture
def pg_database(postgres_url):
    """A fresh, empty database for one test (dropped after it): its SQLAlchemy URL."""
    import uuid

    from tests.servers import create_database, drop_database

    url = create_database(postgres_url, f"t_{uuid.uuid4().hex[:16]}")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory):
    """A `chroma run` server on 127.0.0.1 for the whole session: its http:// URL."""
    from tests.servers import start_chroma

    server = start_chroma(tmp_path_factory.mktemp("chroma"))
    yield server.url
    server.stop()


@pytest.fixture
def chroma_fresh(chroma_url):
    """The session's Chroma server with no collections left by earlier tests: its URL."""
    import chromadb

    from tests.servers import chroma_host_port

    host, port = chroma_host_port(chroma_url)
    client = chromadb.HttpClient(host=host, port=port)
    for col in client.list_collections():
        client.delete_collection(col if isinstance(col, str) else col.name)
    return chroma_url


from tests.ray_cluster import ray_address  # noqa: E402, F401 - one Ray cluster per session
