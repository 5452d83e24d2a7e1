"""Goal-template skills: composed once, proved on scenes made from the template, filed
under the template, found again structurally and reused with new arguments."""

from __future__ import annotations

import pytest

from agent.errors import AgentError
from agent.plan.skills import evaluation_jobs
from sim.errors import SimError
from sim.goals.template import lift
from tests.agent.test_loop import make_agent


def test_a_goal_skill_is_composed_proved_elsewhere_written_back_and_reused(
    tmp_path, executor, scenes
):
    agent = make_agent(tmp_path, executor, scenes)
    first = agent.run("put the red cube to the left of the blue cube", None, 3)
    assert first.success, first.reason
    d = first.decisions[0]
    assert d.decision == "compose" and d.skill == "put_left_of"
    skill = agent.library.get("put_left_of")
    assert skill.goal_template == "left_of(?a, ?b)" and skill.verified
    assert [p.name for p in skill.params] == ["a", "b"]
    # proved on scenes made from the template (then the run added its own episode)
    assert skill.stats["left_of(?a, ?b)"] == (2 + 1, 2 + 1)
    jobs = evaluation_jobs(scenes.world, skill.code, skill.name, 2, 30)
    assert all(j.goal != first.goal and j.scene != list(first.scene) for j in jobs)
    assert all(lift(j.goal).text == "left_of(?a, ?b)" for j in jobs)

    second = agent.run("move the green cube to the left of the yellow bowl", None, 5)
    assert second.success, second.reason
    assert [(x.decision, x.skill) for x in second.decisions] == [("reuse", "put_left_of")]
    assert second.decisions[0].verdicts == ()  # no evaluation: the evidence was there
    assert len(agent.library.history("put_left_of")) == 1

    from fastapi.testclient import TestClient

    from agent.ui.app import create_app
    from tests.agent.test_ui import BASE, FakeQueue

    with TestClient(
        create_app(tmp_path, library=agent.library, corrections=FakeQueue()), base_url=BASE
    ) as c:
        page = c.get("/skills/put_left_of").text
    assert 'id="goal-template">left_of(?a, ?b)</code>' in page


def test_another_shape_gets_its_own_skill_and_name(tmp_path, executor, scenes):
    agent = make_agent(tmp_path, executor, scenes)
    rec = agent.run(
        "put the red cube behind the blue plate and the green cube in front of it", None, 2
    )
    assert rec.success, rec.reason
    skill = agent.library.get(rec.decisions[0].skill)
    assert skill.name == "put_behind_and_in_front_of"
    assert skill.goal_template == "behind(?a, ?b) and in_front_of(?c, ?b)"


@pytest.mark.parametrize(
    "instruction,goal,objects",
    [
        (
            "put the red cube far from the blue bowl",
            "far_from(red cube, blue bowl, 1.5)",
            "red cube, blue bowl",
        ),
        ("put the red cube in the blue bowl", None, "red cube"),
        ("put the red cube on itself", None, None),
    ],
)
def test_an_impossible_goal_is_refused_in_one_line_and_writes_nothing(
    tmp_path, executor, scenes, instruction, goal, objects
):
    agent = make_agent(tmp_path, executor, scenes)
    before = {i.name for i in agent.library.list()}
    with pytest.raises((AgentError, SimError)) as err:
        agent.run(instruction, None, 0, goal=goal, objects=objects)
    assert "\n" not in str(err.value)
    assert {i.name for i in agent.library.list()} == before and agent.runs.count() == 0


def test_robot_plan_is_empty_when_the_goal_holds_and_refuses_a_bad_goal():
    import numpy as np

    from sim.scenes import build_scene
    from sim.world import World
    from skills.errors import SkillError
    from skills.robot import Robot

    world = World()
    try:
        build_scene(world, "red cube, blue cube left of red cube", np.random.default_rng(0))
        robot = Robot(world)
        assert robot.plan("left_of(blue cube, red cube)") == []
        moves = robot.plan("left_of(red cube, blue cube)")
        assert moves and {m["kind"] for m in moves} <= {"place_at", "place_on"}
        assert moves[-1]["object"] == "red cube" or any(m["object"] == "blue cube" for m in moves)
        with pytest.raises(SkillError, match="bad goal"):
            robot.plan("left_of(red cube, green bowl)")
    finally:
        world.close()


def test_skills_verify_rechecks_a_goal_skill_on_its_template_scenes(
    tmp_path, executor, scenes, monkeypatch, capsys
):
    import skills.embed
    from agent.cli import main
    from tests.fakes import FastEmbedder

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    agent = make_agent(tmp_path, executor, scenes)
    assert agent.run("put the red cube to the right of the blue bowl", None, 1).success
    agent.library.close()
    code = main(
        ["--home", str(tmp_path), "skills", "verify", "put_right_of", "--episodes", "2", "--json"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "right_of(?a, ?b)" in out
    from skills.library import open_library

    with open_library(tmp_path) as lib:
        skill = lib.get("put_right_of")
    assert skill.verified and skill.stats["right_of(?a, ?b)"][0] >= 2 + 1 + 2


def test_a_newer_unverified_version_does_not_hide_a_verified_goal_skill(tmp_path):
    from agent.plan.skills import composite_code, find
    from skills.embed import HashEmbedder
    from skills.index import MemoryIndex
    from skills.library import SkillLibrary

    library = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex())
    t = lift("left_of(red cube, blue cube)")
    code = composite_code(t.name, t, "red cube, blue cube", "put it left", library)
    library.add(t.name, code, examples=["x"], author="synthesizer", stats={t.text: (5, 5)})
    library.add(t.name, code.replace("range(3)", "range(2)"), examples=["x"], verified=False)
    assert find(library, t.text, 0.8).version == 1
