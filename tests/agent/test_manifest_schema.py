"""A checkpoint's manifest is checked against its schema when it is read: a hand-edited
one with the wrong types fails in one line naming the file and the field, before any
weights are loaded or any scene is evaluated (issue 19, finding 8)."""

from __future__ import annotations

import json

import pytest

from agent.errors import AgentError
from tests.agent.policy_helpers import (
    fails,
    files,
    forbid_torch_load,
    one_line,
    run,
    save_tiny_checkpoint,
)

pytestmark = pytest.mark.usefixtures("fast_embeddings", "one_thread")

BAD = [({"version": "one"}, "'version'"), ({"families": 5}, "'families'")]


def _edit_manifest(info, **fields) -> None:
    mpath = info.path.with_suffix(".json")
    mpath.write_text(json.dumps({**json.loads(mpath.read_text()), **fields}))


def _no_work(monkeypatch) -> None:
    """Fail the test if weights are loaded or a scene is evaluated."""
    import agent.policy.evaluate

    forbid_torch_load(monkeypatch)
    for name in ("evaluate_sim", "evaluate_proxy"):
        monkeypatch.setattr(
            agent.policy.evaluate, name, lambda *a, **k: pytest.fail("evaluated a bad checkpoint")
        )


@pytest.mark.parametrize("fields, field", BAD)
def test_a_manifest_with_wrong_types_is_refused_when_read(tmp_path, monkeypatch, fields, field):
    from agent.policy.checkpoint import load_checkpoint, resolve

    info = save_tiny_checkpoint(tmp_path, {"kind": "base", "families": ["place"]})
    _edit_manifest(info, **fields)
    _no_work(monkeypatch)
    for read in (resolve, load_checkpoint):
        with pytest.raises(AgentError) as exc:
            read(tmp_path, 1)
        msg = one_line(exc)
        assert "v0001.json" in msg and field in msg and "wrong type" in msg, msg


@pytest.mark.parametrize("fields, field", BAD)
def test_policy_eval_fails_in_one_line_before_any_evaluation(tmp_path, monkeypatch, fields, field):
    info = save_tiny_checkpoint(tmp_path, {"kind": "base", "families": ["place"]})
    _edit_manifest(info, **fields)
    _no_work(monkeypatch)
    before = files(tmp_path)
    msg = fails(tmp_path, "policy", "eval", "--mode", "proxy", "--episodes", "1", code=1)
    assert "v0001.json" in msg and field in msg, msg
    assert files(tmp_path) == before
    # The listing still works and says which one is bad.
    (listed,) = run(tmp_path, "policy", "checkpoints")["checkpoints"]
    assert listed["version"] == 1 and listed["error"] == "invalid manifest"
    assert field in listed["detail"]


def test_a_manifest_naming_another_version_is_refused(tmp_path):
    from agent.policy.checkpoint import resolve

    info = save_tiny_checkpoint(tmp_path)
    _edit_manifest(info, version=7)
    with pytest.raises(AgentError) as exc:
        resolve(tmp_path, 1)
    assert "'version' says 7" in one_line(exc)


def test_a_valid_manifest_still_loads_with_its_own_fields(tmp_path):
    from agent.policy.checkpoint import list_checkpoints
    from agent.policy.train import load_policy

    meta = {
        "kind": "correction",
        "family": "place",
        "corrections": 3,
        "parent": None,
        "eval": {"place": {"success": 0.5}},
        "note": "kept as it is",
    }
    save_tiny_checkpoint(tmp_path, meta)
    policy = load_policy(tmp_path, 1, threads=1)
    assert policy.info["version"] == 1 and policy.info["note"] == "kept as it is"
    assert policy.info["eval"] == meta["eval"] and policy.info["corrections"] == 3
    (listed,) = list_checkpoints(tmp_path)
    assert "error" not in listed and listed["family"] == "place"
