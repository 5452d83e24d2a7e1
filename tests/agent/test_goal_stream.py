"""The open-world goal stream (agent/policy/goal_stream.py): experiences of goal templates
with held-out test combinations, the goal-holding proxy, wrong correction labels, and
strategy hyperparameters passed to the plugins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent.errors import AgentError
from agent.policy import goal_stream as gs
from agent.policy.goal_data import HELD_OUT_RELATIONS, held_out
from agent.policy.splits import SCENE_RANGES
from tests.agent.policy_helpers import SPEC


@pytest.fixture(scope="module")
def render_world():
    from sim.world import World

    w = World(image_size=(SPEC.render, SPEC.render))
    yield w
    w.close()


@pytest.fixture(scope="module")
def sets(render_world):
    """Rows of two groups: training (demonstrations, corrections) and test."""
    out = {}
    for group in ("front-behind", "rotate"):
        for use, n in (("train", 8), ("corrections", 8), ("test", 8)):
            out[group, use] = gs.make_group_set(group, use, n, SPEC, render_world)
    return out


def test_stream_has_at_least_eight_experiences_and_a_dev_order():
    assert len(gs.GROUPS) >= 8
    assert sorted(gs.GOAL_ORDERS["dev"]) == sorted(gs.GOAL_ORDERS["A"]) == sorted(gs.GROUPS)
    assert gs.GOAL_ORDERS["dev"][0] != gs.GOAL_ORDERS["A"][0]  # another base, another order
    trained = [r for t, _ in gs.GROUPS.values() for r in t]
    assert len(trained) == len(set(trained))  # no relation in two experiences
    test_only = {r for _, h in gs.GROUPS.values() for r in h}
    assert test_only == set(HELD_OUT_RELATIONS) and not test_only & set(trained)
    assert len(gs.GROUPS) * gs.BLOCK <= len(SCENE_RANGES["valid"])


def test_rows_come_from_their_groups_block_and_hold_out_combinations(sets):
    for (group, use), s in sets.items():
        k = list(gs.GROUPS).index(group)
        trained, test_only = gs.GROUPS[group]
        rng = SCENE_RANGES[use]
        lo = rng.start + 2 * k * gs.BLOCK
        assert all(lo <= int(x) < lo + 2 * gs.BLOCK and int(x) in rng for x in s.samples.seed)
        relations = set(map(str, s.samples.family))
        if use == "test":
            assert relations <= set(trained + test_only)
            assert s.unseen.any() and (~s.unseen).any()
        else:  # training rows never show a held-out combination
            assert relations <= set(trained) and not s.unseen.any()
        for rel, obj, unseen in zip(s.samples.family, s.obj, s.unseen, strict=True):
            color, shape = str(obj).split(" ", 1)
            assert held_out(color, shape, str(rel)) == bool(unseen)
    for group in ("front-behind", "rotate"):
        train = set(map(str, sets[group, "train"].instruction))
        train |= set(map(str, sets[group, "corrections"].instruction))
        test = sets[group, "test"]
        assert not {str(p) for p, u in zip(test.instruction, test.unseen, strict=True) if u} & train


class _Replay:
    """A policy that answers each row's labels (the expert's poses, or wrong ones)."""

    spec = SPEC

    def __init__(self, samples):
        self.s = samples

    def predict_many(self, rgb, depth, instructions, primitives=None):
        from agent.policy.policy import Prediction

        return [
            Prediction(tuple(pk), tuple(pl), float(pl[3] - pk[3]), None, None)
            for pk, pl in zip(self.s.pick, self.s.place, strict=True)
        ]


def test_goal_proxy_passes_the_expert_and_fails_wrong_positions(sets):
    for group in ("front-behind", "rotate"):
        s = sets[group, "test"]
        res = s.evaluate(_Replay(s.samples))
        assert res["success"] == 1.0 and res["pos_cm"] < 1e-6 and res["rot_deg"] < 1e-3
        assert res["seen"] == 1.0 and res["unseen"] == 1.0
    s = sets["front-behind", "corrections"]
    wrong, counts = gs.corrupt(s, 0.5, seed=3)
    assert counts == {"position": 2, "orientation": 2, "rows": len(s)}
    # a placement on another object's spot breaks "in front of" (orientation does not)
    got = s.evaluate(_Replay(wrong))["success"]
    assert got <= 1 - counts["position"] / len(s)
    s = sets["rotate", "corrections"]
    wrong, counts = gs.corrupt(s, 0.5, seed=3)
    assert s.evaluate(_Replay(wrong))["success"] <= 1 - counts["orientation"] / len(s)


def test_corrupt_changes_exactly_the_share_and_only_the_placement(sets):
    s = sets["front-behind", "corrections"]
    clean, none = gs.corrupt(s, 0.0, seed=0)
    assert none == {"position": 0, "orientation": 0, "rows": len(s)}
    assert np.array_equal(clean.place, s.samples.place)
    wrong, counts = gs.corrupt(s, 0.3, seed=1)
    assert counts["position"] + counts["orientation"] == round(0.3 * len(s))
    changed = np.flatnonzero((wrong.place != s.samples.place).any(1))
    assert len(changed) == round(0.3 * len(s))
    assert np.array_equal(wrong.pick, s.samples.pick) and np.array_equal(wrong.rgb, s.samples.rgb)
    for i in changed:
        a, b = wrong.place[i], s.samples.place[i]
        if not np.allclose(a[:2], b[:2]):  # a wrong position: another object's spot
            assert a[3] == b[3]
        else:  # a wrong orientation: off by >= 3 bins of 5 degrees, modulo 90
            d = math.degrees(abs(math.remainder(float(a[3] - b[3]), math.pi / 2)))
            assert d >= 15 - 1e-3
    assert np.array_equal(gs.corrupt(s, 0.3, seed=1)[0].place, wrong.place)  # drawn by seed
    with pytest.raises(AgentError):
        gs.corrupt(s, 1.0, seed=0)


def test_strategy_parameters_reach_the_plugins_and_memory_is_measured():
    from agent.policy.stream import make_plugins, state_mb
    from tests.agent.policy_helpers import tiny_model

    (replay,) = make_plugins("replay", {"lr": 1e-3, "replay.mix": 0.1, "replay.capacity": 7})
    assert replay.mix == 0.1 and replay.buffer.capacity == 7
    plugins = make_plugins("replay+lwf", {"lwf.weight": 2.0})
    assert [type(p).__name__ for p in plugins] == ["Replay", "LwF"] and plugins[1].weight == 2.0
    with pytest.raises(AgentError, match="belongs to no plugin"):
        make_plugins("replay", {"ewc.lam": 1.0})
    with pytest.raises(AgentError, match="bad parameters"):
        make_plugins("replay", {"replay.nope": 1.0})
    model = tiny_model()
    weights = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    assert state_mb([], model) >= weights > 0
    from agent.policy.strategies.lwf import LwF

    lwf = LwF()
    import copy

    lwf.teacher = copy.deepcopy(model)  # a teacher copy is memory the strategy holds
    assert state_mb([lwf], model) >= 2 * weights
    assert state_mb([lwf], model) == pytest.approx(state_mb([], model) + state_mb([], lwf.teacher))


def test_tune_space_defaults_are_inside_their_ranges():
    from bench.tune import SPACES, defaults, space_of

    for name, space in SPACES.items():
        d = defaults(name)
        for key, (_kind, low, high, *_log) in space.items():
            assert low <= d[key] <= high, (name, key)
    assert set(space_of("replay+lwf")) == set(SPACES["replay"]) | set(SPACES["lwf"])
    with pytest.raises(AgentError):
        space_of("nope")
