"""`skillgrove policy finetune`: learning from people's stored corrections.

A tiny checkpoint (hashing embedder, small network) and a few corrections stored the way
`policy correct` stores them (`human.store_human_correction`, the oracle's grasp as the
person's fix). Checked: a new version with its parent and correction ids, used
corrections are not used twice (unless --all), bad input is one line and writes
nothing, a corrupt checkpoint is refused, and the fine-tuned model's grasp moves to
the corrected one.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from agent.policy.settings import Optim
from tests.agent.policy_helpers import (
    fails,
    files,
    flip_a_bit,
    forbid_torch_load,
    invoke,
    run,
    save_tiny_checkpoint,
)

FAST = ("--threads", "1", "--eval-episodes", "0")


pytestmark = pytest.mark.usefixtures("fast_embeddings")


def make_home(home: Path) -> Path:
    """A data home with checkpoint v0001: an untrained tiny network that knows "place"."""
    save_tiny_checkpoint(
        home, {"kind": "base", "families": ["place"], "n_train": 6, "parent": None}
    )
    return home


def correct(home: Path, world, seed: int) -> int:
    """A person's correction of the latest checkpoint's grasp on the place scene `seed`:
    the oracle's grasp, stored as `policy correct` stores it."""
    from agent.policy.human import show_scene, store_human_correction
    from agent.policy.train import load_policy
    from sim.runner import reset_task

    scene = show_scene(home, load_policy(home, threads=1), "place", seed, world)
    pick = tuple(float(v) for v in reset_task(world, "place", seed).oracle().pose0)
    cid, _ = store_human_correction(home, scene, "pick", pick)
    return cid


@pytest.fixture(scope="module")
def home(tmp_path_factory, world, fast_embeddings) -> tuple[Path, list[int]]:
    h = make_home(tmp_path_factory.mktemp("finetune-home"))
    return h, [correct(h, world, s) for s in (1, 3)]  # held-out seeds, as the queue's


def test_finetune_saves_a_child_version_and_uses_each_correction_once(home, world):
    from agent.policy.checkpoint import resolve
    from agent.policy.data import dataset_path
    from agent.policy.geometry import ImageSpec

    h, ids = home
    res = run(h, "policy", "finetune", "--steps", "3", "--threads", "1", "--eval-episodes", "1")
    assert (res["version"], res["parent"], res["corrections"]) == (2, 1, ids)
    assert res["strategy"] == "replay" and res["families"] == ["place"] and res["steps"] == 3
    # Held out means not corrected: seeds 1 and 3 were, so the first free odd seed is 5.
    assert res["eval_seeds"] == {"place": [5]}
    for when in ("before", "after"):
        r = res["eval"]["place"][when]
        assert r["mode"] == "sim" and r["n"] == 1 and 0.0 <= r["success"] <= 1.0
    # The family the checkpoint knows was observed by the strategy (its training set).
    assert dataset_path(h, "place", "train", 6, ImageSpec()).exists()
    m = resolve(h, 2).manifest
    assert m["kind"] == "finetune" and m["parent"] == 1 and m["corrections"] == ids
    assert m["strategy"] == "replay" and m["families"] == ["place"]

    assert "no new corrections" in fails(h, "policy", "finetune", "--steps", "2", *FAST)
    new = correct(h, world, 7)
    res = run(h, "policy", "finetune", "--steps", "2", "--family", "place", *FAST)
    assert (res["version"], res["parent"], res["corrections"], res["eval"]) == (3, 2, [new], {})

    code, out, err = invoke(
        h, "policy", "finetune", "--all", "--steps", "2", "--version", "1", *FAST, as_json=False
    )
    assert code == 0, err
    assert "v0004" in out and "from v0001" in out and "3 corrections of place" in out
    assert resolve(h, 4).manifest["corrections"] == [*ids, new]
    listed = run(h, "policy", "checkpoints")["checkpoints"]
    assert [(c["version"], c["kind"], c["parent"]) for c in listed] == [
        (1, "base", None),
        (2, "finetune", 1),
        (3, "finetune", 2),
        (4, "finetune", 1),
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--strategy", "magic"), "unknown strategy 'magic'"),
        (("--strategy", "replay+magic"), "unknown strategy 'magic'"),
        (("--family", "tower"), "not 'tower'"),
        (("--family", "bogus"), "not 'bogus'"),
        (("--family", "pick"), "no corrections stored for pick"),
        (("--version", "9", "--all"), "no checkpoint v0009"),
        (("--steps", "0"), "0 is not in the range"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(home, args, needle):
    h, _ = home
    before = files(h)
    assert needle in fails(h, "policy", "finetune", *FAST, *args)
    assert files(h) == before


def test_no_store_and_corrupt_checkpoint_are_refused(tmp_path, world, monkeypatch):
    from agent.policy.checkpoint import checkpoint_dir
    from agent.policy.corrections import store_path

    h = make_home(tmp_path / "home")
    assert "no corrections stored" in fails(h, "policy", "finetune", *FAST)
    assert not store_path(h).exists()
    correct(h, world, 1)
    flip_a_bit(checkpoint_dir(h) / "v0001.pt")
    forbid_torch_load(monkeypatch)
    before = files(h)
    assert "corrupt" in fails(h, "policy", "finetune", *FAST)
    assert files(h) == before


def test_a_crash_after_saving_still_counts_the_corrections_used(tmp_path, world, monkeypatch):
    from agent.errors import AgentError
    from agent.policy import finetune
    from agent.policy.checkpoint import versions

    h = make_home(tmp_path / "home")
    correct(h, world, 1)
    monkeypatch.setattr(
        finetune.FinetuneLog, "record", lambda *a, **k: (_ for _ in ()).throw(OSError("crash"))
    )
    with pytest.raises(OSError):
        finetune.finetune_session(
            h, finetune.FinetuneConfig(steps=1, eval_episodes=0, optim=Optim(threads=1))
        )
    monkeypatch.undo()
    assert versions(h) == [1, 2]  # saved, not recorded
    with pytest.raises(AgentError, match="no new corrections"):
        finetune.select_corrections(h)
    assert [
        r["version"] for r in finetune.FinetuneLog(h / "policy" / "corrections.sqlite").list()
    ] == [2]


def test_the_finetuned_grasp_moves_to_the_corrected_one(tmp_path, world):
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.train import load_policy

    h = make_home(tmp_path / "home")
    (c,) = CorrectionStore(store_path(h)).get([correct(h, world, 5)])
    before = math.dist(c.predicted_pick[:2], c.corrected_pick[:2])
    assert before > 0.05  # the untrained grasp is far off: there is something to learn
    res = run(h, "policy", "finetune", "--steps", "50", *FAST)
    assert res["final_loss"] < res["first_loss"]
    for version, moved in ((1, False), (2, True)):
        pick = load_policy(h, version, threads=1).predict(c.rgb, c.depth, c.instruction).pick
        after = math.dist(pick[:2], c.corrected_pick[:2])
        if moved:
            assert after < 0.02 and after < before / 3, (before, after)
        else:  # the parent is untouched
            assert after == pytest.approx(before, abs=1e-4)


def test_held_out_seeds_skip_corrected_scenes():
    from agent.policy.finetune import held_out_seeds

    assert held_out_seeds(3, {1, 5}) == [3, 7, 9]
    assert held_out_seeds(0, {1}) == []
