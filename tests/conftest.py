"""Shared fixtures: one simulator World per test module (creating one takes ~0.3 s)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="module")
def world():
    from sim.world import World

    w = World()
    yield w
    w.close()
