"""skillgrove/Goal-v0: gymnasium API, seeded scenes where the goal is false, and the goal
judged on the simulator's state after each primitive."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim
from sim.errors import SimError
from sim.goal_env import GoalEnv, move_action
from sim.goals import atoms
from sim.goals.solve import sample_layout
from sim.tasks.base import Action

OBJECTS = "red cube, green cube, blue plate, yellow bowl"
GOAL = "on(red cube, blue plate) and left_of(green cube, red cube)"


@pytest.fixture(scope="module")
def env():
    e = gym.make(sim.GOAL_ENV_ID, goal=GOAL, objects=OBJECTS, obs_mode="state")
    yield e
    e.close()


def test_registered_beside_the_families():
    assert sim.GOAL_ENV_ID == "skillgrove/Goal-v0"
    assert len(sim.ENV_IDS) == 14 and sim.GOAL_ENV_ID not in sim.ENV_IDS
    assert [*sim.ENV_IDS, sim.GOAL_ENV_ID] == sim.ALL_ENV_IDS
    assert sim.GOAL_ENV_ID in gym.registry


def test_check_env():
    e = gym.make(
        sim.GOAL_ENV_ID,
        goal="in(red cube, blue bowl)",
        obs_mode="state",
        distractors=1,
        objects='["red cube", "blue bowl", "green cube on yellow plate"]',
    )
    try:
        check_env(e.unwrapped, skip_render_check=True)
    finally:
        e.close()


def test_same_spaces_as_the_families(env):
    fam = gym.make("skillgrove/Pick-v0", obs_mode="state")
    try:
        assert env.observation_space == fam.observation_space
        assert env.action_space == fam.action_space
    finally:
        fam.close()


def test_same_seed_same_observation(env):
    obs_a, info_a = env.reset(seed=7)
    obs_b, info_b = env.reset(seed=7)
    obs_c, _ = env.reset(seed=8)
    assert all(np.array_equal(obs_a[k], obs_b[k]) for k in obs_a) and info_a == info_b
    assert not np.array_equal(obs_a["objects"], obs_c["objects"])
    other = GoalEnv(goal=GOAL, objects=OBJECTS, obs_mode="state")  # another world, same scene
    try:
        assert np.array_equal(other.reset(seed=7)[0]["objects"], obs_a["objects"])
    finally:
        other.close()


def test_reset_info_and_the_goal_false_at_the_start(env):
    obs, info = env.reset(seed=2)
    assert info["goal"] == GOAL and info["success"] is False
    assert [a["atom"] for a in info["atoms"]] == [str(a) for a in atoms(env.unwrapped.formula)]
    assert all(set(a) == {"atom", "value", "margin"} for a in info["atoms"])
    assert obs["objects"][:4, 0].tolist() == [1.0, 1.0, 1.0, 1.0] and obs["objects"][4, 0] == 0


def test_reward_when_the_goal_is_reached_with_sampled_placements(env):
    env.reset(seed=3)
    u = env.unwrapped
    state = u.state()
    poses = sample_layout(
        state, list(u.goal.ground.parts), ["red cube", "green cube"], np.random.default_rng(0)
    )
    assert poses is not None
    _, reward, terminated, truncated, info = env.step(
        move_action(u.world, "red cube", poses["red cube"])
    )
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert [a["value"] for a in info["atoms"]] == [True, False]
    _, reward, terminated, truncated, info = env.step(
        move_action(u.world, "green cube", poses["green cube"])
    )
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["success"] and all(a["value"] for a in info["atoms"])


def test_truncated_after_max_actions():
    e = GoalEnv(
        goal="in(red cube, blue bowl)",
        objects="red cube, blue bowl",
        max_actions=1,
        obs_mode="state",
    )
    try:
        e.reset(seed=0)
        nothing = Action("place", (0.5, 0.0, 0.1, 0.0))  # holding nothing: does nothing
        _, reward, terminated, truncated, info = e.step(nothing)
        assert (reward, terminated, truncated) == (0.0, False, True) and not info["success"]
    finally:
        e.close()


def test_objects_default_to_the_ones_the_goal_names_and_rgbd_works():
    e = GoalEnv(goal="left_of(red cube, blue bowl)", image_size=(32, 32))
    try:
        obs, info = e.reset(seed=1)
        assert [o.description for o in e.world.objects] == ["red cube", "blue bowl"]
        assert obs["rgb"].shape == (32, 32, 3) and obs["depth"].shape == (32, 32)
    finally:
        e.close()


def test_refusals():
    with pytest.raises(SimError, match="at most 12 objects"):
        GoalEnv(goal="on(red cube, blue plate)", objects="red cube, blue plate", distractors=11)
    e = GoalEnv(goal="in(green cube, blue bowl)", objects="red cube, blue bowl", obs_mode="state")
    try:
        with pytest.raises(SimError, match="no 'green cube' in the scene"):
            e.reset(seed=0)
        with pytest.raises(SimError, match="reset"):
            e.step(Action("place", (0.5, 0.0, 0.1, 0.0)))
    finally:
        e.close()
