"""The goal writer: a chat model turns an instruction into a goal formula, which is checked.

Used for text the deterministic reader (`agent.understand`) cannot read. The model gets
the goal language (grammar, predicates with their meanings, frame, examples) and every
object of the scene (`agent.llm.goal_prompts.goal_writing_prompt`); its formula is taken from
the reply (`agent.llm.extract.extract_formula`) and checked against the scene with
`sim.goals.check`, which refuses unknown objects and predicates, an object related to
itself, a fixed object asked to move and a goal that contradicts itself. A formula that
cannot be read or is refused is sent back once with the reason; a second failure is an
`AgentError` naming the model's formula and what is wrong with it.
"""

from __future__ import annotations

from agent.errors import AgentError

ATTEMPTS = 2  # the first answer and one correction


def write_goal(llm, instruction: str, state) -> str:
    """The goal formula (text form) a model writes for `instruction` on this scene, checked.

    Args:
        llm: an `agent.llm.client.LLM` (anything with `complete(prompt) -> str`).
        instruction: what the person said.
        state: the scene, a `sim.goals.State`.

    Returns:
        The checked goal's text (`sim.goals.Goal.text`), e.g. "left_of(red cube, blue bowl)".

    Raises:
        AgentError: one line, when the model's second formula still cannot be read or is
            refused, naming that formula and why; or when the model cannot be reached.
    """
    from agent.llm.extract import extract_formula
    from agent.llm.goal_prompts import goal_writing_prompt
    from sim.goals import GoalError, check

    error: str | None = None
    formula: str | None = None
    for _ in range(ATTEMPTS):
        reply = llm.complete(goal_writing_prompt(instruction, state, error, previous=formula))
        try:
            formula = extract_formula(reply)
            return check(formula, state).text
        except (AgentError, GoalError) as exc:
            error = _one_line(str(exc))
            formula = formula if isinstance(exc, GoalError) else _one_line(reply, 120)
    raise AgentError(
        f"the model's goal {formula!r} for {_one_line(instruction, 80)!r} is not usable: {error}"
    )


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
