"""`bench continual --executor ray`: the bases and the (strategy x seed x order) cells as
Ray tasks, one CPU (one torch thread) each.

This process (the driver) keeps every file: it reads cached results and skips their
cells, saves each base a task hands back, sends each cell its base's bytes (once per base
through Ray's object store), and caches each result a cell returns. A worker node needs
no shared disk: when the data home is not at the same path there, the task renders the
demonstrations into a node-local cache (seeded, so the same scenes) and writes no loss
curve. Same config, same figures as the local pool (`tests/agent/test_ray_bench.py`).
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from agent.errors import AgentError
from bench.continual_runs import (
    base_label,
    result_path,
    strategy_run,
    train_base_state,
    write_result,
)
from skills.errors import SkillError

TASK_RETRIES = 2  # a cell whose worker process died runs again (cells are pure)


def _on_this_node(args: dict) -> dict:
    """`args` with a node-local home when the driver's is not at the same path here."""
    if Path(args["home"]).is_dir():
        return args
    home = Path(tempfile.gettempdir()) / "skillgrove-bench-home"
    home.mkdir(parents=True, exist_ok=True)
    return {**args, "home": str(home), "logdir": None}


def _cell(args: dict, base: bytes) -> dict:
    return strategy_run(_on_this_node(args), io.BytesIO(base))


def _base(args: dict) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(train_base_state(_on_this_node(args)), buf)
    return buf.getvalue()


class RayCells:
    """Runs the benchmark's bases and cells on a Ray cluster.

    Args:
        address: the head's HOST:PORT (None: a Ray started in this process).
        workers: tasks at once (default: every CPU of the cluster; more is an error).

    Raises:
        AgentError: no `ray`, no cluster at `address`, or too many workers (one line).
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        from agent.evaluate.ray_executor import cluster_workers, connect

        try:
            self._ray = connect(address)
            self.workers = cluster_workers(self._ray, workers, "each cell takes one")
        except SkillError as exc:
            raise AgentError(str(exc)) from None
        self.address = address
        opts = {"num_cpus": 1, "max_retries": TASK_RETRIES}
        self._cell = self._ray.remote(**opts)(_cell)
        self._base = self._ray.remote(**opts)(_base)

    def describe(self) -> str:
        return f"{self.workers} Ray worker(s)"

    def train_bases(self, todo: list[dict], say) -> None:
        """Train the bases of `todo` on the cluster and save each at its "base" path."""
        import torch

        def save(args: dict, data: bytes) -> None:
            path = Path(args["base"])
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            torch.load(tmp, weights_only=True)  # a corrupt transfer fails here, not later
            tmp.replace(path)
            say(f"trained {base_label(args)}")

        self._map(self._base, [(j, ()) for j in todo], save)

    def run(self, jobs: list[dict], say) -> list[dict]:
        """Every cell of `jobs` in job order: cached results read here, the others run on
        the cluster and cached here."""
        out: list = [None] * len(jobs)
        todo, bases = [], {}
        for i, j in enumerate(jobs):
            cached = result_path(j)
            if cached.exists():
                out[i] = json.loads(cached.read_text())
                say(f"done {j['label']}")
                continue
            if j["base"] not in bases:
                bases[j["base"]] = self._ray.put(Path(j["base"]).read_bytes())
            todo.append(({**j, "index": i}, (bases[j["base"]],)))

        def keep(args: dict, res: dict) -> None:
            write_result(result_path(args), res)
            out[args["index"]] = res
            say(f"done {args['label']}")

        self._map(self._cell, todo, keep)
        return out

    def _map(self, fn, calls: list[tuple[dict, tuple]], done) -> None:
        """`fn.remote(args, *extra)` for each call, at most `workers` at once; `done(args,
        result)` in this process as each one finishes."""
        ray, calls, running = self._ray, list(calls), {}
        while calls or running:
            while calls and len(running) < self.workers:
                args, extra = calls.pop(0)
                running[fn.remote(args, *extra)] = args
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                args = running.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    for r in running:
                        ray.cancel(r)
                    cause = getattr(exc, "cause", None) or exc
                    line = (str(cause).strip().splitlines() or [type(cause).__name__])[-1]
                    raise AgentError(f"a Ray task of bench continual failed: {line}") from None
                done(args, result)
