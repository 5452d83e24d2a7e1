"""`bench continual` with the bounds: the multi-task joint bound (one final row of R),
cumulative fine-tuning, validation scores, paired intervals over two seeds, and LoRA's
routing and total parameters, end to end through the command line (tiny sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agent.policy_helpers import run

EMBED_DIM = 384  # the bench builds the full-width network
pytestmark = pytest.mark.usefixtures("fast_embeddings")


@pytest.mark.slow
def test_bench_continual_joint_bound_cumulative_and_paired_intervals(tmp_path):
    res = run(
        tmp_path / "home",
        *("bench", "continual", "--quick", "--n-train", "6", "--n-test", "3"),
        *("--base-steps", "3", "--steps", "2", "--workers", "1", "--seeds", "0,1"),
        *("--strategies", "naive,cumulative,joint,lora", "--sim-episodes", "0", "--no-feedback"),
    )
    s = res["strategies"]
    assert list(s) == ["naive", "cumulative", "joint", "lora"]
    assert res["settings"]["n_valid"] == 3
    joint = s["joint"]
    assert 0 <= joint["acc"] <= 1 and joint["bwt"] is None and joint["fwt"] is None
    for name in ("cumulative", "joint", "lora"):
        vs = s[name]["vs_naive"]["acc"]
        assert vs["n"] == 2 and len(vs["ci"]) == 2 and vs["ci"][0] <= vs["mean"] <= vs["ci"][1]
        assert s[name]["verdict"] in (
            "above naive",
            "not distinguishable from naive",
            "below naive",
        )
    assert s["naive"]["vs_joint"]["acc"]["n"] == 2
    assert all(0 <= x["valid_acc"] <= 1 for x in s.values())
    # measured on the test scenes' instructions (6 training scenes do not hold them all)
    assert 0.5 < s["lora"]["routing_accuracy"] <= 1.0
    assert s["naive"]["routing_accuracy"] is None
    assert s["lora"]["total_params"] > s["naive"]["total_params"] > s["lora"]["trainable_params"]
    runs = json.loads(Path(res["results"]).read_text())["runs"]
    families = res["settings"]["families"]
    for r in runs:
        rows = 1 if r["strategy"] == "joint" else len(families)
        assert len(r["success"]) == len(r["valid_success"]) == rows
    joint_runs = [r for r in runs if r["strategy"] == "joint"]
    assert [r["train_seconds"] != [] for r in joint_runs] == [True, True]
    table = Path(res["table"]).read_text()
    assert "| joint |" in table and "| cumulative |" in table and "ACC - naive [95% CI]" in table
    assert [Path(p).name for p in res["plots"]] == ["r_matrix_A.png", "acc_curve_A.png"]
