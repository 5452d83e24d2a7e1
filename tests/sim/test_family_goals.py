"""Every family's goal (`Task.is_success`, judged by `sim.goals`) agrees with its former
success check (`legacy_success`) on the states an episode really reaches.

Three kinds of end state per family, each judged by both checks:
(a) do-nothing: the scene right after reset, for DO_NOTHING_SEEDS seeds;
(b) oracle runs: the state after every oracle action (the loop of
    `sim.runner.run_oracle`), for ORACLE_SEEDS seeds; the oracle must also succeed on
    at least 95% of them;
(c) random actions: `random_actions(seed)` seeded random primitives (1 or 2) per seed,
    for RANDOM_SEEDS seeds, the state judged after each: mostly a pick-and-place of a random
    block onto a random object (its center give or take about a centimeter, sometimes
    turned) or to a random workspace spot, sometimes a bare pick that leaves it held.

Budget. 50 seeds per family for each kind (the issue's bar): 50 do-nothing states, 50
seeds of 1 or 2 random actions (75 per family) and 50 oracle episodes per family, judged
after every action: 3 min 21 s on 2 quiet cores (hence `slow`; up to 4 worker
processes). `SKILLGROVE_GOALS_FULL=1` adds 150 more random seeds with 3 actions each.
Random actions found every disagreement so far; the oracle episodes found none.

The full sweep, SKILLGROVE_GOALS_FULL=1 (50 oracle seeds, 200 random seeds x 3 actions:
about 13,800 states, ~12 min on 2 cores), found, before the fixes in
`sim.goals.predicates.support`: a block tipped over in a bowl, or standing on a block
tipped over in it, was not `in` the bowl (its pose's z is not its lowest point); and one
accepted difference (`legacy_success.ACCEPTED`): `clear` no longer asks the blocks to
stay inside the workspace.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pytest

from sim.families import FAMILIES
from sim.goals import Body, State, evaluate

FULL = os.environ.get("SKILLGROVE_GOALS_FULL") == "1"
DO_NOTHING_SEEDS = range(50)
RANDOM_SEEDS = range(200) if FULL else range(50)

ORACLE_SEEDS = range(50)
CHUNK = 5  # seeds per job: small jobs keep both cores busy to the end
MODES = ("nothing", "oracle", "random")

_WORLD = None  # one World per worker process


def random_actions(seed: int) -> int:
    """How many random actions the episode of `seed` takes: 1 or 2 (3 in the full sweep)."""
    return 3 if FULL else 1 + seed % 2


@dataclass
class Outcome:
    """What one job saw: states judged, where the checks disagreed, oracle results."""

    states: int = 0
    true: int = 0  # states where both checks say success
    disagreements: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # explained by legacy_success.ACCEPTED
    episodes: int = 0
    solved: int = 0
    seconds: float = 0.0

    def add(self, other: Outcome) -> None:
        self.states += other.states
        self.true += other.true
        self.disagreements += other.disagreements
        self.accepted += other.accepted
        self.episodes += other.episodes
        self.solved += other.solved
        self.seconds += other.seconds


def _world():
    global _WORLD
    if _WORLD is None:
        from sim.world import World

        _WORLD = World()
    return _WORLD


def _judge(task, legacy, where: str, out: Outcome) -> None:
    from sim.goals import evaluate
    from tests.sim.legacy_success import ACCEPTED

    old = bool(legacy(task))
    verdict = evaluate(task.goal, task.state())
    out.states += 1
    out.true += int(old and verdict.value)
    if old != verdict.value:
        if task.family in ACCEPTED and ACCEPTED[task.family](task) == verdict.value:
            out.accepted.append(f"{task.family} {where}: legacy {old}, goal {verdict.value}")
            return
        poses = "; ".join(
            f"{b.description} at ({b.pose[0]:.4f}, {b.pose[1]:.4f}, {b.pose[2]:.4f}) "
            f"yaw {math.degrees(b.pose[3]):.1f} tilt {math.degrees(b.tilt):.1f}"
            + (" held" if b.held else "")
            for b in task.state().bodies
        )
        atoms = "; ".join(a.line() for a in verdict.atoms)
        out.disagreements.append(
            f"{task.family} {where}: legacy {old}, goal {verdict.value} ({task.goal.text}): "
            f"{atoms} | {poses}"
        )


def random_action(task, rng: np.random.Generator):
    """A seeded random primitive on the task's scene (see the module docstring)."""
    from sim.tasks.base import WORKSPACE, Action

    objects = task.world.objects
    movers = [o for o in objects if o.shape.graspable]
    obj = movers[int(rng.integers(len(movers)))]
    r = rng.random()
    if r < 0.1:
        return Action("pick", task.pick_pose(obj))
    turn = float(rng.uniform(-math.pi / 4, math.pi / 4)) if rng.random() < 0.5 else 0.0
    others = [o for o in objects if o is not obj]
    if r < 0.55:
        o = others[int(rng.integers(len(others)))]
        xy = task.xy(o) + rng.normal(0.0, 0.012, 2)
        return task.move(obj, xy, task.z(o) + o.shape.surface, turn=turn)
    (x0, x1), (y0, y1) = WORKSPACE
    return task.move(obj, (rng.uniform(x0, x1), rng.uniform(y0, y1)), 0.0, turn=turn)


