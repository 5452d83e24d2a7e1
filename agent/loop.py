"""The product, top to bottom: one instruction in, one recorded run out.

`Agent.run` goes through the stages in this order; each lives in its own place:

1. **Set up**: the goal the run is judged by and its scene (`agent.run.setup`: a task
   family's scene, `--goal`, or the words read by `agent.understand`, or a model's goal
   from `agent.llm.goal_writer`; scenes from words in `sim.scenes`).
2. **Retrieve and plan**: the planner splits the instruction into steps
   (`agent.plan.planner`, offline rules in `agent.plan.parse`, or an LLM), each looked up
   in the library by the Searcher (`skills.search`). When the steps' goals do not cover
   the goal, a skill for the goal's template is found, composed or written instead
   (`agent.plan.resolve`, composite skills in `agent.plan.skills`, the goal planner in
   `sim.goals.plan`).
3. **Reuse or synthesize** each step (`agent.synth.step`): reuse a verified skill, adapt
   the closest ones or write new code (`agent.synth.synthesizer`, offline building blocks
   in `agent.synth.offline`).
4. **Evaluate**: candidates are proved on evaluation scenes, never the run's own scene
   (`agent.evaluate.evaluator`, in the sandbox of `skills.sandbox`).
5. **Write back**: what passed goes into the library with its stats (`skills.library`).
6. **Run and record**: the plan runs once as one program in the sandbox on the run's
   scene; the verdict is the goal evaluated on the simulator's end state by a process
   that runs no skill code; the run is stored (`agent.run.records`).

Perception: the Evaluator verifies code with oracle poses; the run itself goes through
`runner` (default: the Evaluator's executor), whose workers may ask the learned policy
for poses instead. The record names the perception the run's workers reported.
"""

from __future__ import annotations

import time

from agent.errors import AgentError
from agent.evaluate.evaluator import EVAL_SEED_BASE, Evaluator, Job
from agent.plan.parse import Intent
from agent.plan.planner import Plan, Step
from agent.run.records import RunRecord, RunStore, new_run_id
from agent.run.scenes import Scenes
from agent.run.setup import Setup, family_setup, setup_run, uncovered
from agent.synth.step import Resolved, resolve_step


