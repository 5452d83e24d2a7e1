"""`skillgrove policy ...` and `bench continual` end to end through `agent.cli.main`.

One tiny checkpoint is trained per module (a hashing embedder stands in for MiniLM, as
`skills` CLI tests do); then the JSON shapes, what a typed correction stores, the human
output, and bad input: one line on stderr, a non-zero exit, and nothing written.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.agent.policy_helpers import fails, files, flip_a_bit, forbid_torch_load, invoke, run

TRAIN = (
    "policy",
    "train",
    "--families",
    "place",
    "--n-train",
    "8",
    "--n-test",
    "3",
    "--steps",
    "5",
    "--threads",
    "1",
)


# `policy train` and the bench build the full-width network (MiniLM's 384 dimensions).
EMBED_DIM = 384
pytestmark = pytest.mark.usefixtures("fast_embeddings")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fast_embeddings) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("policy-home")
    return home, run(home, *TRAIN)


def test_train_saves_a_hash_checked_version(trained):
    from agent.policy.checkpoint import checkpoint_dir, sha256_file

    home, res = trained
    assert res["version"] == 1 and res["families"] == ["place"] and res["steps"] == 5
    assert Path(res["checkpoint"]) == checkpoint_dir(home) / "v0001.pt"
    assert (
        set(res["eval"]["place"]) >= {"success", "pos_cm", "rot_deg", "n"}
        and res["eval"]["place"]["n"] == 3
    )
    listed = run(home, "policy", "checkpoints")["checkpoints"]
    first = listed[0]
    assert first["version"] == 1 and first["kind"] == "base" and first["families"] == ["place"]
    assert first["sha256"] == sha256_file(checkpoint_dir(home) / "v0001.pt")


def test_eval_proxy_json_and_human_output(trained):
    home, _ = trained
    res = run(home, "policy", "eval", "--mode", "proxy", "--episodes", "2")
    assert res["version"] == 1 and res["mode"] == "proxy" and set(res["results"]) == {"place"}
    assert res["results"]["place"]["n"] == 2 and 0.0 <= res["results"]["place"]["success"] <= 1.0
    for args in (
        ("policy", "eval", "--mode", "proxy", "--episodes", "2"),
        ("policy", "checkpoints"),
    ):
        code, out, _ = invoke(home, *args, as_json=False)
        assert code == 0 and "v0001" in out and "place" in out
        assert "{" not in out and "':" not in out  # a table, not a dict repr


def test_correct_stores_the_typed_pixel_and_angle(trained):
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.draw import SCALE
    from agent.policy.geometry import ImageSpec, point_to_pixel

    home, _ = trained
    res = run(
        home,
        "policy",
        "correct",
        "--family",
        "place",
        "--seed",
        "3",
        "--pixel",
        "200",
        "180",
        "--angle",
        "15",
    )
    assert (
        res["stored"]
        and res["action"] == "pick"
        and res["family"] == "place"
        and res["checkpoint"] == 1
    )
    assert res["diagnosis"] in ("position", "orientation", "position+orientation", "none")
    assert Path(res["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (row,) = CorrectionStore(store_path(home)).get([res["id"]])
    assert row.expert == "human" and row.family == "place" and row.seed == 3 and row.round is None
    assert row.instruction == res["instruction"]
    pick = row.corrected_pick
    assert pick == pytest.approx(res["corrected"])
    lab = point_to_pixel(ImageSpec(), pick[:3])  # back through the camera: the pixel typed
    assert (lab.col * SCALE, lab.row * SCALE) == pytest.approx((200, 180), abs=1e-3)
    assert pick[3] == pytest.approx(math.radians(15))
    # The place, not corrected, keeps the prediction.
    assert row.corrected_place == pytest.approx(row.predicted_place)
    assert row.predicted_place == pytest.approx(res["predicted"]["place"], abs=1e-6)


def test_correct_with_offsets_then_list_and_export(trained, tmp_path):
    from agent.policy.corrections import CorrectionStore, store_path

    home, _ = trained
    res = run(
        home,
        "policy",
        "correct",
        "--family",
        "place",
        "--seed",
        "5",
        "--action",
        "place",
        "--dz",
        "0.02",
        "--dyaw",
        "-10",
        "--expert",
        "human:ana",
    )
    pred = res["predicted"]["place"]
    (row,) = CorrectionStore(store_path(home)).get([res["id"]])
    assert row.expert == "human:ana"
    assert row.corrected_place[:3] == pytest.approx((pred[0], pred[1], pred[2] + 0.02))
    assert row.corrected_place[3] == pytest.approx(
        math.remainder(pred[3] - math.radians(10), 2 * math.pi)
    )
    listed = run(home, "policy", "corrections", "list")
    assert listed["total"] == len(listed["corrections"]) >= 2
    assert listed["corrections"][0]["id"] == res["id"]  # newest first
    assert set(listed["corrections"][0]) >= {
        "id",
        "family",
        "seed",
        "expert",
        "diagnosis",
        "predicted",
        "corrected",
    }
    out = tmp_path / "export" / "c.jsonl"
    exported = run(home, "policy", "corrections", "export", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert exported == {"path": str(out), "count": len(rows)} and len(rows) == listed["total"]
    assert {"image_npz_b64", "corrected", "predicted", "expert"} <= set(rows[-1])
    code, text, _ = invoke(home, "policy", "corrections", "list", as_json=False)
    assert code == 0 and "human:ana" in text and "{" not in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("policy", "eval", "--version", "9"), "no checkpoint v0009"),
        (("policy", "eval", "--version", "abc"), "bad checkpoint version"),
        (("policy", "eval", "--families", "bogus"), "not 'bogus'"),
        (("policy", "train", "--families", "place,tower"), "not 'tower'"),
        (
            ("policy", "feedback", "--family", "place", "--strategy", "bogus"),
            "unknown strategy 'bogus'",
        ),
        (("policy", "feedback", "--family", "bogus"), "not 'bogus'"),
        (("policy", "correct", "--family", "bogus", "--angle", "3"), "not 'bogus'"),
        (("policy", "correct", "--family", "place", "--pixel", "9999", "5"), "outside"),
        (("policy", "correct", "--family", "place", "--pixel", "-1", "5"), "outside"),
        (("policy", "correct", "--family", "place", "--pixel", "1x", "5"), "must be a number"),
        (("policy", "correct", "--family", "place", "--angle", "nan"), "finite"),
        (("policy", "correct", "--family", "place", "--angle", "400"), "out of range"),
        (("policy", "correct", "--family", "place", "--dx", "inf"), "finite"),
        (("policy", "correct", "--family", "place", "--dz", "5"), "out of range"),
        (
            ("policy", "correct", "--family", "pick", "--action", "place", "--angle", "3"),
            "no place pose",
        ),
        (
            ("policy", "correct", "--family", "place", "--pixel", "1", "2", "--dx", "0.1"),
            "not both",
        ),
        (("policy", "corrections", "list", "--family", "bogus"), "not 'bogus'"),
        (("bench", "continual", "--strategies", "naive,bogus"), "unknown strategy 'bogus'"),
        (("bench", "continual", "--strategies", "replay+magic"), "unknown strategy 'magic'"),
        (("bench", "continual", "--orders", "C"), "unknown task order"),
        (("bench", "continual", "--n-train", "0"), "0 is not in the range"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(trained, args, needle):
    home, _ = trained
    before = files(home)
    assert needle in fails(home, *args)
    assert files(home) == before


@pytest.mark.parametrize("flags", [(), ("--no-augment", "--corrections-only")])
def test_feedback_runs_a_round_and_records_how_it_trained(trained, tmp_path, flags):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(trained[0], home)
    res = run(
        home,
        "policy",
        "feedback",
        "--family",
        "place",
        "--rounds",
        "1",
        "--attempts",
        "2",
        "--eval-episodes",
        "1",
        "--steps",
        "2",
        "--threads",
        "1",
        *flags,
    )
    on = not flags
    assert res["augment"] is on and res["keep_successes"] is on and len(res["rounds"]) == 1
    (rnd,) = res["rounds"]
    assert rnd["attempts"] == 2 and rnd["corrections"] == rnd["failures"]
    assert rnd["successes_kept"] == (2 - rnd["failures"] if on else 0)
    listed = run(home, "policy", "checkpoints")["checkpoints"]
    assert listed[-1]["kind"] == "correction" and listed[-1]["augment"] is on
    code, out, _ = invoke(
        home,
        "policy",
        "feedback",
        "--family",
        "place",
        "--rounds",
        "1",
        "--attempts",
        "1",
        "--eval-episodes",
        "1",
        "--steps",
        "1",
        "--threads",
        "1",
        *flags,
        as_json=False,
    )
    assert code == 0 and "target 0.90" in out and ("kept:" in out) is on


def test_missing_unknown_and_corrupt_checkpoints_are_refused(trained, tmp_path, monkeypatch):
    from agent.policy.checkpoint import checkpoint_dir

    empty = tmp_path / "empty"
    assert "no policy checkpoint" in fails(empty, "policy", "eval")
    assert list(empty.iterdir()) == []
    assert run(empty, "policy", "checkpoints") == {"checkpoints": []}

    home = tmp_path / "corrupt"
    shutil.copytree(checkpoint_dir(trained[0]), checkpoint_dir(home))
    flip_a_bit(checkpoint_dir(home) / "v0001.pt")
    forbid_torch_load(monkeypatch)
    before = files(home)
    assert "corrupt" in fails(home, "policy", "eval")
    assert "corrupt" in fails(home, "policy", "correct", "--family", "place", "--angle", "10")
    assert files(home) == before


def test_export_to_an_unwritable_path_is_one_line_error(trained, tmp_path):
    home, _ = trained
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert "cannot write" in fails(
        home, "policy", "corrections", "export", str(blocker / "c.jsonl")
    )
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_json_stdout_is_one_object_and_no_pybullet_banner(trained):
    """A real process: the banner is written by C code on the file descriptors."""
    home, _ = trained
    code = textwrap.dedent(f"""
        import sys
        import agent.policy.embed
        from skills.embed import HashEmbedder
        agent.policy.embed.default_embedder = lambda: HashEmbedder({EMBED_DIM})
        from agent.cli import main
        sys.exit(main(["--home", {str(home)!r}, "policy", "eval", "--mode", "robot", "--episodes", "1", "--json"]))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "pybullet build time" not in res.stdout + res.stderr
    (line,) = res.stdout.splitlines()
    out = json.loads(line)
    assert out["mode"] == "robot"
    assert set(out["results"]["place"]) >= {"oracle", "policy", "episodes", "seconds"}
    assert out["results"]["place"]["oracle"] == 1.0  # the canonical skill works with oracle poses


