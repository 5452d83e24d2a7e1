"""One step of a plan: retrieve -> reuse, or adapt/synthesize -> evaluate -> write back.

The Searcher's two thresholds decide (`skills.search`): a verified skill close enough is
reused when it has evidence on the step's family (else it is proved there first), close
ones are adapted, otherwise new code is synthesized (`agent.synth.synthesizer`). Every
candidate is proved by the Evaluator on evaluation scenes of the family, never the run's
scene (`agent.evaluate.evaluator`); the first that passes is written to the library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.errors import AgentError
from agent.evaluate.evaluator import Verdict
from agent.evaluate.evidence import Evidence, store_url, summary
from agent.plan.parse import Intent
from agent.plan.planner import Step
from agent.run.records import Decision
from agent.synth.binding import bind_args, scene_binder
from agent.synth.offline import Candidate
from agent.synth.synthesizer import Attempt


@dataclass(frozen=True)
class Resolved:
    """A step's skill: its name, version, code and the arguments it runs with."""

    name: str
    version: int
    code: str
    args: dict


def resolve_step(agent, step: Step, family: str, scene=()) -> tuple[Decision, Resolved | None]:
    """One step of a plan: reuse a verified library skill (after proving it on the family
    when it has no evidence there), else adapt or synthesize candidates until one passes
    the Evaluator, and write it back. (None skill: nothing passed.)"""
    found = agent.library.search(step.text, agent.k)
    score = found.matches[0].score if found.matches else 0.0
    decision = found.decision
    verdicts: list[dict] = []
    if decision == "reuse" and found.chosen is not None:
        v = agent.library.get(found.chosen.name, found.chosen.version)
        args = bind_args([(p.name, p.required) for p in v.params], step.intent)
        # agent.evaluate.evidence: the rule
        with Evidence(agent.runs.home, store_url(agent.library)) as evidence:
            doubt = evidence.doubt(v, family, agent.evaluator.pass_bar)
        if args is not None and doubt is None:
            return Decision(step.text, "reuse", score, v.name, v.version), Resolved(
                v.name, v.version, v.code, args
            )
        if args is not None:
            # Close enough, but its evidence here is missing or in doubt: verify it first.
            agent.log(f"  {v.name}@v{v.version}: {doubt}; verifying it on fresh scenes")
            cand = Candidate(
                v.name,
                v.code,
                tuple(p.name for p in v.params),
                f"library:{v.name}@v{v.version}",
            )
            verdict = agent.evaluator.evaluate(v.code, v.name, family, _binder(agent, cand))
            verdicts.append(summary(cand.recipe, verdict))
            _file_verdict(agent, v, family, verdict)
            if verdict.passed:
                d = Decision(step.text, "reuse", score, v.name, v.version, 1, tuple(verdicts))
                return d, Resolved(v.name, v.version, v.code, args)
        decision = "adapt"  # a close skill whose parameters or evidence do not fit
    skills = [agent.library.get(m.name, m.version) for m in found.matches]
    history: list[Attempt] = []
    tried = {v["recipe"] for v in verdicts}
    for cand in agent.synthesizer.propose(step, decision, skills, history, scene=scene):
        if len(history) >= agent.synthesizer.max_attempts:
            break
        if cand.recipe in tried and cand.recipe.startswith("library:"):
            continue
        verdict = agent.evaluator.evaluate(cand.code, cand.name, family, _binder(agent, cand))
        verdicts.append(summary(cand.recipe, verdict))
        agent.log(
            f"  candidate {cand.recipe}: {verdict.stage} ({verdict.successes}/{len(verdict.episodes)})"
        )
        if verdict.passed:
            v = _write_back(agent, step, cand, verdict, family, skills)
            args = bind_args([(p.name, p.required) for p in v.params], step.intent) or {}
            d = Decision(
                step.text, decision, score, v.name, v.version, len(history) + 1, tuple(verdicts)
            )
            return d, Resolved(v.name, v.version, v.code, args)
        history.append(Attempt(cand, _feedback(verdict)))
    return Decision(step.text, decision, score, None, None, len(history), tuple(verdicts)), None


def _file_verdict(agent, v, key: str, verdict: Verdict):
    """A library version's verification: its episodes join the version's stats under `key`,
    and the verification is logged with its seeds for the reuse rule. Returns the version."""
    stored = agent.library.record_stats(
        v.name, v.version, key, len(verdict.episodes), verdict.successes
    )
    with Evidence(agent.runs.home, store_url(agent.library)) as evidence:
        evidence.log(
            v.name,
            v.version,
            key,
            len(verdict.episodes),
            verdict.successes,
            verdict.passed,
            verdict.seeds,
        )
    return stored


def _binder(agent, cand: Candidate):
    from agent.synth.synthesizer import skill_params

    try:
        params = skill_params(cand.code, cand.name)
    except (AgentError, SyntaxError):
        params = ()
    return scene_binder(agent.scenes, params)


def _write_back(agent, step: Step, cand: Candidate, verdict: Verdict, family: str, skills: list):
    """Store a verified candidate (a new version if the name exists) with its stats."""
    parent = None
    if cand.recipe.startswith("library:"):
        existing = next((s for s in skills if s.name == cand.name), None)
        if existing is not None and existing.code == cand.code:
            # The library skill itself passed: record the new evidence, write nothing new.
            return _file_verdict(agent, existing, family, verdict)
    # Lineage names the library skill the candidate was built from: the helper inlined
    # into an offline composite ("tower+library:stack"), or what an LLM was shown to adapt.
    used = re.search(r"library:(\w+)", cand.recipe)
    if used:
        parent = next(((s.name, s.version) for s in skills if s.name == used.group(1)), None)
    elif cand.recipe.startswith("llm") and skills:
        parent = (skills[0].name, skills[0].version)
    author = agent.synthesizer.author
    description = _describe(step.intent)
    return agent.library.add(
        cand.name,
        cand.code,
        description,
        examples=[step.text, step.intent.query],
        author=author,
        verified=True,
        stage="success",
        parent=parent,
        stats={family: (len(verdict.episodes), verdict.successes)},
    )


def _describe(intent: Intent) -> str:
    """A skill description from what the step asked, objects abstracted to their roles."""
    text = intent.query.strip()
    return text[0].upper() + text[1:] + "." if text else intent.kind


def _feedback(verdict: Verdict) -> str:
    fails = [e for e in verdict.episodes if not e.success]
    seen = (
        f"; evaluation scenes: {verdict.successes}/{len(verdict.episodes)} succeeded"
        if verdict.episodes
        else ""
    )
    detail = (
        f" (first failure: {fails[0].status}, {fails[0].reason})"
        if fails and fails[0].reason
        else ""
    )
    return verdict.feedback + seen + detail
