"""Self-supervised policy data: the steps of recorded runs whose goal held, as training rows.

A run whose verdict is a success (`RunRecord.success`: the goal evaluated by the
simulator on its own end state) carries everything a training row needs, with no expert:

- **the steps**: `run_steps.run_steps`: the trajectory cut into one object's moves, each
  matched to a move of the goal planner's plan of the run's goal, which gives the step's
  phrase (`skills.phrases.step_phrase`, exactly what the robot API asks the pose provider)
  and its kind. A move no planned step explains (a bump), and a parking move (no atom
  says where it goes), give no row.
- **the view**: the scene is rebuilt with every object where the trajectory saw it just
  before the step (`run_steps.rebuild`) and the policy's camera renders it (`observe`); a rebuilt
  scene that does not settle within `run_steps.SETTLE_TOL` of the recorded poses gives
  no row (it would not be the scene the step saw).
- **the step verified on its own**: the goal held at the end of the run, but a step
  gives a row only if its own atoms hold with the object where the step left it (the
  scene rebuilt before it, the object put there: `practice.holds_at_rest`); a step a later
  one had to make good gives none.
- **the poses the simulator confirmed**: the grasp is where the object stood before the
  step, with the grasp yaw the oracle geometry picks for the turn the object made
  (`sim.poses.pick_pose`); the placement is where the object came to rest after the step
  (`sim.poses.place_pose` at its recorded end position, bottom height and yaw), in the same
  key-point convention as the demonstrations (`agent.policy.goal_data.expert_poses`), so
  the rows mix with them. A pick step (the goal holds the object) has no placement.

Only runs whose goal held give rows, unless practice is asked for: then each step of a
failed run is tried again in the simulator near where the robot put the object until its
atoms hold (`agent.policy.practice`), and the spot found is the row. A failed run's steps
also go to the correction queue (`agent.policy.step_queue.enqueue_runs`). Pushes are not turned into rows: where a push
started is not something the trajectory confirms.

Public (called by `learn --explore` and `policy self-train`; the signatures are kept):

- `rows_from_runs(home, run_ids=None, spec=None, progress=None, practice=False) -> RunRows`
- `finetune_from_runs(home, run_ids=None, strategy="replay", ...) -> dict`
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples
from agent.policy.geometry import ImageSpec, observe
from agent.policy.run_steps import RunStep, rebuild, run_steps

KIND = "self-supervised"  # the manifest's kind of a checkpoint fine-tuned on run rows


@dataclass(frozen=True)
class RunRows:
    """Rows made from runs: the samples (`family` holds each step's relation, `instruction`
    its phrase, `seed` the run's scene seed), which run and step each row came from, and
    the runs (or steps) that gave none, with why."""

    samples: Samples | None
    run_id: np.ndarray
    step: np.ndarray
    runs: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return 0 if self.samples is None else len(self.samples)


def confirmed_poses(world, step: RunStep) -> tuple[tuple, tuple | None]:
    """(grasp, placement) of a step carried out: the grasp of the object where it stood
    (rebuilt world), prepared for the turn it made; the placement where it came to rest."""
    from sim import poses
    from sim.geometry import wrap_angle

    held = next(o for o in world.objects if o.description == step.obj)
    x0, y0, _, yaw0 = step.before[step.obj]
    if step.after is None or step.move["kind"] == "pick":
        return poses.pick_pose(world, held, 0.0, None), None
    x1, y1, z1, yaw1 = (float(v) for v in step.after)
    sym = held.shape.symmetry
    turn = 0.0
    if sym:
        d = math.radians(yaw1 - float(yaw0))
        turn = min((wrap_angle(d + k * sym) for k in range(-4, 5)), key=abs)
    pick = poses.pick_pose(world, held, turn, (x1, y1))
    return pick, poses.place_pose(held, (x1, y1), max(z1, 0.0), wrap_angle(pick[3] + turn))


def _records(home: Path, run_ids: list[str] | None, success: bool | None) -> list:
    from agent.run.records import RunStore
    from skills.db import DB_NAME

    if not (Path(home) / DB_NAME).is_file():  # no runs: nothing to open (nor to create)
        if run_ids:
            raise AgentError(f"no run with id {run_ids[0]!r}")
        return []
    store = RunStore(home)
    try:
        if run_ids is None:
            records = store.list(limit=100_000)[::-1]  # oldest first
        else:
            records = [store.get(r) for r in dict.fromkeys(run_ids)]
    finally:
        store.close()
    return [r for r in records if success is None or r.success is success]


def load_for(home: Path, version=None, embedder=None, threads: int = 2):
    """The `Policy` of a checkpoint, with the embedder its manifest names when none is
    given (a hashing embedder for checkpoints trained with one, else MiniLM)."""
    from agent.policy.checkpoint import resolve
    from agent.policy.provider import embedder_for
    from agent.policy.train import load_policy

    if embedder is None:
        embedder = embedder_for(resolve(home, version).manifest.get("encoder", ""))
    return load_policy(home, version, embedder, threads=threads)


def default_spec(home: Path) -> ImageSpec:
    """The latest checkpoint's image spec, or the default one when there is none."""
    from agent.policy.checkpoint import versions

    if not versions(home):
        return ImageSpec()
    from agent.policy.checkpoint import load_checkpoint

    return load_checkpoint(home, None)[1]


def rows_from_runs(
    home: Path,
    run_ids: list[str] | None = None,
    spec: ImageSpec | None = None,
    progress: Callable[[int, int], None] | None = None,
    practice: bool = False,
) -> RunRows:
    """Training rows from the successful runs of a data home, with no expert label.

    Args:
        home: the data home whose runs (`runs list`) are read.
        run_ids: the runs to use (None: every stored run); runs whose goal did not hold
            are passed over (listed in `skipped`) unless `practice`.
        spec: the policy's image spec (None: the latest checkpoint's, else the default).
        progress: callable(done, total) after each run.
        practice: also the steps of runs whose goal did not hold, each as it should have
            been carried out, found by trying in the simulator (`agent.policy.practice`).

    Returns:
        A `RunRows` (its `samples` None when no run gave a row).

    Raises:
        AgentError: a run id that is not stored.
    """
    from sim.world import World

    spec = spec or default_spec(home)
    records = _records(Path(home), run_ids, None)
    parts, rid, step, used, skipped = [], [], [], [], []
    world = None
    try:
        for i, rec in enumerate(records):
            if not rec.success and not practice:
                skipped.append({"run_id": rec.run_id, "why": "its goal did not hold"})
            elif not (rec.trajectory or {}).get("samples"):
                skipped.append({"run_id": rec.run_id, "why": "it has no trajectory"})
            else:
                world = world or World(image_size=(spec.render, spec.render))
                got = _rows_of(world, rec, spec, skipped, practice and not rec.success)
                if got:
                    used.append(rec.run_id)
                elif not any(s["run_id"] == rec.run_id for s in skipped):
                    why = "no step of its goal's plan was seen carried out"
                    skipped.append({"run_id": rec.run_id, "why": why})
                for n, row in got:
                    parts.append(row)
                    rid.append(rec.run_id)
                    step.append(n)
            if progress is not None:
                progress(i + 1, len(records))
    finally:
        if world is not None:
            world.close()
    return RunRows(
        Samples.concat(parts) if parts else None,
        np.array(rid, dtype=str),
        np.array(step, dtype=np.int64),
        used,
        skipped,
    )


def _rows_of(
    world, record, spec: ImageSpec, skipped: list, practise: bool = False
) -> list[tuple[int, Samples]]:
    from agent.policy.practice import holds_at_rest, practised

    out = []
    for st in run_steps(record):
        if not st.atoms and st.move["kind"] != "pick":  # where a parked object goes is free
            skipped.append({"run_id": record.run_id, "step": st.index, "why": "a parking move"})
            continue
        if st.before is None or st.after is None:
            skipped.append(
                {"run_id": record.run_id, "step": st.index, "why": "not seen carried out"}
            )
            continue
        if practise:  # a failed run: each step as it should have been carried out
            fixed, why = practised(world, record, st)
            if fixed is None:
                skipped.append({"run_id": record.run_id, "step": st.index, "why": why})
                continue
            st = fixed
        why = rebuild(world, st.before)
        if why:
            skipped.append({"run_id": record.run_id, "step": st.index, "why": why})
            continue
        rgb, depth = observe(world, spec)
        pick, place = confirmed_poses(world, st)
        if not practise and st.move["kind"] != "pick" and not holds_at_rest(world, record, st):
            # the goal held at the end, but not this step's own atoms where it left the
            # object (a later step fixed it up, or moved it again): not a verified step
            why = "its atoms did not hold where it left the object"
            skipped.append({"run_id": record.run_id, "step": st.index, "why": why})
            continue
        row = Samples.single(
            rgb, depth, st.phrase, st.relation, record.seed, st.primitive, pick, place, st.symmetry
        )
        out.append((st.index, row))
    return out


# -- fine-tuning on them ---------------------------------------------------------------------
def used_runs(home: Path) -> set[str]:
    """Runs some self-supervised fine-tune has learned from (their checkpoints' manifests)."""
    from agent.policy.checkpoint import list_checkpoints

    return {
        str(r) for m in list_checkpoints(home) if m.get("kind") == KIND for r in m.get("runs") or []
    }


def new_runs(home: Path) -> list[str]:
    """Successful runs no self-supervised fine-tune has used, oldest first.

    Raises:
        AgentError: there is none.
    """
    done = used_runs(home)
    runs = [r.run_id for r in _records(Path(home), None, True) if r.run_id not in done]
    if not runs:
        raise AgentError(
            "no successful run that no self-supervised fine-tune has used: "
            "run tasks first (`skillgrove run`, `learn`), or name runs with --runs"
        )
    return runs


def finetune_from_runs(
    home: Path,
    run_ids: list[str] | None = None,
    strategy: str = "replay",
    *,
    version: int | str | None = None,
    steps: int = 150,
    augment: bool = True,
    optim=None,
    embedder=None,
    progress: Callable[[str], None] | None = None,
    rows_progress: Callable[[int, int], None] | None = None,
    practice: bool = False,
) -> dict:
    """Fine-tune a checkpoint on rows from successful runs and save a new version.

    The strategy first observes the demonstrations of the families the checkpoint knows
    (`finetune._known_data`, as `policy finetune` does), then one `loop.fit` on the rows
    (`rows_from_runs`); the checkpoint's manifest (kind "self-supervised") names its
    parent and the runs it learned from.

    Args:
        home: the data home.
        run_ids: the runs to learn from (None: every successful run no earlier
            self-supervised fine-tune has used).
        strategy: a continual-learning strategy (`strategies.make_strategies`).
        version: the checkpoint to start from (None: the latest).
        steps: optimizer steps.
        augment: train on random table turns and shifts of each row.
        optim: a `settings.Optim` (learning rate, batch size, seed, threads).
        embedder: the instruction embedder (None: the checkpoint's default).
        progress: callable(str) for progress lines; rows_progress: callable(done, total).
        practice: also learn from the failed runs among `run_ids`, each step as practice
            in the simulator found it should have been carried out (`rows_from_runs`).

    Returns:
        {"version", "parent", "checkpoint", "strategy", "runs", "rows", "relations",
         "skipped", "steps", "first_loss", "final_loss", "train_seconds", "seconds"}

    Raises:
        AgentError: unknown strategy, no checkpoint, an unknown run, or no row to learn from
            (nothing is written then).
    """
    from agent.policy.augment import Augment
    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.data import SINGLE_ACTION
    from agent.policy.finetune import _known_data
    from agent.policy.loop import FitConfig, fit
    from agent.policy.loop import observe as observe_data
    from agent.policy.prepare import prepare
    from agent.policy.settings import Optim
    from agent.policy.strategies import make_strategies

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    optim = optim or Optim()
    make_strategies(strategy)  # an unknown strategy fails before any work
    policy = load_for(home, version, embedder, optim.threads)
    if run_ids is None:
        run_ids = new_runs(home)
    rows = rows_from_runs(home, run_ids, policy.spec, rows_progress, practice)
    if not len(rows):
        why = "; ".join(f"{s['run_id']}: {s['why']}" for s in rows.skipped[:3])
        raise AgentError(f"no training row from the runs given ({why or 'none stored'})")
    relations = list(dict.fromkeys(rows.samples.family.tolist()))
    parent = policy.info.get("version")
    say(f"fine-tuning v{parent:04d} on {len(rows)} rows of {len(rows.runs)} runs with {strategy}")
    known = [f for f in policy.info.get("families") or [] if f in SINGLE_ACTION]
    plugins = make_strategies(strategy)
    old, n_known = _known_data(home, policy, known)
    if old is not None:
        observe_data(policy.model, old, plugins, optim.threads)
    data = prepare(rows.samples, policy.spec, policy.encoder, task=1)
    fc = FitConfig(steps, optim, augment=Augment(policy.spec) if augment else None)
    res = fit(policy.model, data, fc, plugins, index=1, name="self-supervised")
    say(f"{steps} steps in {res.seconds:.1f} s, loss {res.first_loss:.3f} -> {res.final_loss:.3f}")
    families = list(dict.fromkeys([*(policy.info.get("families") or []), *relations]))
    meta = {
        "kind": KIND,
        "parent": parent,
        "runs": rows.runs,
        "rows": len(rows),
        "relations": relations,
        "strategy": strategy,
        "practice": practice,
        "families": families,
        "steps": steps,
        "augment": augment,
        "seed": optim.seed,
        "n_known": n_known or None,
        "goal_templates": bool(policy.info.get("goal_templates")),
    }
    info = save_checkpoint(home, res.model, policy.spec, policy.encoder.name, meta)
    return {
        "version": info.version,
        "parent": parent,
        "checkpoint": str(info.path),
        "strategy": strategy,
        "runs": rows.runs,
        "rows": len(rows),
        "relations": relations,
        "skipped": rows.skipped,
        "steps": steps,
        "first_loss": res.first_loss,
        "final_loss": res.final_loss,
        "train_seconds": res.seconds,
        "seconds": time.perf_counter() - t0,
    }
