"""`bench tune` and `bench continual --stream goals` end to end through the command line
(tiny sizes): two strategies tuned with the same budget on the dev order's validation
scenes, then run with their choices on the held-out order, two seeds, wrong correction
labels at 0 and 30%, into the table, the noise study and the results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agent.policy_helpers import fails, run

EMBED_DIM = 384  # the bench builds the full-width network
pytestmark = pytest.mark.usefixtures("fast_embeddings")
TINY = ("--n-train", "4", "--n-test", "2", "--base-steps", "2", "--steps", "1")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def tuned(home) -> dict:
    return {
        s: run(home, "bench", "tune", "--strategy", s, "--trials", "2", "--quick", *TINY)
        for s in ("naive", "replay")
    }


def test_tune_searches_the_space_from_the_defaults_on_validation(home, tuned):
    from bench.tune import SPACES, defaults, load_tuned

    for name, rec in tuned.items():
        assert rec["trials"] == 2 and len(rec["history"]) == 2
        assert rec["history"][0]["params"] == defaults(name)  # the defaults are trial 0
        assert set(rec["best_params"]) == set(SPACES[name])
        assert rec["best_valid_acc"] >= rec["default_valid_acc"]
        assert rec["best_valid_acc"] == max(h["valid_acc"] for h in rec["history"])
        assert rec["dev"]["order"] == "dev" and rec["dev"]["seeds"] == [100]
        assert load_tuned(home, name)["best_params"] == rec["best_params"]
    space = SPACES["replay"]
    for h in tuned["replay"]["history"]:
        assert all(space[k][1] <= v <= space[k][2] for k, v in h["params"].items())


@pytest.mark.slow
def test_goal_stream_table_with_tuned_parameters_and_noise_study(home, tuned):
    res = run(
        home,
        *("bench", "continual", "--stream", "goals", "--quick", *TINY, "--workers", "1"),
        *("--seeds", "0,1", "--strategies", "naive,replay", "--noise", "0,0.3", "--tuned"),
    )
    st = res["settings"]
    assert st["stream"] == "goals" and len(st["families"]) == 9 and st["noise"] == [0.0, 0.3]
    assert st["params"] == {n: tuned[n]["best_params"] for n in ("naive", "replay")}
    facts = st["data"]
    assert 0.3 <= facts["test_unseen_share"] <= 0.7
    assert 0 <= facts["test_verbatim_in_training"] < 1
    ex = list(facts["experiences"].values())
    assert ex[0]["trains_from"] == "train" and ex[0]["wrong_labels"] == {}
    for e in ex[1:]:
        w = e["wrong_labels"]
        assert e["trains_from"] == "corrections"
        assert w["position"] + w["orientation"] == round(0.3 * w["rows"])
    s = res["strategies"]
    assert set(s) == {"naive", "replay"} and s["replay"]["runs"] == 2
    for agg in s.values():
        for k in ("acc", "bwt", "fwt", "forgetting"):
            ci = agg[f"{k}_ci"]
            assert len(ci) == 2 and ci[0] <= agg[k] <= ci[1]
        assert agg["final_params"] > 0 and agg["state_mb"] > 0
    assert s["replay"]["state_mb"] > s["naive"]["state_mb"]  # the buffer is memory
    study = res["noise_study"]
    for name in ("naive", "replay"):
        assert study[name]["0"]["vs_clean"] is None
        assert study[name]["0.3"]["vs_clean"]["n"] == 2
    runs = json.loads(Path(res["results"]).read_text())["runs"]
    assert len(runs) == 2 * 2 * 2
    for r in runs:
        assert r["params"] == tuned[r["strategy"]]["best_params"]
        assert r["order"] == "goals-A" and len(r["success"]) == 9
        assert len(r["round_params"]) == len(r["round_state_mb"]) == 9
        assert r["final_split"]["unseen"] and r["final_split"]["seen"]
    table = Path(res["table"]).read_text()
    assert Path(res["table"]).name == "results_goals.md"
    assert "Noise study" in table and "| replay |" in table and "replay.mix=" in table
    assert [Path(p).name for p in res["plots"]] == ["r_matrix_goals_A.png", "acc_curve_goals_A.png"]


def test_tuned_refuses_an_untuned_strategy_and_noise_needs_the_goal_stream(home, tuned):
    msg = fails(
        home,
        *("bench", "continual", "--stream", "goals", "--quick", *TINY),
        *("--strategies", "naive,ewc", "--tuned"),
    )
    assert "'ewc' was not tuned" in msg
    assert fails(home, "bench", "continual", "--noise", "0.1", code=2)
    assert fails(home, "bench", "tune", "--strategy", "nope", "--trials", "1")
