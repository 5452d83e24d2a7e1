"""Corrections on any step of any goal: a failed run's step, its phrase, and who corrects it.

A run's steps come from `self_data.run_steps` (the goal planner's moves, each with its
phrase, and the poses before it where the trajectory shows them). For a failed run, the
step to correct is `failed_step`: the first step not carried out, or carried out while an
atom it serves is false at the end. Its scene is rebuilt as it stood before the step
(`self_data.rebuild`) and the policy is asked with the step's phrase, as the pose provider
asks it during a run. From there:

- `enqueue_runs`: the failure is queued for a person (`queue.PendingQueue`, the web UI's
  Corrections page), with the simulated expert's poses (`goal_data.expert_poses` of the
  planned move) for its diagnosis, and an informativeness score (`informativeness`) by
  which the queue is ordered, most informative first.
- `expert_correct_step`: the simulated expert (`feedback.SimulatedExpert`, the oracle's
  poses with optional noise) corrects the step; the correction is stored with the run, the
  step and its phrase, diagnosed position vs orientation as every correction is.

The informativeness score (0..1, higher first) of a queued failure is

    score = 0.4 * uncertainty + 0.3 * closeness + 0.3 * novelty

- uncertainty: 1 - the lower of the two key-point heads' confidences (the softmax mass at
  the cell each chose): a prediction the policy was unsure of is where a label moves it most;
- closeness: how close the attempt came: for a run, the share of its goal's atoms true at
  the end (a near miss is one fix from a success); for a held-out family scene, 1 - the
  predicted pose's distance from the oracle's over 10 cm (clipped to 0..1);
- novelty: 1 / (1 + corrections stored or waiting for the same goal template): the first
  corrections of a template teach more than the tenth.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from agent.errors import AgentError
from agent.policy.run_steps import RunStep, rebuild, run_steps

WEIGHTS = {"uncertainty": 0.4, "closeness": 0.3, "novelty": 0.3}
NEAR = 0.10  # meters of pose error at which a family failure counts as not close at all


def informativeness(pred, closeness: float, seen: int) -> tuple[float, dict]:
    """(score, its parts) of a failure (see the module docstring).

    Args:
        pred: the policy's `Prediction` (its key points' confidences).
        closeness: how close the attempt came, 0..1.
        seen: corrections stored or waiting for the same template.
    """
    conf = min(float(pred.pick_key.confidence), float(pred.place_key.confidence))
    parts = {
        "uncertainty": min(max(1.0 - conf, 0.0), 1.0),
        "closeness": min(max(float(closeness), 0.0), 1.0),
        "novelty": 1.0 / (1.0 + max(int(seen), 0)),
    }
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    return round(score, 4), {k: round(v, 4) for k, v in parts.items()}


def pose_closeness(pos_error: float) -> float:
    """Closeness of a family scene's failure from its position error (meters)."""
    return 1.0 - min(max(float(pos_error) / NEAR, 0.0), 1.0) if math.isfinite(pos_error) else 0.0


def goal_closeness(record) -> float:
    """The share of the run's goal atoms true at its end (0 without atoms)."""
    atoms = list(record.atoms)
    return sum(bool(a.get("value")) for a in atoms) / len(atoms) if atoms else 0.0


def seen_count(path: Path, family: str) -> int:
    """Corrections stored plus failures waiting for this template (family or relation)."""
    from agent.policy.corrections import session

    with session(path) as db:
        done = db.execute("SELECT COUNT(*) FROM corrections WHERE family = ?", (family,))
        n = int(done.fetchone()[0])
        wait = db.execute(
            "SELECT COUNT(*) FROM pending WHERE family = ? AND correction IS NULL", (family,)
        )
        return n + int(wait.fetchone()[0])


def failed_step(record, steps: list[RunStep] | None = None) -> RunStep | None:
    """The step of a failed run to correct: the first one not carried out, or carried out
    while an atom it serves has the wrong truth at the end; None when none can be told
    (or its scene before it is unknown)."""
    truth = {str(a.get("atom")): bool(a.get("value")) for a in record.atoms}
    for s in steps if steps is not None else run_steps(record):
        if s.before is None:
            return None
        if s.after is None or any(truth.get(t, positive) != positive for positive, t in s.atoms):
            return s
    return None


