"""Synthesizers: propose candidate code for a step, learning from the Evaluator's feedback.

`OfflineSynthesizer` (no LLM) first tries the retrieved library skills themselves, then
composes candidates from building blocks and library helpers (`agent.synth.offline`).
`LLMSynthesizer` asks the LLM (adapt prompt with the top-k skills, or synthesis prompt
with the API reference and the closest skill), then retries with the previous code,
its error or failed check, and what the Evaluator saw (Voyager-style). For a goal
template (`propose_goal`) it asks for one function named after the template, taking its
slots, with the scene, the goal's predicates and the retrieved skills, and retries with
the previous code and the feedback on it (false atoms with numbers, robot calls).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from agent.errors import AgentError
from agent.plan.planner import Step
from agent.synth.offline import SIGNATURES, Candidate, candidates


@dataclass(frozen=True)
class Attempt:
    """A candidate and what the Evaluator said of it."""

    candidate: Candidate
    feedback: str


def skill_params(code: str, entry: str) -> tuple[tuple[str, bool], ...]:
    """(name, required) of an entry function's parameters after `robot`."""
    import ast

    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            a = node.args
            pos = a.posonlyargs + a.args
            required = len(pos) - len(a.defaults)
            out = [(p.arg, i < required) for i, p in enumerate(pos)][1:]
            out += [(p.arg, d is None) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
            if a.kwarg:
                out.append(("**" + a.kwarg.arg, False))
            return tuple(out)
    raise AgentError(f"no function {entry} in the code")


class OfflineSynthesizer:
    """Search over candidate programs: library skills first, then composed building blocks."""

    author = "synthesizer"
    max_attempts = 10

    def __init__(self) -> None:
        self.calls = 0

    def propose(
        self,
        step: Step,
        decision: str,
        library_skills: list,
        history: list[Attempt],
        scene: Sequence[str] = (),
    ) -> Iterator[Candidate]:
        """Candidates in order; the caller stops at the first one that passes."""
        name, _ = SIGNATURES[step.intent.kind]
        if decision == "adapt":
            for v in library_skills:
                if v.verified:
                    yield Candidate(
                        v.name,
                        v.code,
                        tuple(p.name for p in v.params),
                        f"library:{v.name}@v{v.version}",
                    )
        helpers = [
            v.code
            for v in library_skills
            if v.verified and len([p for p in v.params if p.required]) == 2
        ]
        yield from candidates(step.intent, helpers)
        del name


class LLMSynthesizer:
    """LLM-written candidates, retried with feedback up to `retries` times."""

    def __init__(self, llm, retries: int = 3) -> None:
        self.llm = llm
        self.retries = retries
        self.author = f"llm:{llm.name}"
        self.max_attempts = retries + 1

    def propose(
        self,
        step: Step,
        decision: str,
        library_skills: list,
        history: list[Attempt],
        scene: Sequence[str] = (),
    ) -> Iterator[Candidate]:
        """LLM candidates for a step; `scene`: every object on the table (default: the
        step's own objects)."""
        from agent.llm.extract import extract_code
        from agent.llm.prompts import adapt_prompt, retry_prompt, synthesis_prompt

        name, _ = SIGNATURES[step.intent.kind]
        args = step.intent.args
        scene = list(scene) or sorted(set(step.intent.roles.values()))
        examples = [(v.name, v.code, v.description) for v in library_skills[:3]]
        for attempt in range(self.retries + 1):
            if attempt == 0:
                if decision == "adapt" and examples:
                    prompt = adapt_prompt(step.text, scene, examples, name=name, params=args)
                else:
                    prompt = synthesis_prompt(
                        step.text, scene, examples[:1], name=name, params=args
                    )
            else:
                last = history[-1]
                prompt = retry_prompt(
                    last.candidate.code,
                    last.feedback,
                    task_instruction=step.text,
                    scene_objects=scene,
                    name=name,
                    params=args,
                )
            try:
                got = extract_code(self.llm.complete(prompt), entry=name)
            except AgentError as exc:
                # An unusable reply is fed back like any failed candidate.
                yield Candidate(
                    name, f"# the reply held no usable code: {exc}\n", (), "llm:unparsable"
                )
                continue
            params = tuple(p for p, _ in skill_params(got.code, got.entry))
            yield Candidate(got.entry, got.code, params, f"llm attempt {attempt + 1}")

    def propose_goal(
        self,
        name: str,
        template: str,
        slots: Mapping[str, object] | Sequence,
        goal_text: str,
        state,
        skills: Sequence,
        history: list[Attempt],
    ) -> Iterator[Candidate]:
        """Candidates for a skill that makes a goal template hold, up to `retries + 1`.

        Each is named `name` (the entry is renamed if the model named it otherwise), its
        params are the entry's parameters (the prompt asks for the slots, in order), its
        recipe "llm" ("llm:unparsable" for a reply without usable code, fed back like a
        failed candidate). The caller runs each candidate and appends `Attempt(candidate,
        feedback)` to `history` before asking for the next: a retry's prompt carries the
        last attempt's code and feedback.

        Args:
            name: the skill's name, from the template (never from a family table).
            template: the goal template, e.g. "left_of(?a, ?b)".
            slots: slot -> value on this scene, e.g. {"a": "red cube", "b": "blue bowl"}
                (or `Template.slots` pairs).
            goal_text: the goal on this scene.
            state: the scene (`sim.goals.State`).
            skills: retrieved library skills, closest first.
            history: the attempts so far, with their feedback.
        """
        from agent.llm.extract import extract_code
        from agent.llm.goal_prompts import goal_code_prompt

        for attempt in range(self.retries + 1):
            last = history[-1] if attempt and history else None
            prompt = goal_code_prompt(
                name,
                template,
                slots,
                goal_text,
                state,
                skills,
                feedback=last.feedback if last else None,
                previous_code=last.candidate.code if last else None,
            )
            try:
                got = extract_code(self.llm.complete(prompt), entry=name)
            except AgentError as exc:
                yield Candidate(
                    name, f"# the reply held no usable code: {exc}\n", (), "llm:unparsable"
                )
                continue
            code = got.code
            if got.entry != name:  # the model named it otherwise: the name is the template's
                code = re.sub(rf"^def {re.escape(got.entry)}\(", f"def {name}(", code, flags=re.M)
            params = tuple(p for p, _ in skill_params(code, name))
            yield Candidate(name, code, params, "llm")
