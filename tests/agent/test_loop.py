"""The agent end to end: offline reuse and synthesis, the LLM path with fake chat models
(good code accepted; broken, unsafe and failing code rejected with feedback and retried),
and bad input that writes nothing to the library."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agent.errors import AgentError
from agent.evaluate.evaluator import Evaluator
from agent.llm.backends import make_llm
from agent.loop import Agent
from agent.plan.planner import LLMPlanner, OfflinePlanner
from agent.run.records import RunStore
from agent.synth.synthesizer import LLMSynthesizer, OfflineSynthesizer
from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary


def make_agent(home, executor, scenes, llm=None, seeds=True, episodes=2):
    library = SkillLibrary(home, HashEmbedder(), MemoryIndex(), install_seeds=seeds)
    evaluator = Evaluator(executor, episodes=episodes, pass_bar=1.0)
    if llm is None:
        planner, synth = OfflinePlanner(), OfflineSynthesizer()
    else:
        planner, synth = LLMPlanner(llm), LLMSynthesizer(llm, retries=5)
    return Agent(library, evaluator, planner, synth, RunStore(home), scenes, llm=llm)


def test_offline_synthesizes_then_reuses(tmp_path, executor, scenes):
    agent = make_agent(tmp_path, executor, scenes)
    first = agent.run(scenes.scene("tower", 3).instruction, "tower", 3)
    assert first.success, first.reason
    assert first.decisions[0].decision in ("adapt", "synthesize") and first.synthesized == 1
    skill = agent.library.get(first.decisions[0].skill)
    # 2 evaluation episodes, then the run itself (a real run is evidence too)
    assert skill.author == "synthesizer" and skill.verified and skill.stats["tower"] == (3, 3)
    recipe = first.decisions[0].verdicts[-1]["recipe"]  # the candidate that passed
    if "library:" in recipe:  # lineage names the library skill inlined into the composite
        assert skill.parent is not None and f"library:{skill.parent[0]}" in recipe
    else:
        assert skill.parent is None
    second = agent.run(scenes.scene("tower", 4).instruction, "tower", 4)
    assert second.success and second.decisions[0].decision == "reuse" and second.synthesized == 0
    rec = agent.runs.get(second.run_id)
    assert rec.skills == (f"{skill.name}@v{skill.version}",)
    assert (tmp_path / rec.gif).read_bytes()[:3] == b"GIF" and rec.poses


def test_inferred_family_sets_up_the_asked_task(tmp_path, executor, scenes):
    agent = make_agent(tmp_path, executor, scenes)
    rec = agent.run("put the red block on top of the blue block", None, 0)
    assert rec.family == "stack" and rec.family_source == "inferred"
    assert dict(scenes.scene("stack", rec.seed).params) == {"top": "red cube", "base": "blue cube"}
    assert rec.success


@pytest.mark.parametrize(
    "instruction,family,message",
    [
        ("", "stack", "empty"),
        ("stack the purple elephant on the moon", "stack", "no"),
        ("stack the red cube on the blue cube", "no-such-family", "unknown task family"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, executor, scenes, instruction, family, message):
    from sim.errors import SimError

    agent = make_agent(tmp_path, executor, scenes)
    before = [(s.name, s.versions) for s in agent.library.list()]
    with pytest.raises((AgentError, SimError), match=message):
        agent.run(instruction, family, 5)
    assert [(s.name, s.versions) for s in agent.library.list()] == before
    assert agent.runs.count() == 0


GOOD = "def stack_on(robot, top, base):\n    robot.place_on(robot.find(top), robot.find(base))\n"


def test_the_llm_planner_is_told_what_the_library_skills_do(tmp_path):
    from agent.plan.planner import LLMPlanner

    llm = make_llm(FakeListChatModel(responses=['["place the red cube on the blue plate"]']))
    seen: list = []
    complete = llm.complete
    llm.complete = lambda prompt, **kw: (seen.append(prompt.messages), complete(prompt, **kw))[1]
    library = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex())
    skills = [library.get("place_on"), library.get("pick_up")]
    LLMPlanner(llm).plan("place the red cube on the blue plate", ["red cube", "blue plate"], skills)
    text = "\n".join(t for _, t in seen[0])
    assert "Skills in the library" in text and "place_on: Place an object on top" in text


def test_llm_path_retries_with_feedback(tmp_path, executor, scenes):
    scene = scenes.scene("stack", 6)
    replies = [
        f'["{scene.instruction}"]',  # the plan: one step
        "Here you go:\n```python\ndef stack_on(robot, top, base)\n    robot.pick(top)\n```",  # syntax error
        "```python\ndef stack_on(robot, top, base):\n    robot.grab(robot.find(top))\n```",  # wrong API name
        "```python\nimport os\n\ndef stack_on(robot, top, base):\n    os.system('touch /tmp/pwned')\n```",  # unsafe
        "```python\ndef stack_on(robot, top, base):\n    robot.pick(robot.find(top))\n```",  # runs, fails the task
        f"Fixed:\n```python\n{GOOD}```\nThis places the top block on the base.",
    ]
    llm = make_llm(FakeListChatModel(responses=replies))
    prompts: list[str] = []
    complete = llm.complete

    def recording(prompt, **kw):
        prompts.append(
            "\n".join(text for _, text in prompt.messages)
            if hasattr(prompt, "messages")
            else str(prompt)
        )
        return complete(prompt, **kw)

    llm.complete = recording
    agent = make_agent(tmp_path, executor, scenes, llm=llm, seeds=False)
    rec = agent.run(scene.instruction, "stack", 6)
    assert rec.success, rec.reason
    d = rec.decisions[0]
    assert d.decision == "synthesize" and d.attempts == 5
    assert [v["stage"] for v in d.verdicts] == [
        "rejected",
        "syntax",
        "rejected",
        "runtime",
        "success",
    ]
    assert rec.llm_calls == 6
    # Each retry prompt carries the previous code and what went wrong with it.
    assert "robot.grab" in prompts[3] and "grab" in prompts[3].split("robot.grab", 1)[1]
    assert "import os" in prompts[4] and "import" in prompts[4].split("import os", 1)[1]
    assert "robot.pick(robot.find(top))" in prompts[5] and "succeeded on only 0 of 2" in prompts[5]
    assert all(obj in prompts[1] for obj in scene.objects)  # every object on the table
    skill = agent.library.get("stack_on")
    assert skill.author.startswith("llm:") and skill.code.strip() == GOOD.strip()
    assert not (tmp_path / "pwned").exists()