def _step_of(record, step: int | None) -> RunStep:
    steps = run_steps(record)
    if step is None:
        s = failed_step(record, steps)
        if s is None:
            raise AgentError(f"run {record.run_id!r} has no step to correct that can be told")
        return s
    s = next((s for s in steps if s.index == step), None)
    if s is None:
        raise AgentError(
            f"run {record.run_id!r} has no step {step} (it has {len(steps)}: 0..{len(steps) - 1})"
        )
    if s.before is None:
        raise AgentError(f"step {step} of run {record.run_id!r} was never reached")
    return s


def step_scene(home: Path, policy, record, step: RunStep, world):
    """The step's scene rebuilt, the policy asked with its phrase, the simulated expert's
    poses: (`human.Scene` with its PNG drawn, expert pick, expert place)."""
    import time

    from agent.policy.geometry import observe
    from agent.policy.goal_data import expert_poses
    from agent.policy.human import Scene, draw_scene

    why = rebuild(world, step.before)
    if why:
        raise AgentError(f"step {step.index} of run {record.run_id!r}: {why}")
    rgb, depth = observe(world, policy.spec)
    pred = policy.predict(rgb, depth, step.phrase, step.primitive)
    pick, place = expert_poses(world, step.move) if step.primitive != "pick" else (None, None)
    if step.primitive == "pick":
        from sim import poses

        held = next(o for o in world.objects if o.description == step.obj)
        pick = poses.pick_pose(world, held, 0.0, None)
    name = f"run-{record.run_id}-{step.index}-{int(time.time() * 1000)}.png"
    scene = Scene(
        step.relation,
        int(record.seed),
        step.phrase,
        step.primitive,
        rgb,
        depth,
        pred.pick,
        None if step.primitive == "pick" else pred.place,
        step.symmetry,
        Path(home) / "policy" / "corrections" / name,
        policy.info.get("version"),
        run_id=record.run_id,
        step=step.index,
    )
    draw_scene(policy.spec, scene)
    return scene, pred, pick, place