def run_job(family: str, mode: str, seeds: list[int]) -> tuple[str, str, Outcome]:
    """Judge every end state of `mode` episodes of `family` on `seeds` (in a worker)."""
    from sim.env import execute
    from sim.errors import SimError
    from sim.runner import reset_task
    from tests.sim.legacy_success import SUCCESS

    t0 = time.perf_counter()
    world, legacy, out = _world(), SUCCESS[family], Outcome()

    def act(action) -> None:
        with contextlib.suppress(SimError):  # e.g. out of reach: goes on, as in run_oracle
            execute(world, action)
        world.settle(max_steps=120)

    for seed in seeds:
        task = reset_task(world, family, seed)
        _judge(task, legacy, f"seed {seed} at reset", out)
        if mode == "oracle":
            n = 0
            while n < task.max_actions and not task.is_success():
                action = task.oracle()
                if action is None:
                    break
                act(action)
                n += 1
                _judge(task, legacy, f"seed {seed} after oracle action {n}", out)
            out.episodes += 1
            out.solved += int(task.is_success())
        elif mode == "random":
            rng = np.random.default_rng([seed, 2024])
            for k in range(random_actions(seed)):
                act(random_action(task, rng))
                _judge(task, legacy, f"seed {seed} after random action {k + 1}", out)
    out.seconds = time.perf_counter() - t0
    return family, mode, out


def _jobs() -> list[tuple[str, str, list[int]]]:
    seeds = {"nothing": list(DO_NOTHING_SEEDS), "oracle": list(ORACLE_SEEDS)}
    seeds["random"] = list(RANDOM_SEEDS)
    jobs = [
        (family, mode, seeds[mode][i : i + CHUNK])
        for mode in ("oracle", "random", "nothing")  # the long ones first
        for family in FAMILIES
        for i in range(0, len(seeds[mode]), CHUNK)
    ]
    return jobs


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], Outcome]:
    """Every job, run on up to 4 worker processes (each with its own simulator)."""
    workers = max(1, min(4, len(os.sched_getaffinity(0))))
    results = {(f, m): Outcome() for f in FAMILIES for m in MODES}
    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")  # a fresh process: no simulator or threads inherited
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        for family, mode, out in pool.map(run_job, *zip(*_jobs(), strict=True)):
            results[family, mode].add(out)
    total = sum(r.states for r in results.values())
    accepted = [a for r in results.values() for a in r.accepted]
    print(f"\n{total} states judged in {time.perf_counter() - t0:.0f} s on {workers} workers;")
    print(f"{len(accepted)} accepted differences (legacy_success.ACCEPTED)", *accepted, sep="\n")
    for mode in MODES:
        states = sum(results[f, mode].states for f in FAMILIES)
        print(f"{mode}: {states} states, {sum(results[f, mode].seconds for f in FAMILIES):.0f} s")
    return results


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_goal_agrees_with_legacy_success(outcomes, family, mode):
    out = outcomes[family, mode]
    least = {
        "nothing": len(DO_NOTHING_SEEDS),
        "oracle": 2 * len(ORACLE_SEEDS),  # the start and at least one action each
        "random": sum(1 + random_actions(s) for s in RANDOM_SEEDS),
    }
    assert out.states >= least[mode]
    assert not out.disagreements, "\n".join(out.disagreements[:5])
    if mode == "nothing":
        assert out.true == 0, "a scene starts solved"


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_oracle_reaches_the_goal(outcomes, family):
    out = outcomes[family, "oracle"]
    assert out.episodes == len(ORACLE_SEEDS)
    assert out.solved >= 0.95 * out.episodes, f"{family}: {out.solved}/{out.episodes}"


# -- the disagreements found, fixed in the goal language (fast: no simulator) ---------------
def _bowl_state(*bodies: Body) -> State:
    return State((Body("yellow bowl", "yellow", "bowl", (0.622, 0.1609, 0.0, 0.0)), *bodies))


def test_a_block_tipped_over_in_a_bowl_is_in_it():
    # put-in-bowl, a random action: the cylinder lies on its side in the bowl (its pose's
    # z, the center of its bottom face, is 2 cm above the bowl's floor)
    lying = Body("cyan cylinder", "cyan", "cylinder", (0.6, 0.17, 0.028, 0.0), math.radians(90))
    assert evaluate("in(cyan cylinder, yellow bowl)", _bowl_state(lying)).value
    # upright at that height with nothing under it, it is falling: not in the bowl yet
    falling = Body("cyan cylinder", "cyan", "cylinder", (0.6, 0.17, 0.028, 0.0))
    assert not evaluate("in(cyan cylinder, yellow bowl)", _bowl_state(falling)).value


def test_a_block_on_a_tipped_block_in_a_bowl_is_in_it():
    # put-in-bowl seed 131 after 3 random actions (SKILLGROVE_GOALS_FULL=1): the green cube
    # stands on the purple cube, which lies on its side in the bowl (its top at 4.8 cm)
    deg = math.radians
    tipped = Body("purple cube", "purple", "cube", (0.6308, 0.212, 0.028, deg(-16.8)), deg(90))
    on_it = Body("green cube", "green", "cube", (0.6458, 0.2062, 0.0495, deg(19.9)), deg(3.1))
    assert evaluate("in(green cube, yellow bowl)", _bowl_state(tipped, on_it)).value
    high = Body("green cube", "green", "cube", (0.6458, 0.2062, 0.0495, 0.0))
    assert not evaluate("in(green cube, yellow bowl)", _bowl_state(high)).value  # nothing under it
