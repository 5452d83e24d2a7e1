"""Planners: an instruction and the scene's objects in, a list of steps out.

`OfflinePlanner` (no LLM configured) understands the instruction with the rule-based
parser and makes one step of it. `LLMPlanner` asks the LLM for short steps, each of which
must name scene objects; a step the parser cannot read makes the whole instruction one
step again. Planners see only the instruction text and the scene's object descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import AgentError
from agent.plan.parse import Intent, parse


@dataclass(frozen=True)
class Step:
    """One step of a plan: its words and what the parser understood of them."""

    text: str
    intent: Intent


@dataclass(frozen=True)
class Plan:
    """The steps, the task as a whole, and who planned it."""

    steps: tuple[Step, ...]
    whole: Intent
    planner: str

    @property
    def kind(self) -> str:
        return self.whole.kind


class OfflinePlanner:
    """Rule-based planning: the instruction is one step (labelled "offline" in records)."""

    name = "offline"

    def plan(self, instruction: str, scene: list[str], skills=()) -> Plan:
        whole = parse(instruction, scene)
        return Plan((Step(instruction.strip(), whole),), whole, self.name)


class LLMPlanner:
    """Ask the LLM to break the instruction into steps; fall back to one step."""

    def __init__(self, llm) -> None:
        self.llm = llm
        self.name = f"llm:{llm.name}"

    def plan(self, instruction: str, scene: list[str], skills=()) -> Plan:
        """Steps from the model; `skills`: library skills it is told about (name, goal
        template if any, description)."""
        from agent.llm.extract import extract_plan
        from agent.llm.prompts import plan_prompt

        whole = parse(instruction, scene)
        known = [
            f"{v.name}: "
            + (f"(goal {v.goal_template}) " if getattr(v, "goal_template", None) else "")
            + v.description
            for v in skills
        ]
        texts = extract_plan(self.llm.complete(plan_prompt(instruction, scene, known)))
        steps = []
        for text in texts[:8]:
            try:
                steps.append(Step(text, parse(text, scene)))
            except AgentError:
                steps = []
                break
        if len(steps) <= 1:
            steps = [Step(instruction.strip(), whole)]
        return Plan(tuple(steps), whole, self.name)

    def plan_goal(self, instruction: str, goal: str, state, skills=()) -> list[tuple[str, str]]:
        """Steps for a goal, each judged by its own goal: (text, checked goal text) pairs
        whose goals together cover the whole goal (`agent.run.setup.uncovered_by`). Asked
        twice at most (the second time with why the first plan was refused).

        Raises:
            AgentError: one line, when neither plan is usable.
        """
        from agent.llm.extract import extract_goal_steps
        from agent.llm.goal_prompts import goal_plan_prompt
        from agent.run.setup import uncovered_by
        from sim.goals import GoalError, check

        error = None
        for _ in range(2):
            reply = self.llm.complete(goal_plan_prompt(instruction, goal, state, skills, error))
            try:
                steps = [(t, check(g, state).text) for t, g in extract_goal_steps(reply)[:8]]
            except (AgentError, GoalError) as exc:
                error = str(exc)
                continue
            missing = uncovered_by([g for _, g in steps], goal, state)
            if missing is None:
                return steps
            error = f"the steps' goals do not include {missing}"
        raise AgentError(f"the model's plan is not usable: {error}")