def enqueue_runs(
    home: Path,
    run_ids: list[str] | None = None,
    version: int | str | None = None,
    *,
    embedder=None,
    threads: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Queue the failed step of each failed run for a person's correction, scored.

    Args:
        home: the data home (its runs, checkpoint and correction store).
        run_ids: the runs (None: every failed run made with `--perception policy`).
        version: the checkpoint that predicts ("latest", 3, "v0003").
        embedder, threads, progress: as for `queue.enqueue_failures`.

    Returns:
        {"version", "tried", "queued", "already_queued", "skipped": [{"run_id", "why"}],
         "waiting", "items": [{"id", "run_id", "step", "phrase", "diagnosis", "detail",
         "score", "score_parts", "image"}]}
    """
    from agent.policy.corrections import diagnose
    from agent.policy.evaluate import pose_error
    from agent.policy.queue import _detail, open_queue
    from agent.policy.self_data import _records, load_for
    from sim.world import World

    say = progress or (lambda _m: None)
    policy = load_for(home, version, embedder, threads)
    records = _records(Path(home), run_ids, False)
    if run_ids is None:
        records = [r for r in records if r.perception == "policy"]
    queue = open_queue(home)
    items, skipped, again = [], [], 0
    world = World(image_size=(policy.spec.render, policy.spec.render))
    try:
        for i, rec in enumerate(records):
            st = failed_step(rec)
            if st is None:
                skipped.append({"run_id": rec.run_id, "why": "no step to correct can be told"})
                continue
            if queue.has_step(rec.run_id, st.index, policy.info.get("version")):
                again += 1
                continue
            try:
                scene, pred, pick, place = step_scene(home, policy, rec, st, world)
            except AgentError as exc:
                skipped.append({"run_id": rec.run_id, "why": str(exc)})
                continue
            diag = diagnose(
                scene.pick, scene.place, pick, place, st.symmetry, st.primitive, st.relation
            )
            err = pose_error(scene.pick, scene.place, pick, place, st.symmetry, st.primitive)
            score, parts = informativeness(
                pred, goal_closeness(rec), seen_count(queue.path, st.relation)
            )
            detail = f"run {rec.run_id} step {st.index}: " + _detail(scene.checkpoint, err, diag)
            pid = queue.add(scene, policy.spec, pick, place, diag, detail, score=score)
            if pid is None:
                again += 1
                scene.image.unlink(missing_ok=True)
                continue
            items.append(
                {"id": pid, "run_id": rec.run_id, "step": st.index, "phrase": st.phrase}
                | {"diagnosis": diag, "detail": detail, "score": score, "score_parts": parts}
                | {"image": str(scene.image)}
            )
            say(f"{i + 1}/{len(records)}: run {rec.run_id} step {st.index} queued as #{pid}")
    finally:
        world.close()
    items.sort(key=lambda d: -d["score"])
    return {
        "version": policy.info.get("version"),
        "tried": len(records),
        "queued": len(items),
        "already_queued": again,
        "skipped": skipped,
        "waiting": queue.count(),
        "items": items,
    }


def expert_correct_step(
    home: Path,
    run_id: str,
    step: int | None = None,
    expert=None,
    version: int | str | None = None,
    *,
    embedder=None,
    threads: int = 2,
) -> dict:
    """The simulated expert corrects one step of a run; the correction is stored with the
    run, the step and its phrase.

    Args:
        run_id: the run; step: its step (None: `failed_step`, the step a failure is in).
        expert: a `feedback.SimulatedExpert` (None: the noiseless oracle).
        version: the checkpoint that predicts.

    Returns:
        {"id", "run_id", "step", "phrase", "relation", "diagnosis", "predicted",
         "corrected", "expert", "image"}
    """
    from agent.policy.corrections import CorrectionStore, clip_to_workspace, store_path
    from agent.policy.feedback import SimulatedExpert
    from agent.policy.human import store_correction_poses
    from agent.policy.self_data import _records, load_for
    from sim.world import World

    expert = expert or SimulatedExpert()
    policy = load_for(home, version, embedder, threads)
    (record,) = _records(Path(home), [run_id], None)
    st = _step_of(record, step)
    world = World(image_size=(policy.spec.render, policy.spec.render))
    try:
        scene, _, pick, place = step_scene(home, policy, record, st, world)
    finally:
        world.close()
    fix = lambda p: None if p is None else clip_to_workspace(expert.correct(p))  # noqa: E731
    cid, diag = store_correction_poses(home, scene, fix(pick), fix(place), expert.name)
    (c,) = CorrectionStore(store_path(home)).get([cid])
    return {
        "id": cid,
        "run_id": run_id,
        "step": st.index,
        "phrase": st.phrase,
        "relation": st.relation,
        "diagnosis": diag,
        "predicted": {"pick": c.predicted_pick, "place": c.predicted_place},
        "corrected": {"pick": c.corrected_pick, "place": c.corrected_place},
        "expert": expert.name,
        "image": str(scene.image),
    }


def open_step_correction(
    home: Path,
    run_id: str,
    step: int | None,
    version,
    action: str,
    pixel=None,
    angle=None,
    offsets=None,
    expert: str = "human",
):
    """`human.open_correction` for a run's step: what was typed is checked, the step's
    scene rebuilt and shown (its PNG), ready for `human.finish_correction`.

    Returns:
        (policy, scene, shown) with `shown` as `open_correction`'s plus "run_id", "step",
        "phrase".
    """
    from agent.policy.human import check_typed
    from agent.policy.self_data import _records, load_for
    from sim.world import World

    if not expert.strip() or len(expert) > 80:
        raise AgentError("--expert must be a non-empty name of at most 80 characters")
    policy = load_for(home, version)
    (record,) = _records(Path(home), [run_id], None)
    st = _step_of(record, step)
    if pixel is not None or angle is not None or offsets is not None:
        check_typed(policy.spec, st.relation, action, pixel, angle, offsets)
    world = World(image_size=(policy.spec.render, policy.spec.render))
    try:
        scene = step_scene(home, policy, record, st, world)[0]
    finally:
        world.close()
    shown = {
        "family": st.relation,
        "seed": scene.seed,
        "run_id": run_id,
        "step": st.index,
        "phrase": st.phrase,
        "checkpoint": scene.checkpoint,
        "image": str(scene.image),
        "instruction": scene.instruction,
        "predicted": {"pick": scene.pick, "place": scene.place},
    }
    return policy, scene, shown
