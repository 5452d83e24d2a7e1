"""Every registered family: gymnasium API, seeded layouts, goal (success check), oracle,
determinism; scene building that always finds a scene."""

from __future__ import annotations

import re
from typing import ClassVar

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim
from sim.errors import SimError
from sim.families import FAMILIES, task_class
from sim.goals import atoms, parse
from sim.runner import reset_task, run_oracle
from sim.tasks.base import BUILD_TRIES, WORKSPACE
from sim.tasks.stack import Stack

ORACLE_SEEDS = (11, 12, 13)


def scene_state(world) -> list[tuple]:
    return [(o.description, tuple(np.round(world.pose(o)[0], 6))) for o in world.objects]


@pytest.mark.parametrize("env_id", sim.ENV_IDS)
def test_check_env(env_id):
    env = gym.make(env_id, image_size=(64, 64))
    try:
        check_env(env.unwrapped, skip_render_check=True)
        obs, info = env.reset(seed=3)
        assert obs["rgb"].shape == (64, 64, 3) and obs["depth"].shape == (64, 64)
        assert info["instruction"] and not info["success"]
    finally:
        env.close()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_layout_is_valid_and_not_already_solved(world, family):
    cls = task_class(family)
    (x0, x1), (y0, y1) = WORKSPACE
    for seed in range(8):
        task = reset_task(world, family, seed)
        descs = [o.description for o in world.objects]
        assert len(descs) == len(set(descs)), f"duplicate descriptions {descs}"
        for o in world.objects:
            x, y, z = world.pose(o)[0]
            assert x0 - 0.01 <= x <= x1 + 0.01 and y0 - 0.01 <= y <= y1 + 0.01, (
                o.description,
                x,
                y,
            )
            assert task.upright(o), o.description
        for pt in world.client.getContactPoints():
            if pt[1] != world.table and pt[2] != world.table:
                assert pt[8] > -0.005, "objects interpenetrate"
        assert set(task.params) == set(cls.slots)
        assert task.instruction == cls.template.format(**task.params)
        assert not task.is_success(), f"seed {seed} starts solved"
        assert task.goal is not None and "?" not in task.goal_text()
        assert set(task.start) == {o.body for o in world.objects}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_goal_template_names_the_slots(world, family):
    cls = task_class(family)
    task = reset_task(world, family, 1)
    if family == "sort":  # one in(cube, bowl) per cube, built by goal_text()
        assert {a.pred for a in atoms(parse(task.goal_text()))} == {"in"}
        return
    slots = set(re.findall(r"\?([a-z_]+)", cls.goal_template))
    assert slots == set(cls.slots), cls.goal_template
    text = cls.goal_template
    for k, v in task.params.items():
        text = text.replace(f"?{k}", v)
    assert task.goal_text() == text
    assert task.goal.text == str(parse(text))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_oracle_solves_and_success_check_agrees(world, family):
    for seed in ORACLE_SEEDS:
        ep = run_oracle(world, family, seed)
        assert ep.success, f"{family} seed {seed}: {ep.instruction} ({ep.error})"
        assert ep.actions >= 1


@pytest.mark.parametrize("family", ["stack", "push", "rotate", "tower"])
def test_same_seed_same_layout_and_outcome(world, family):
    first = run_oracle(world, family, 7)
    state_a = scene_state(world)
    run_oracle(world, "pick", 99)  # something else in between
    second = run_oracle(world, family, 7)
    assert scene_state(world) == state_a
    assert (first.success, first.actions, first.steps) == (
        second.success,
        second.actions,
        second.steps,
    )


def test_different_seeds_give_different_layouts(world):
    reset_task(world, "stack", 1)
    a = scene_state(world)
    reset_task(world, "stack", 2)
    assert scene_state(world) != a


def test_env_ids_are_registered_for_their_families():
    assert len(sim.ENV_IDS) == 14
    assert [sim.env_id(f) for f in FAMILIES] == sim.ENV_IDS
    assert [gym.spec(e).kwargs["family"] for e in sim.ENV_IDS] == list(FAMILIES)


# -- scene building never gives up on a seed ------------------------------------------------
# place seeds whose first build found no free spot for a target ("no free spot for a
# orange pad" at seed 463 ended every `skillgrove run "place the red cube on the blue
# plate"`: the seed scan of `Scenes.infer` passes it).
PLACE_SEEDS_WITHOUT_ROOM = (463, 1247, 1380, 2653)


def test_place_builds_a_scene_where_a_target_finds_no_room(world):
    for seed in PLACE_SEEDS_WITHOUT_ROOM:
        task = reset_task(world, "place", seed)
        descs = [o.description for o in world.objects]
        assert task.params["target"] in descs and task.params["obj"] in descs
        assert task.goal_text() == "on({obj}, {target})".format(**task.params)
        assert not task.is_success()


def test_a_build_without_room_is_tried_again(world):
    class Crowded(Stack):
        on_table: ClassVar[list[int]] = []  # objects on the table as each build starts

        def build(self, rng):
            Crowded.on_table.append(len(self.world.objects))
            if len(Crowded.on_table) < 3:
                self.spawn("cube", "red", rng)
                raise SimError("no free spot for a blue cube")
            return super().build(rng)

    world.clear()
    task = Crowded(world)
    task.reset(np.random.default_rng(5))
    assert Crowded.on_table == [0, 0, 0]  # each try on a cleared table
    assert set(task.params) == {"top", "base"}

    class Full(Stack):
        def build(self, rng):
            raise SimError("no free spot for a blue cube")

    world.clear()
    with pytest.raises(SimError, match=f"no scene after {BUILD_TRIES} tries"):
        Full(world).reset(np.random.default_rng(5))


def test_infer_finds_a_place_scene_past_the_seeds_without_room():
    from agent.run.scenes import Scenes

    scenes = Scenes()
    try:
        for target in ("blue plate", "blue tray"):
            family, seed = scenes.infer(f"place the red cube on the {target}", 0)
            assert family == "place" and seed > 463
            params = dict(scenes.scene(family, seed).params)
            assert params["target"] == target
            assert params["obj"] in ("red cube", "red small cube")  # the words may mean either
    finally:
        scenes.close()


def test_infer_skips_a_seed_whose_scene_cannot_be_built(monkeypatch):
    from agent.run.scenes import Scenes

    scenes = Scenes()
    try:
        family, first = scenes.infer("pick up the red cube", 0)
        real = scenes.scene

        def scene(family, seed):
            if seed == first:
                raise SimError("no free spot for a orange pad")
            return real(family, seed)

        monkeypatch.setattr(scenes, "scene", scene)
        family, seed = scenes.infer("pick up the red cube", 0)
        assert family == "pick" and seed > first
        assert dict(scenes.scene(family, seed).params) == {"obj": "red cube"}
    finally:
        scenes.close()
