"""The benchmarks on the session's Ray cluster (`tests/ray_cluster.py`): `bench continual`
gives the local figures, and reads and writes its cache in the driver; `bench sim` runs
its episodes on World actors and reports; options Ray cannot honour are usage errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("ray")

from agent.cli import main  # noqa: E402
from bench.continual import run_continual_bench  # noqa: E402
from bench.continual_ray import RayCells, _on_this_node  # noqa: E402
from bench.continual_report import MEASURED as TIMES  # noqa: E402 - the only figures allowed to differ
from skills.embed import HashEmbedder  # noqa: E402

TINY = {"n_train": 6, "n_test": 3, "base_steps": 3, "steps": 2, "sim_episodes": 0}


def figures(runs: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMES} for r in runs]


def bench(home: Path, cluster=None) -> tuple[dict, list[dict]]:
    res = run_continual_bench(
        home,
        True,
        strategies=("naive", "replay"),
        workers=1,
        feedback=False,
        embedder=HashEmbedder(384),  # the full-width network, without loading MiniLM
        overrides=TINY,
        cluster=cluster,
    )
    return res, json.loads(Path(res["results"]).read_text())["runs"]


def test_bench_continual_on_ray_gives_the_local_figures_and_caches_here(ray_address, tmp_path):
    local_home, ray_home = tmp_path / "local", tmp_path / "ray"
    want, want_runs = bench(local_home)
    shutil.copytree(local_home, ray_home)  # the rendered demonstrations, not the runs:
    shutil.rmtree(ray_home / "policy" / "bench")  # the bases and cells run on Ray
    cells = RayCells(ray_address)
    assert cells.workers == 2  # every CPU of the cluster
    got, got_runs = bench(ray_home, cells)
    assert len(got_runs) == 2 and figures(got_runs) == figures(want_runs)
    strip = lambda s: {n: {k: v for k, v in m.items() if k not in TIMES} for n, m in s.items()}  # noqa: E731
    assert strip(got["strategies"]) == strip(want["strategies"])
    base = list((ray_home / "policy" / "bench").glob("base-*.pt"))
    cached = sorted((ray_home / "policy" / "bench" / "runs").glob("*.json"))
    assert len(base) == 1 and len(cached) == 2  # saved by this process
    # a second run reads the cached results here and runs no cell
    marked = json.loads(cached[0].read_text())
    marked["success"][-1][0] = 0.123
    cached[0].write_text(json.dumps(marked))
    _, again = bench(ray_home, cells)
    assert sum(r["success"][-1][0] == 0.123 for r in again) == 1


def test_a_cell_on_a_node_without_the_home_uses_a_node_local_one(tmp_path):
    here = {"home": str(tmp_path), "logdir": str(tmp_path / "tb")}
    assert _on_this_node(here) == here
    away = _on_this_node({"home": str(tmp_path / "elsewhere"), "logdir": "x"})
    assert away["home"] != str(tmp_path / "elsewhere") and away["logdir"] is None
    assert Path(away["home"]).is_dir()


def test_bench_sim_runs_its_episodes_on_the_cluster(ray_address, tmp_path, capsys, monkeypatch):
    import bench.sim_ray

    monkeypatch.setattr(bench.sim_ray, "FAMILIES", ("pick", "place", "stack"))  # fewer episodes
    code = main(
        ["--home", str(tmp_path), "bench", "sim", "--episodes-per-family", "1", "--json"]
        + ["--executor", "ray", "--ray-address", ray_address]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    res = json.loads(out)
    assert res["executor"] == "ray" and res["parallel_workers"] == 2 and res["cpus"] == 2
    assert res["oracle_success_rate"] == 1.0 and res["episodes"] == res["parallel_episodes"] == 3
    assert 0 < res["overhead_ratio"] < 1 and res["episodes_per_s_1"] > 0
    assert res["parallel_speedup"] > 0


@pytest.mark.parametrize(
    "args, needle",
    [
        (("bench", "continual", "--ray-address", "ADDR"), "--ray-address needs --executor ray"),
        (("bench", "sim", "--ray-address", "ADDR"), "--ray-address needs --executor ray"),
        (("run", "pick up the red cube", "--ray-address", "ADDR"), "needs --executor ray"),
        (
            ("bench", "continual", "--quick", "--executor", "ray", "--workers", "3"),
            "more than the Ray cluster's 2 CPUs",
        ),
    ],
)
def test_options_ray_cannot_honour_are_usage_errors(ray_address, tmp_path, capsys, args, needle):
    home = tmp_path / "home"
    args = tuple(ray_address if a == "ADDR" else a for a in args)
    if "--workers" in args:
        args = (*args, "--ray-address", ray_address)
    code = main(["--home", str(home), *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and needle in json.loads(out)["error"], out + err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (home / "policy").exists()
