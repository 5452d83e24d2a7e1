"""The agent with a model behind a scripted OpenAI-compatible server on 127.0.0.1: the
model writes the goal for words the reader cannot read, and writes the skill for a goal
template when composition does not pass, each retry told which atoms failed and by how
much. Nothing here is faked but the model."""

from __future__ import annotations

import pytest

from agent.llm.backends import make_llm
from tests.agent.test_loop import make_agent

GOOD = '''```python
def put_left_of(robot, a, b):
    """Put a left of b.

    Goal: left_of(?a, ?b)
    """
    for attempt in range(3):
        moves = robot.plan(f"left_of({a}, {b})")
        if not moves:
            return
        for m in moves:
            if m["kind"] == "place_at":
                robot.place_at(robot.find(m["object"]), (m["x"], m["y"]), m["yaw"])
            else:
                robot.place_on(robot.find(m["object"]), robot.find(m["target"]))
```'''
LOOK_ONLY = '''```python
def put_left_of(robot, a, b):
    """Only looks (wrong on purpose)."""
    robot.find(a)
    robot.find(b)
```'''


@pytest.fixture
def llm(llm_server):
    llm_server.strict = True  # a request nothing was queued for fails the test
    return make_llm("openai:test-model", base_url=llm_server.base_url, timeout=10, max_retries=0)


def test_the_model_writes_the_goal_for_words_the_reader_cannot_read(
    tmp_path, executor, scenes, llm, llm_server
):
    one_step = '[{"step": "put the red cube left of the blue cube", "goal": "left_of(red cube, blue cube)"}]'
    llm_server.queue("left_of(red cube, blue cube)", one_step)
    agent = make_agent(tmp_path, executor, scenes, llm=llm)
    rec = agent.run("shove the red cube westward of the blue cube", None, 3)
    assert rec.goal == "left_of(red cube, blue cube)" and rec.family_source == "model"
    assert rec.success, rec.reason
    prompt = llm_server.texts(0)
    assert "red cube" in prompt and "blue cube" in prompt and "left = -y" in prompt
    assert "shove the red cube westward" in prompt
    assert llm_server.pending() == 0


def test_a_model_written_skill_is_retried_on_its_false_atoms_then_kept(
    tmp_path, executor, scenes, llm, llm_server, monkeypatch
):
    import agent.plan.skills as composite

    def broken(name, template, spec, instruction, library):  # composition that never works
        return f'def {name}(robot, a, b):\n    """Goal: {template.text}"""\n    robot.find(a)\n'

    monkeypatch.setattr(composite, "composite_code", broken)
    plan = '[{"step": "put the red cube left of the blue cube", "goal": "left_of(red cube, blue cube)"}]'  # one step: the goal as a whole
    llm_server.queue(plan, LOOK_ONLY, GOOD)
    agent = make_agent(tmp_path, executor, scenes, llm=llm)
    rec = agent.run("put the red cube to the left of the blue cube", None, 3)
    assert rec.success, rec.reason
    d = rec.decisions[0]
    assert d.decision == "synthesize" and d.skill == "put_left_of"
    assert [v["recipe"] for v in d.verdicts] == ["goal-planner", "llm", "llm"]
    skill = agent.library.get("put_left_of")
    assert skill.author == "llm:openai:test-model" and skill.goal_template == "left_of(?a, ?b)"
    first, retry = llm_server.texts(1), llm_server.texts(2)
    for text in (first, retry):  # the scene, the frame, sizes and the goal template
        assert "left_of(?a, ?b)" in text and "left = -y" in text and "0.040 x 0.040 x 0.040" in text
    assert (
        "left_of(" in retry and "false" in retry.lower() and " cm" in retry
    )  # the failed atom, in numbers
    assert "find(" in retry  # what the robot was asked to do
    assert llm_server.pending() == 0


def test_the_model_plans_steps_each_judged_by_its_own_goal(
    tmp_path, executor, scenes, llm, llm_server
):
    import json

    half = [{"step": "put the red cube on the blue plate", "goal": "on(red cube, blue plate)"}]
    full = half + [
        {"step": "put the green cube left of the red cube", "goal": "left_of(green cube, red cube)"}
    ]
    llm_server.queue(json.dumps(half), json.dumps(full))  # the first plan misses an atom
    agent = make_agent(tmp_path, executor, scenes, llm=llm)
    rec = agent.run(
        "put the red cube on the blue plate and the green cube to the left of the red cube", None, 2
    )
    assert rec.goal == "on(red cube, blue plate) and left_of(green cube, red cube)"
    assert rec.success, rec.reason
    assert rec.plan == (
        "put the red cube on the blue plate",
        "put the green cube left of the red cube",
    )
    assert [d.skill for d in rec.decisions] == ["put_on", "put_left_of"]
    assert agent.library.get("put_on").goal_template == "on(?a, ?b)"
    assert "left_of(green cube, red cube)" in llm_server.texts(1) and "refused" in llm_server.texts(
        1
    )
    assert "| red cube |" in llm_server.texts(0)  # the scene, every object with its pose
    assert llm_server.pending() == 0