class Agent:
    """Runs instructions with a library, a planner, a synthesizer and an Evaluator.

    All collaborators are passed in (tests hand in fakes for the LLM). `runner` executes
    the run itself (default: the Evaluator's executor), with the perception named by
    `perception`.
    """

    def __init__(
        self,
        library,
        evaluator: Evaluator,
        planner,
        synthesizer,
        runs: RunStore,
        scenes: Scenes | None = None,
        k: int = 5,
        llm=None,
        log=None,
        runner=None,
        perception: str = "oracle",
    ) -> None:
        self.library = library
        self.evaluator = evaluator
        self.planner = planner
        self.synthesizer = synthesizer
        self.runs = runs
        self.scenes = scenes or Scenes()
        self.k = k
        self.llm = llm
        self.log = log or (lambda msg: None)
        self.runner = runner or evaluator.executor
        self.perception = perception

    # -- the main job --------------------------------------------------------------------
    def run(
        self,
        instruction: str,
        family: str | None = None,
        seed: int = 0,
        goal: str | None = None,
        objects: str | None = None,
        distractors: int | None = None,
    ) -> RunRecord:
        """Carry out one instruction on one scene and record it.

        The scene and the goal come from `agent.run.setup`: a family's scene (`family`), or
        the goal (`goal`, or read from the words) on a scene from words (`objects`, or the
        instruction's noun phrases). The verdict is always that goal evaluated on the
        simulator's end state.
        """
        t0 = time.perf_counter()
        llm0 = self._llm_usage()
        if not instruction or not instruction.strip():
            raise AgentError("the instruction is empty")
        if not 0 <= seed < EVAL_SEED_BASE:
            raise AgentError(
                f"seed must be in [0, {EVAL_SEED_BASE}) (higher seeds are kept for evaluation)"
            )
        if family is not None:
            from sim.families import check_family

            if goal is not None or objects is not None or distractors is not None:
                raise AgentError(
                    "--task builds its family's own scene and goal: leave out --goal, --objects and --distractors"
                )
            setup = family_setup(self.scenes, check_family(family), seed, "given")
        else:
            setup = setup_run(self.scenes, instruction, seed, goal, objects, distractors, self.llm)
            where = (
                f"task family {setup.family} (scene seed {setup.seed})"
                if setup.family
                else "a scene from words"
            )
            self.log(f"goal: {setup.goal}; on {where}: {', '.join(setup.objects)}")
        plan, why = self._plan(instruction, setup)
        if plan is None:
            return self._compose(instruction, setup, why, t0, llm0)
        decisions, resolved = [], []
        for step in plan.steps:
            decision, skill = resolve_step(
                self,
                step,
                setup.family if len(plan.steps) == 1 and setup.family else step.intent.kind,
                setup.objects,
            )
            decisions.append(decision)
            self.log(
                f"step {step.text!r}: {decision.decision} (score {decision.score:.2f}) -> {decision.skill or 'no skill'}"
            )
            if skill is None:
                return self._finish(
                    instruction,
                    setup,
                    plan,
                    decisions,
                    [],
                    None,
                    t0,
                    llm0,
                    reason=f"no skill for step {step.text!r} passed the Evaluator",
                )
            resolved.append(skill)
        return self._run_program(
            instruction, setup, plan, decisions, resolved, resolved, setup.family, t0, llm0
        )

    def _run_program(
        self,
        instruction: str,
        setup: Setup,
        plan: Plan,
        decisions: list,
        resolved: list[Resolved],
        kept: list[Resolved],
        key: str,
        t0: float,
        llm0,
    ) -> RunRecord:
        """Run the skills as one program on the run's scene and record the run. The
        library skills among them (`kept`) get a use; a library skill that ran alone under
        oracle poses also gets the run's verdict under `key` (its family or goal template):
        the run is evidence too (a policy's mistakes are not the skill's, and several
        skills' share of one verdict is unknown)."""
        code, entry, args = self._program(plan, resolved)
        result = self._execute(code, entry, args, setup)
        for r in kept:
            self.library.record_use(r.name)
        if len(resolved) == 1 and kept and key and result.perception == "oracle":
            self.library.record_stats(kept[0].name, kept[0].version, key, 1, int(result.success))
        return self._finish(instruction, setup, plan, decisions, kept, result, t0, llm0)

    def _execute(self, code: str, entry: str, args: dict, setup: Setup):
        """Run the program once, in the sandbox, on the run's scene; judged by its goal."""
        words = setup.layout is not None
        job = Job(
            code,
            entry,
            setup.family or None,
            setup.seed,
            args,
            self.evaluator.timeout,
            record=True,
            scene=list(setup.layout) if words else None,
            goal=setup.goal,
        )
        return self.runner.run_many([job])[0]

    def _plan(self, instruction: str, setup: Setup) -> tuple[Plan | None, str]:
        """The step planner's plan, when its steps' goals cover the goal; else (None, why).

        A planner that plans goals (the LLM's `plan_goal`) is not asked for family steps
        outside `--task`: its steps are judged by their own goals (`_goal_steps`)."""
        if setup.source != "given" and hasattr(self.planner, "plan_goal"):
            return None, "the model plans the goal's steps"
        try:
            found = self.library.search(instruction, self.k).matches if self.llm else []
            skills = [self.library.get(m.name, m.version) for m in found]
            plan = self.planner.plan(
                instruction, list(setup.objects), skills
            )  # AgentError: nothing written
        except AgentError as exc:
            if setup.source == "given":
                raise
            return None, f"the step planner could not plan it ({exc})"
        if setup.source == "given":  # --task: the family's own goal, its own kind of plan
            return plan, ""
        missing = uncovered(plan, setup)
        if missing:
            return None, f"the library's steps do not achieve {missing}"
        return plan, ""

    def _compose(self, instruction: str, setup: Setup, why: str, t0: float, llm0) -> RunRecord:
        """No library plan covers the goal: a skill for its goal template, reused,
        composed or written (`agent.plan.resolve`), runs on the run's scene."""
        from agent.plan.resolve import resolve_goal

        steps = self._goal_steps(instruction, setup)
        if steps is not None:
            record = self._run_goal_steps(instruction, setup, steps, t0, llm0)
            if record is not None:
                return record
        whole = Intent("goal", query=setup.goal)
        plan = Plan((Step(instruction, whole),), whole, "goal-composer")
        self.log(f"{why}: a skill for the goal's template")
        choice = resolve_goal(self, instruction, setup, self.log)
        if choice.code is None:
            return self._finish(
                instruction,
                setup,
                plan,
                [choice.decision],
                [],
                None,
                t0,
                llm0,
                reason=f"could not: {why}, and {choice.reason}",
            )
        ran = [Resolved(choice.entry, choice.version or 0, choice.code, choice.args)]
        kept = ran if choice.version is not None else []  # an unproven composite is not kept
        return self._run_program(
            instruction, setup, plan, [choice.decision], ran, kept, choice.key, t0, llm0
        )

    def _goal_steps(self, instruction: str, setup: Setup) -> list[tuple[str, str]] | None:
        """A planner that plans goals (the LLM's) breaks the goal into steps, each with
        its own goal; None for one step, no such planner, or no usable plan."""
        plan_goal = getattr(self.planner, "plan_goal", None)
        if plan_goal is None:
            return None
        from sim.goals import State

        filed = [
            i.latest for i in self.library.list() if i.latest.goal_template and i.latest.verified
        ]
        try:
            steps = plan_goal(
                instruction, setup.goal, State.from_json(list(setup.start)), filed[:40]
            )
        except AgentError as exc:
            self.log(f"no plan of steps ({exc}): the goal as a whole")
            return None
        return steps if len(steps) > 1 else None

    def _run_goal_steps(
        self, instruction: str, setup: Setup, steps: list[tuple[str, str]], t0: float, llm0
    ) -> RunRecord | None:
        """Each step's goal gets its skill (reused, composed or written); the steps run as
        one program on the run's scene, judged by the whole goal. None when a step has
        no skill (the caller plans the goal as a whole)."""
        from dataclasses import replace

        from agent.plan.resolve import resolve_goal

        choices = []
        for text, goal in steps:
            choice = resolve_goal(self, text, replace(setup, goal=goal), self.log)
            self.log(f"step {text!r} ({goal}): {choice.decision.decision} -> {choice.entry}")
            if choice.code is None:
                self.log(f"step {text!r}: {choice.reason}; the goal as a whole")
                return None
            choices.append(choice)
        whole = Intent("goal", query=setup.goal)
        plan = Plan(
            tuple(Step(t, Intent("goal", query=g)) for t, g in steps), whole, self.planner.name
        )
        resolved = [Resolved(c.entry, c.version or 0, c.code, c.args) for c in choices]
        kept = [r for r, c in zip(resolved, choices, strict=True) if c.version is not None]
        decisions = [c.decision for c in choices]
        return self._run_program(instruction, setup, plan, decisions, resolved, kept, "", t0, llm0)

    # -- the plan as one program ---------------------------------------------------------
    @staticmethod
    def _program(plan: Plan, resolved: list[Resolved]) -> tuple[str, str, dict]:
        """The code to execute: the one skill, or the skills inlined into a plan function."""
        if len(resolved) == 1:
            r = resolved[0]
            return r.code, r.name, r.args
        from agent.plan.skills import merge_sources

        calls = [
            f"    {r.name}(robot, " + ", ".join(f"{k}={v!r}" for k, v in r.args.items()) + ")"
            for r in resolved
        ]
        entry = (
            'def run_plan(robot):\n    """The plan\'s steps in order."""\n'
            + "\n".join(calls)
            + "\n"
        )
        return merge_sources([*(r.code for r in resolved), entry]), "run_plan", {}

    # -- record --------------------------------------------------------------------------
    def _finish(
        self, instruction, setup: Setup, plan, decisions, resolved, result, t0, llm0, reason=None
    ) -> RunRecord:
        calls, tokens = self._llm_usage()
        record = RunRecord(
            run_id=new_run_id(),
            instruction=instruction.strip(),
            family=setup.family,
            family_source=setup.source,
            seed=setup.seed,
            planner=plan.planner,
            perception=result.perception if result else self.perception,
            plan=tuple(s.text for s in plan.steps),
            decisions=tuple(decisions),
            skills=tuple(f"{r.name}@v{r.version}" for r in resolved),
            success=bool(result and result.success),
            status=result.status if result else "no-skill",
            reason=reason or (result.reason if result else None),
            seconds=time.perf_counter() - t0,
            llm_calls=calls - llm0[0],
            tokens=tokens - llm0[1],
            args=plan.whole.args,
            poses=(result.poses or {}) if result else {},
            goal=(result.goal if result and result.goal else setup.goal),
            atoms=tuple(result.atoms) if result else (),
            objects=tuple(result.objects or ()) if result else setup.start,
            scene=setup.layout or (),
            trajectory=(result.trajectory or {}) if result else {},
        )
        return self.runs.save(record, result.gif if result else None)

    def _llm_usage(self) -> tuple[int, int]:
        if self.llm is None:
            return (0, 0)
        u = self.llm.usage
        return (u.calls, u.prompt_tokens + u.completion_tokens)
