"""Grasps learned per kind of object: tried when the default fails, judged by the simulator,
remembered in the data home by the parent, tried first the next time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.goals import check, evaluate, read_world, start_poses
from sim.scenes import build_scene
from skills.grasps import GraspMemory
from skills.robot import Robot

GOAL = "on(red bracket, yellow plate)"
OBJECTS = "red bracket, yellow plate"
WRONG = {"yaw_deg": 0.0, "dx": 0.03, "dy": 0.03, "dz": 0.02}  # over the L's empty corner
PUT = """
def put(robot):
    robot.place_on(robot.find("red bracket"), robot.find("yellow plate"))
"""


def _episode(world, seed: int, known=None):
    """Put the bracket on the plate in scene `seed`: (goal held, grasp outcomes, motions)."""
    build_scene(world, OBJECTS, np.random.default_rng(seed), goal=GOAL)
    start = start_poses(world)
    robot = Robot(world, start=start, grasps=known)
    robot.place_on(robot.find("red bracket"), robot.find("yellow plate"))
    state = read_world(world, start)
    return evaluate(check(GOAL, state), state).value, robot._grasper.outcomes, robot._motions


def test_a_failed_default_grasp_is_learned_and_tried_first_next_time(world, tmp_path):
    memory = GraspMemory(tmp_path)
    ok, tried, _ = _episode(world, 11, memory.known())
    # the bracket's default grasp (its footprint's centre, between its arms) does not hold;
    # a candidate from its geometry does, and the goal is reached
    assert ok and tried[0]["source"] == "default" and not tried[0]["held"]
    assert tried[-1]["source"] == "candidate" and tried[-1]["held"]
    assert memory.record(tried) == 1
    learned = memory.known()["bracket"]
    assert len(learned) == 1
    # another scene, without memory: the default fails there too ...
    ok, cold, cold_motions = _episode(world, 12)
    assert ok and cold[0] == {**cold[0], "source": "default", "held": False}
    # ... with it, the remembered grasp is tried first and holds at once
    ok, warm, warm_motions = _episode(world, 12, memory.known())
    assert ok and len(warm) == 1, warm
    assert warm[0]["source"] == "memory" and warm[0]["held"]
    assert warm_motions < cold_motions
    memory.record(warm)
    assert memory.rows("bracket")[0]["held"] == 2 and memory.rows("bracket")[0]["missed"] == 0


def test_catalogue_kinds_keep_their_one_grasp(world):
    from sim.runner import reset_task

    reset_task(world, "stack", 3)
    robot = Robot(world, grasps={"cube": [{"yaw_deg": 45, "dx": 0.01, "dy": 0, "dz": 0.02}]})
    robot.pick(robot.find("red cube"))
    assert robot.holding().description == "red cube"
    assert robot._grasper.outcomes == []  # neither tried from memory nor recorded


def test_the_memory_keeps_what_held_and_drops_what_misses(tmp_path):
    memory = GraspMemory(tmp_path)
    assert memory.rows() == [] and memory.known() == {}
    good = {"kind": "mug", "grasp": {"yaw_deg": 90, "dx": 0.0, "dy": -0.01, "dz": 0.05}}
    junk = [
        "held",
        {"kind": "cube", "grasp": good["grasp"], "held": True},  # a catalogue kind
        {"kind": "sofa", "grasp": good["grasp"], "held": True},
        {"kind": "mug", "grasp": {"yaw_deg": "x"}, "held": True},
        {"kind": "mug", "grasp": {**good["grasp"], "dx": 5.0}, "held": True},  # off the object
        {"kind": "mug", "grasp": good["grasp"], "held": "yes"},
    ]
    assert memory.record(junk) == 0 and memory.record("nonsense") == 0
    assert memory.record([good | {"held": False}]) == 0  # a miss alone is not remembered
    assert memory.record([good | {"held": True}, good | {"held": True}]) == 2
    assert memory.known() == {"mug": [{"yaw_deg": 90.0, "dx": 0.0, "dy": -0.01, "dz": 0.05}]}
    memory.record([good | {"held": False}] * 3)  # it kept missing: no longer offered
    assert memory.rows()[0]["held"] == 2 and memory.rows()[0]["missed"] == 3
    assert memory.known() == {}
    assert memory.forget("mug") == 1 and memory.rows() == []


def misremembered(tmp_path):
    """(a memory holding one wrong bracket grasp, the scene where it misses as JSON)."""
    from sim.world import World

    world = World()
    try:
        layout = build_scene(world, OBJECTS, np.random.default_rng(11), goal=GOAL)
    finally:
        world.close()
    memory = GraspMemory(tmp_path)
    memory.record([{"kind": "bracket", "grasp": WRONG, "held": True}])
    return memory, layout.to_json()


def assert_corrected(memory) -> None:
    """The wrong grasp went with the request, was tried first and missed (counted); the
    grasp that held was reported back and written by this (the parent) process."""
    rows = {json.dumps(r["grasp"], sort_keys=True): r for r in memory.rows("bracket")}
    assert rows.pop(json.dumps(WRONG, sort_keys=True))["missed"] == 1
    assert [r["held"] for r in rows.values()] == [1]


def test_the_sandbox_sends_the_memory_and_the_parent_writes_what_the_run_reports(tmp_path):
    from skills.sandbox import SandboxPool

    memory, scene = misremembered(tmp_path)
    with SandboxPool(workers=1, grasps=memory) as pool:
        res = pool.run(PUT, "put", None, 0, {}, 60, scene=scene, goal=GOAL)
    assert res.status == "ok" and res.success, res.reason
    assert_corrected(memory)


def test_skills_grasps_lists_them(tmp_path, capsys):
    from agent.cli import main

    home = tmp_path / "home"
    GraspMemory(home).record(
        [{"kind": "duck", "grasp": {"yaw_deg": 0, "dx": 0, "dy": 0, "dz": 0.03}, "held": True}]
    )
    assert main(["--home", str(home), "skills", "grasps", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["held"], r["missed"]) for r in out["grasps"]] == [("duck", 1, 0)]
    assert main(["--home", str(home), "skills", "grasps", "--kind", "cube", "--json"]) == 1
    assert "no grasps are learned for 'cube'" in json.loads(capsys.readouterr().out)["error"]
    assert main(["--home", str(home), "skills", "grasps", "--forget", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"forgotten": 1}
    assert GraspMemory(home).rows() == []


@pytest.mark.parametrize("bad", [None, [], {"mug": "x"}, {"mug": [{"yaw_deg": "nan"}]}])
def test_a_request_without_usable_grasps_means_none(bad):
    from skills.grasps import Grasper

    assert Grasper(bad).known == {}