BENCH = (
    "bench",
    "continual",
    "--quick",
    "--n-train",
    "6",
    "--n-test",
    "3",
    "--base-steps",
    "3",
    "--steps",
    "2",
    "--workers",
    "1",
)
METRICS = {"acc", "bwt", "fwt", "forgetting", "auc", "seconds", "trainable_params", "buffer_size"}


@pytest.fixture(scope="module")
def bench_home(tmp_path_factory, fast_embeddings) -> Path:
    """One home for the bench runs: the second reuses the first's datasets and base."""
    return tmp_path_factory.mktemp("bench")


def test_bench_continual_tiny_run(bench_home):
    res = run(
        bench_home, *BENCH, "--strategies", "naive,replay", "--sim-episodes", "0", "--no-feedback"
    )
    assert list(res["strategies"]) == ["naive", "replay"]
    for s in res["strategies"].values():
        assert set(s) >= METRICS and s["runs"] == 1 and s["sim_acc"] is None
    settings = res["settings"]
    assert (settings["n_train"], settings["n_test"], settings["base_steps"], settings["steps"]) == (
        6,
        3,
        3,
        2,
    )
    assert (
        settings["sim_episodes"] == 0 and settings["seeds"] == [0] and settings["orders"] == ["A"]
    )
    assert res["feedback"] is None
    table = Path(res["table"]).read_text()
    assert "| naive |" in table and "| replay |" in table and "Corrections" not in table
    assert [Path(p).name for p in res["plots"]] == ["r_matrix_A.png", "acc_curve_A.png"]
    assert all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in res["plots"])
    saved = json.loads(Path(res["results"]).read_text())["strategies"]
    assert saved.keys() == res["strategies"].keys()


