"""Training curves: `policy train` and `bench continual` write TensorBoard event files under
`<home>/tensorboard/`, one directory per run, read back here with TensorBoard's own reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.policy_helpers import fails, invoke, run

# `policy train` builds the full-width network (MiniLM's 384 dimensions).
EMBED_DIM = 384
pytestmark = pytest.mark.usefixtures("fast_embeddings")
TRAIN = ("policy", "train", "--families", "place", "--n-train", "6", "--n-test", "3")
TRAIN += ("--steps", "5", "--threads", "1")


def scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value), ...]} of every scalar in `logdir`'s event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    acc.Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}


def test_policy_train_writes_loss_and_success_curves(tmp_path):
    home = tmp_path / "home"
    res = run(home, *TRAIN)
    logdir = Path(res["logdir"])
    assert logdir.parent == home / "tensorboard" and logdir.name.startswith("train-")
    assert list(logdir.glob("events.out.tfevents.*"))
    got = scalars(logdir)
    assert set(got) == {"loss/train", "success/place"}
    assert [s for s, _ in got["loss/train"]] == [0, 1, 2, 3, 4]
    assert all(v > 0 for _, v in got["loss/train"])
    assert got["success/place"] == [(5, pytest.approx(res["eval"]["place"]["success"]))]
    # a second run gets a directory of its own; the human output names it
    code, out, _ = invoke(home, *TRAIN, as_json=False)
    assert code == 0
    (line,) = [x for x in out.splitlines() if x.startswith("curves: ")]
    second = Path(line.removeprefix("curves: "))
    assert second != logdir and second.parent == logdir.parent
    assert [s for s, _ in scalars(second)["loss/train"]] == [0, 1, 2, 3, 4]


def test_a_refused_train_makes_no_tensorboard_directory(tmp_path):
    home = tmp_path / "home"
    assert "not 'tower'" in fails(home, "policy", "train", "--families", "place,tower")
    assert not (home / "tensorboard").exists()


def test_bench_continual_writes_one_directory_per_run(tmp_path):
    home = tmp_path / "home"
    res = run(
        home,
        *("bench", "continual", "--quick", "--n-train", "6", "--n-test", "3"),
        *("--base-steps", "3", "--steps", "2", "--workers", "1", "--strategies", "naive"),
        *("--sim-episodes", "0", "--no-feedback"),
    )
    logdir = Path(res["logdir"])
    assert logdir.parent == home / "tensorboard" and logdir.name.startswith("continual-")
    assert sorted(p.name for p in logdir.iterdir()) == ["base-A-s0", "naive-A-s0"]
    base = scalars(logdir / "base-A-s0")
    assert [s for s, _ in base["loss/train"]] == [0, 1, 2]
    got = scalars(logdir / "naive-A-s0")
    families = res["settings"]["families"]
    # four fine-tuned experiences of two steps each, one row of R per experience
    assert [s for s, _ in got["loss/train"]] == list(range(8))
    for key in ("success", "pos_cm", "rot_deg"):
        for fam in families:
            assert [s for s, _ in got[f"{key}/{fam}"]] == [0, 1, 2, 3, 4]
    assert [s for s, _ in got["acc_seen"]] == [0, 1, 2, 3, 4]
    assert got["acc_seen"][-1][1] == pytest.approx(res["strategies"]["naive"]["acc"], abs=1e-6)


def test_policy_feedback_writes_rounds_and_loss(tmp_path):
    home = tmp_path / "home"
    run(home, *TRAIN)
    res = run(
        home,
        *("policy", "feedback", "--family", "place", "--rounds", "2", "--attempts", "2"),
        *("--eval-episodes", "2", "--steps", "3", "--threads", "1"),
    )
    logdir = Path(res["logdir"])
    assert logdir.parent == home / "tensorboard" and logdir.name.startswith("feedback-")
    got = scalars(logdir)
    rounds = [r["round"] for r in res["rounds"]]
    assert [s for s, _ in got["corrections/success"]] == [0, *rounds]
    assert [v for _, v in got["corrections/success"]] == pytest.approx(
        [res["start_success"], *[r["success"] for r in res["rounds"]]]
    )
    assert [(s, v) for s, v in got["corrections/used"]] == [
        (r["round"], r["corrections"]) for r in res["rounds"]
    ]
    trained = [r["round"] for r in res["rounds"] if r["corrections"] or r["successes_kept"]]
    steps = [(r - 1) * 3 + s for r in trained for s in range(3)]
    assert [s for s, _ in got["loss/train"]] == steps


def test_policy_finetune_writes_loss_corrections_and_success(tmp_path, world):
    from tests.agent.test_policy_finetune import correct

    home = tmp_path / "home"
    run(home, *TRAIN)
    ids = [correct(home, world, s) for s in (1, 3)]
    res = run(home, "policy", "finetune", "--steps", "3", "--threads", "1", "--eval-episodes", "1")
    logdir = Path(res["logdir"])
    assert logdir.parent == home / "tensorboard" and logdir.name.startswith("finetune-")
    got = scalars(logdir)
    assert set(got) == {"loss/train", "corrections/used", "success/place"}
    assert [s for s, _ in got["loss/train"]] == [0, 1, 2]
    assert got["corrections/used"] == [(1, len(ids))]
    e = res["eval"]["place"]
    assert got["success/place"] == [
        (0, pytest.approx(e["before"]["success"])),
        (1, pytest.approx(e["after"]["success"])),
    ]
