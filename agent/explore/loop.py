"""The exploration loop: choose a template, propose a goal, let the agent try it, record.

Each episode:

1. the template to practise is chosen from the history (`agent.explore.competence`);
2. a goal and a scene are drawn for it and checked (`agent.explore.sampler`); a proposal
   that does not check or cannot be planned is stored as dropped, with the reason, and the
   choice is made again;
3. the agent runs it exactly as `skillgrove run --goal ... --objects ...` does (search,
   reuse, compose or synthesize, the Evaluator's write-back: nothing reaches the library
   that the Evaluator did not pass), judged by the simulator's verdict;
4. the episode is stored at once, with its false atoms (`agent.explore.store`).

Seeds: the k-th row of the home's history (episodes and drops of every session) draws
with `[seed, k]`, so a second session goes on with new goals instead of repeating.
The budget (`episodes`, `minutes`) is per session: it stops before an episode that
would exceed it. With `train_policy`, the runs fine-tune the pose policy every
`finetune_every` episodes and at the end (a successful run's steps as carried out, a
failed run's as practice in the simulator found they should have been, with `practice`),
and the failed ones are queued for corrections (`agent.explore.policy_link`); the agent is then built again, so that a
policy-perceived run uses the new checkpoint.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.explore.catalog import catalog
from agent.explore.competence import EXPLORE, choose, competence
from agent.explore.sampler import NoFill, Proposal, check, fill
from agent.explore.store import ExploreStore
from agent.explore.templates import TEMPLATES, by_id

SEED_SPAN = 2**31 - 1  # scene seeds stay below the evaluation seeds (agent.inputs)


@dataclass(frozen=True)
class ExploreOptions:
    """What a session may spend and on what."""

    episodes: int | None = None  # None: no limit on episodes (then `minutes` is)
    minutes: float | None = None
    objects: str | None = None  # narrows the catalogue (agent.explore.catalog)
    seed: int = 0
    train_policy: bool = False
    finetune_every: int | None = None  # None: once, at the end
    strategy: str = "replay"
    practice: bool = True  # failed runs' steps, practised in the simulator, train too
    explore: float = EXPLORE
    perception: str = "oracle"


def scene_seed(seed: int, k: int) -> int:
    return (seed * 1_000_003 + k * 7_919 + 1) % SEED_SPAN


def applicable(opts: ExploreOptions) -> tuple[list[str], dict[str, str]]:
    """(templates the catalogue can fill, {template: why not} for the others)."""
    cat = catalog(opts.objects)
    ok, skipped = [], {}
    for t in TEMPLATES:
        try:
            fill(t, cat, np.random.default_rng(0), 0)
        except NoFill as exc:
            skipped[t.id] = str(exc)
        else:
            ok.append(t.id)
    if not ok:
        raise AgentError(f"no goal template can be filled from --objects {opts.objects!r}")
    return ok, skipped


class Explorer:
    """One session of exploration on a data home (see the module docstring).

    Args:
        home: the data home.
        make_agent: a context manager factory yielding a ready `agent.loop.Agent`.
        opts: the session's options.
        progress: called after each stored row with (episodes done, seconds spent).
        log: a line per episode (None: silent).
    """

    def __init__(
        self,
        home: Path,
        make_agent: Callable,
        opts: ExploreOptions,
        progress: Callable[[int, float], None] = lambda episodes, seconds: None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.home, self.make_agent, self.opts = Path(home), make_agent, opts
        self.progress, self.log = progress, log or (lambda m: None)
        self.catalog = catalog(opts.objects)
        self.templates, self.skipped = applicable(opts)
        self.session = uuid.uuid4().hex[:12]
        self.store = ExploreStore(home)
        self.t0 = time.monotonic()
        self.rows: list[dict] = []
        self.policy: list[dict] = []
        self.trained_upto = 0  # rows of this session already given to the policy
        self.interrupted: dict | None = None  # the summary of an interrupted session

    # -- budget ---------------------------------------------------------------------------
    def episodes_done(self) -> int:
        return sum(r["kind"] == "episode" for r in self.rows)

    def stop_reason(self) -> str | None:
        o = self.opts
        if o.episodes is not None and self.episodes_done() >= o.episodes:
            return "budget"
        if o.minutes is not None and time.monotonic() - self.t0 >= o.minutes * 60:
            return "minutes"
        return None

    # -- the session ----------------------------------------------------------------------
    def run(self) -> dict:
        """Explore until the budget is spent, nothing is left or an interrupt; the summary.

        KeyboardInterrupt ends the session as "interrupted" (what was learned is kept)
        and is raised again after the summary is stored (and kept as `interrupted`).
        """
        self.store.start_session(self.session, asdict(self.opts))
        before = None
        status, stopped = "done", None
        try:
            while stopped is None:
                with self.make_agent() as agent:
                    if before is None:
                        before = len(agent.library.list())
                    stopped = self._episodes(agent)
                    after = len(agent.library.list())
            if self.opts.train_policy:
                self._train_policy()
        except KeyboardInterrupt:
            status, stopped = "interrupted", "interrupted"
            summary = self.summary(status, stopped, before, None)
            self.store.end_session(self.session, status, summary)
            self.interrupted = summary
            self.store.close()
            raise
        except BaseException:
            self.store.end_session(self.session, "failed", self.summary("failed", None, before))
            self.store.close()
            raise
        summary = self.summary(status, stopped, before, after)
        self.store.end_session(self.session, status, summary)
        self.store.close()
        return summary

    def _episodes(self, agent) -> str | None:
        """Episodes with this agent until the budget is spent (its reason), or until the
        policy was fine-tuned (None: build the agent again)."""
        while True:
            stopped = self.stop_reason()
            if stopped is not None:
                return stopped
            k = self.store.count()
            histories = self.store.histories(self.templates)
            choice = choose(
                histories,
                np.random.default_rng([self.opts.seed, k, 1]),
                library_size=len(agent.library.list()),
            )
            if choice is None:
                return "nothing left"
            template = by_id()[choice.template]
            proposal = fill(
                template,
                self.catalog,
                np.random.default_rng([self.opts.seed, k]),
                scene_seed(self.opts.seed, k),
            )
            dropped = check(proposal, agent.scenes.world)
            base = asdict(proposal) | {
                "session": self.session,
                "rule": choice.rule,
                "why": choice.reason,
                "perception": self.opts.perception,
            }
            if dropped is not None:
                row = base | {"kind": "dropped", "status": "dropped", "reason": dropped.reason}
                self._keep(row, seconds=0.0)
                self.log(f"dropped {proposal.goal}: {dropped.reason}")
                continue
            row = base | self._attempt(agent, proposal)
            row["library_size"] = len(agent.library.list())
            self._keep(row)
            self.log(
                f"{'SUCCESS' if row['success'] else 'FAILED '} {proposal.goal} "
                f"[{choice.rule}] ({row['seconds']:.1f} s)"
            )
            every = self.opts.finetune_every
            if self.opts.train_policy and every and self.episodes_done() % every == 0:
                self._train_policy()
                return None if self.stop_reason() is None else self.stop_reason()

    def _attempt(self, agent, p: Proposal) -> dict:
        """One run through the agent, as `skillgrove run` does it; the row's outcome."""
        from sim.errors import SimError

        t = time.perf_counter()
        try:
            rec = agent.run(
                p.instruction,
                None,
                p.seed,
                goal=p.goal,
                objects=p.objects,
                distractors=p.distractors,
            )
        except (AgentError, SimError) as exc:
            return {
                "kind": "episode",
                "success": False,
                "status": "error",
                "reason": " ".join(str(exc).split())[:300],
                "seconds": round(time.perf_counter() - t, 2),
            }
        false = [
            {"atom": a.get("atom"), "margin": a.get("margin"), "detail": a.get("detail", "")}
            for a in rec.atoms
            if not a.get("value")
        ]
        return {
            "kind": "episode",
            "success": rec.success,
            "status": rec.status,
            "reason": rec.reason,
            "false_atoms": false,
            "decisions": [d.decision for d in rec.decisions],
            "run_id": rec.run_id,
            "seconds": round(time.perf_counter() - t, 2),
        }

    def _keep(self, row: dict, seconds: float | None = None) -> None:
        if seconds is not None:
            row["seconds"] = seconds
        row["id"] = self.store.add(row)
        self.rows.append(row)
        self.progress(self.episodes_done(), time.monotonic() - self.t0)

    def _train_policy(self) -> None:
        """Fine-tune on this session's new runs (failures practised); queue its failures."""
        from agent.explore.policy_link import queue_failures, self_train

        new = [r for r in self.rows[self.trained_upto :] if r["kind"] == "episode"]
        self.trained_upto = len(self.rows)
        ok = [r["run_id"] for r in new if r["success"] and r.get("run_id")]
        bad = [r["run_id"] for r in new if not r["success"] and r.get("run_id")]
        step = {
            "after_episodes": self.episodes_done(),
            "finetune": self_train(self.home, ok + bad, self.opts.strategy, self.opts.practice),
            "queue": queue_failures(self.home, bad),
        }
        self.policy.append(step)
        self.log(f"policy: fine-tune {step['finetune']['status']}, queue {step['queue']['status']}")

    # -- the summary ----------------------------------------------------------------------
    def summary(self, status: str, stopped: str | None, before, after=None) -> dict:
        keys = ("template", "goal", "instruction", "objects", "seed", "rule", "why")
        episodes = [
            {k: r.get(k) for k in (*keys, "success", "status", "reason", "false_atoms")}
            | {
                "decisions": r.get("decisions", []),
                "run_id": r.get("run_id"),
                "seconds": r.get("seconds"),
                "library_size": r.get("library_size"),
            }
            for r in self.rows
            if r["kind"] == "episode"
        ]
        dropped = [
            {k: r.get(k) for k in ("template", "goal", "objects", "reason")}
            for r in self.rows
            if r["kind"] == "dropped"
        ]
        comps = [competence(h).to_dict() for h in self.store.histories(self.templates)]
        return {
            "session": self.session,
            "status": status,
            "stopped": stopped,
            "episodes": episodes,
            "dropped": dropped,
            "success_rate": round(sum(e["success"] for e in episodes) / max(1, len(episodes)), 3),
            "competence": comps,
            "not_applicable": self.skipped,
            "library": {"before": before, "after": after},
            "history": {"episodes": self.store.count("episode")},
            "policy": self.policy,
            "seconds": round(time.monotonic() - self.t0, 1),
        }
