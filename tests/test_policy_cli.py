"""`skillgrove policy ...` and `bench continual` end to end through `agent.cli.main`.

One tiny checkpoint is trained per module (a hashing embedder stands in for MiniLM, as
`skills` CLI tests do); then the JSON shapes, what a typed correction stores, the human
output, and bad input: one line on stderr, a non-zero exit, and nothing written.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import sys
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from agent.cli import main

TRAIN = ("policy", "train", "--families", "place", "--n-train", "8", "--n-test", "3", "--steps", "5",
         "--threads", "1")  # fmt: skip


def _fast_embedder():
    from skills.embed import HashEmbedder

    return HashEmbedder(384)


@pytest.fixture(scope="module", autouse=True)
def fast_embeddings():
    """Every policy command in this process embeds instructions with the hashing embedder."""
    import agent.policy.embed

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(agent.policy.embed, "default_embedder", _fast_embedder)
        yield


def invoke(home: Path, *args: str, as_json: bool = True) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `skillgrove --home HOME ARGS [--json]`, in process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args, *(["--json"] if as_json else [])])
    return code, out.getvalue(), err.getvalue()


def run(home: Path, *args: str) -> dict:
    """The one JSON object a successful command prints."""
    code, out, err = invoke(home, *args)
    assert code == 0, (out, err)
    lines = out.splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])


def fails(home: Path, *args: str) -> str:
    """The one-line error of a failing command (checked on stdout as JSON and on stderr)."""
    code, out, err = invoke(home, *args)
    assert code != 0, out
    (line,) = out.splitlines()
    message = json.loads(line)["error"]
    assert err.splitlines() == [f"error: {message}"], err
    return message


def files(home: Path) -> set[str]:
    return {str(p.relative_to(home)) for p in home.rglob("*")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
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
    res = run(home, "policy", "correct", "--family", "place", "--seed", "3", "--pixel", "200", "180",
              "--angle", "15")  # fmt: skip
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
    res = run(home, "policy", "correct", "--family", "place", "--seed", "5", "--action", "place", "--dz", "0.02",
              "--dyaw", "-10", "--expert", "human:ana")  # fmt: skip
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


def test_missing_unknown_and_corrupt_checkpoints_are_refused(trained, tmp_path, monkeypatch):
    import torch

    from agent.policy.checkpoint import checkpoint_dir

    empty = tmp_path / "empty"
    assert "no policy checkpoint" in fails(empty, "policy", "eval")
    assert list(empty.iterdir()) == []
    assert run(empty, "policy", "checkpoints") == {"checkpoints": []}

    home = tmp_path / "corrupt"
    shutil.copytree(checkpoint_dir(trained[0]), checkpoint_dir(home))
    pt = checkpoint_dir(home) / "v0001.pt"
    data = bytearray(pt.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    pt.write_bytes(bytes(data))
    monkeypatch.setattr(
        torch, "load", lambda *a, **k: pytest.fail("a corrupt checkpoint was loaded")
    )
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
        agent.policy.embed.default_embedder = lambda: HashEmbedder(384)
        from agent.cli import main
        sys.exit(main(["--home", {str(home)!r}, "policy", "eval", "--mode", "robot", "--episodes", "1", "--json"]))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "pybullet build time" not in res.stdout + res.stderr
    (line,) = res.stdout.splitlines()
    out = json.loads(line)
    assert out["mode"] == "robot" and set(out["results"]["place"]) >= {
        "oracle",
        "policy",
        "episodes",
    }
    assert out["results"]["place"]["oracle"] == 1.0  # the canonical skill works with oracle poses


def test_bench_continual_tiny_run(tmp_path):
    home = tmp_path / "bench"
    res = run(home, "bench", "continual", "--quick", "--strategies", "naive,replay", "--n-train", "6", "--n-test",
              "3", "--base-steps", "3", "--steps", "2", "--sim-episodes", "0", "--no-feedback", "--workers", "1")  # fmt: skip
    assert list(res["strategies"]) == ["naive", "replay"]
    for s in res["strategies"].values():
        assert {
            "acc",
            "bwt",
            "fwt",
            "forgetting",
            "auc",
            "seconds",
            "trainable_params",
            "buffer_size",
        } <= set(s)
        assert s["runs"] == 1
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
    assert "| naive |" in table and "| replay |" in table
    assert [Path(p).name for p in res["plots"]] == ["r_matrix_A.png"]
    assert all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in res["plots"])
    assert (
        json.loads(Path(res["results"]).read_text())["strategies"].keys()
        == res["strategies"].keys()
    )
