"""One goal, one skill: reuse the skill filed under the goal's template, or make one.

The order, cheapest first:

1. **reuse**: a verified skill filed under the same goal template, with evidence at or
   above the pass bar under that template (`skills.find`) and no recent failures against
   it (`agent.evaluate.evidence`), runs with the goal's slot values as arguments.
2. **compose**: when the goal planner finds moves from the run's scene (else the goal is
   out of reach here: "could not", nothing written), a composite skill for the template
   (`skills.composite_code`) is proved by the Evaluator on scenes made from the template;
   if it passes it is written back under a name made from the template.
3. **synthesize** (an LLM configured, composition not proved): the model writes code for
   the template, each failed try answered with what failed (false atoms with numbers,
   the robot's calls); the first that passes is written back.

Whatever was chosen then runs on the run's scene; if nothing passed the Evaluator, the
composite still runs there (its verdict is judged like any other), but nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.evaluate.evidence import Evidence, store_url, summary
from agent.plan import skills as composite
from agent.run.records import Decision
from agent.synth.synthesizer import Attempt


@dataclass(frozen=True)
class Choice:
    """What runs for a goal: code, entry and arguments, and the decision behind it."""

    decision: Decision
    code: str | None
    entry: str
    args: dict
    version: int | None = None  # a library version, when one runs
    reason: str | None = None  # why nothing runs
    key: str = ""  # the goal template its evidence is filed under


def resolve_goal(agent, instruction: str, setup, log) -> Choice:
    """Find, compose or synthesize a skill for `setup.goal` (see the module docstring)."""
    from sim.goals import State, check
    from sim.goals.plan import plan_moves
    from sim.goals.template import lift

    state = State.from_json(list(setup.start))
    goal = check(setup.goal, state)
    template = lift(goal)
    bar = agent.evaluator.pass_bar
    # the reuse rule (agent.evaluate.evidence)
    with Evidence(agent.runs.home, store_url(agent.library)) as evidence:
        found = composite.find(agent.library, template.text, bar, evidence)
    if found is not None:
        log(f"goal template {template.text}: reuse {found.name}@v{found.version}")
        d = Decision(instruction, "reuse", 1.0, found.name, found.version)
        return Choice(d, found.code, found.name, template.values, found.version, key=template.text)
    name = composite.free_name(agent.library, template)
    verdicts: list[dict] = []
    if plan_moves(goal, state, setup.seed) is None:
        reason = "no placement was found that makes the goal hold in this scene"
        return Choice(
            Decision(instruction, "compose", 0.0, None, None), None, name, {}, reason=reason
        )
    code = composite.composite_code(name, template, setup.spec, instruction, agent.library)
    verdict = _prove(agent, code, name, template.text)
    verdicts.append(_summary("goal-planner", verdict))
    log(
        f"goal template {template.text}: composite {name}: {verdict.stage} ({verdict.successes}/{len(verdict.episodes)})"
    )
    if verdict.passed:
        v = _write_back(agent, name, code, instruction, template, verdict, "synthesizer")
        d = Decision(instruction, "compose", 0.0, v.name, v.version, 1, tuple(verdicts))
        return Choice(d, v.code, v.name, template.values, v.version, key=template.text)
    written = _synthesize(agent, name, template, instruction, setup, state, verdicts, log)
    if written is not None:
        d = Decision(
            instruction,
            "synthesize",
            0.0,
            written.name,
            written.version,
            len(verdicts) - 1,
            tuple(verdicts),
        )
        return Choice(
            d, written.code, written.name, template.values, written.version, key=template.text
        )
    d = Decision(instruction, "compose", 0.0, None, None, 1, tuple(verdicts))
    return Choice(d, code, name, template.values)  # unproven: runs, is judged, is not kept


def _prove(agent, code: str, entry: str, key: str):
    """The Evaluator's verdict on `code` (filed under template `key`) over scenes made
    from the template."""
    from agent.errors import AgentError
    from agent.evaluate.evaluator import Verdict

    ev = agent.evaluator
    try:
        jobs = composite.evaluation_jobs(agent.scenes.world, code, entry, ev.episodes, ev.timeout)
    except AgentError as exc:
        return Verdict("syntax", False, 0.0, key, (), str(exc))
    return ev.evaluate_jobs(code, entry, key, jobs)


def _synthesize(agent, name, template, instruction, setup, state, verdicts, log):
    """LLM-written code for the template (when the synthesizer can), written back if proved."""
    propose = getattr(agent.synthesizer, "propose_goal", None)
    if propose is None:
        return None
    from agent.llm.goal_prompts import goal_feedback

    skills = [
        agent.library.get(m.name, m.version)
        for m in agent.library.search(setup.goal, agent.k).matches
    ]
    history: list[Attempt] = []
    for cand in propose(name, template.text, template.values, setup.goal, state, skills, history):
        code = composite.filing(template, setup.spec) + cand.code
        v = _prove(agent, code, cand.name, template.text)
        verdicts.append(_summary(cand.recipe, v))
        log(f"  candidate {cand.recipe}: {v.stage} ({v.successes}/{len(v.episodes)})")
        if v.passed:
            return _write_back(
                agent, cand.name, code, instruction, template, v, agent.synthesizer.author
            )
        history.append(Attempt(cand, goal_feedback(v.episodes) or v.feedback))
    return None


def _summary(recipe: str, verdict) -> dict:
    return summary(recipe, verdict)  # with the seeds it ran on


def _write_back(agent, name, code, instruction, template, verdict, author):
    return agent.library.add(
        name,
        code,
        None,
        examples=[" ".join(instruction.split())],
        author=author,
        verified=True,
        stage="success",
        stats={template.text: (len(verdict.episodes), verdict.successes)},
    )