def test_bench_continual_with_sim_episodes_and_the_correction_run(bench_home, monkeypatch):
    """A combined strategy, the final policies executed in the simulator, and the
    correction experiment (shrunk to one round of two attempts)."""
    from bench import continual as bench

    tiny = {"rounds": 1, "attempts": 2, "eval_episodes": 1, "steps": 2}
    monkeypatch.setitem(bench.QUICK, "feedback", tiny)
    res = run(bench_home, *BENCH, "--strategies", "replay+lwf", "--sim-episodes", "1")
    (s,) = res["strategies"].values()
    assert list(res["strategies"]) == ["replay+lwf"] and set(s) >= METRICS
    assert res["settings"]["sim_episodes"] == 1 and 0.0 <= s["sim_acc"] <= 1.0
    fb = res["feedback"]
    assert (
        fb["family"] == bench.FEEDBACK_TASK
        and fb["strategy"] == "replay"
        and fb["expert"] == "oracle"
    )
    (rnd,) = fb["rounds"]
    assert rnd["attempts"] == 2 and rnd["corrections"] == rnd["failures"]
    assert set(fb) >= {
        "start_success",
        "final_success",
        "reached_target_round",
        "max_finetune_seconds",
    }
    assert [Path(p).name for p in res["plots"]] == [
        "r_matrix_A.png",
        "acc_curve_A.png",
        "corrections.png",
    ]
    assert all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in res["plots"])
    assert f"Corrections ({fb['family']}, replay, expert oracle)" in Path(res["table"]).read_text()
