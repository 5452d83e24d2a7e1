"""A person correcting the policy: show the scene, turn typed values into a pose, store it.

Used by `skillgrove policy correct` (and usable by a web UI): `show_scene` builds a
seeded scene, predicts, and writes a PNG with the predicted poses drawn on it;
`check_typed` validates what a person typed before anything is built or written;
`corrected_pose` turns a corrected pixel (in that PNG) and angle, or offsets, into a
pose; `draw_scene` redraws the PNG with the correction; `store_human_correction`
diagnoses and stores it through `corrections` like every other correction.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.corrections import (
    CorrectionStore,
    clip_to_workspace,
    diagnose,
    make_correction,
    store_path,
    validate_angle,
    validate_offsets,
    validate_pixel,
)
from agent.policy.draw import FIX_COLOR, PICK_COLOR, PLACE_COLOR, SCALE, draw_poses
from agent.policy.geometry import ImageSpec, height_map, pixel_to_point, surface_height


@dataclass(frozen=True)
class Scene:
    """What the person sees: the task instance, the policy's prediction and the PNG.

    For a run's step (`step_queue`), `family` is the step's goal template, `instruction`
    its phrase, and `run_id`, `step` name it; None for a family scene.
    """

    family: str
    seed: int
    instruction: str
    primitive: str
    rgb: np.ndarray
    depth: np.ndarray
    pick: tuple
    place: tuple | None
    symmetry: float
    image: Path
    checkpoint: int | None
    run_id: str | None = None
    step: int | None = None


def show_scene(home: Path, policy, family: str, seed: int, world=None) -> Scene:
    """Build the scene of (family, seed), predict, and draw the prediction to a PNG."""
    from agent.policy.data import acted_object, primitive_of
    from agent.policy.geometry import observe
    from agent.policy.train import check_families
    from sim.runner import check_seed, reset_task
    from sim.world import World

    check_families([family])
    check_seed(seed)
    own = world is None
    world = world or World()
    try:
        task = reset_task(world, family, seed)
        rgb, depth = observe(world, policy.spec)
        pred = policy.predict(rgb, depth, task.instruction, primitive_of(family))
        symmetry = float(acted_object(world, pred.pick).shape.symmetry)
    finally:
        if own:
            world.close()
    prim = primitive_of(family)
    place = None if prim == "pick" else pred.place
    path = Path(home) / "policy" / "corrections" / f"{family}-s{seed}-{int(time.time() * 1000)}.png"
    scene = Scene(
        family,
        seed,
        task.instruction,
        prim,
        rgb,
        depth,
        pred.pick,
        place,
        symmetry,
        path,
        policy.info.get("version"),
    )
    draw_scene(policy.spec, scene)
    return scene


def draw_scene(
    spec, scene: Scene, action: str | None = None, corrected: tuple | None = None
) -> Path:
    """(Re)write the scene's PNG: the predicted poses and, if given, the corrected pose of
    `action` (green, labelled "<action> fix")."""
    marks = [("pick", scene.pick, PICK_COLOR)]
    if scene.place is not None:
        marks.append(("place", scene.place, PLACE_COLOR))
    if corrected is not None and action is not None:
        marks.append((f"{action} fix", corrected, FIX_COLOR))
    return draw_poses(scene.rgb, spec, marks, scene.image)


def check_typed(spec, family: str, action: str, pixel=None, angle=None, offsets=None) -> None:
    """Validate what a person typed, before any scene is built or any file written.

    Args:
        spec: the policy's `ImageSpec` (the PNG is its crop enlarged `SCALE` times).
        family: the task family (a pick-only family has no place pose).
        action, pixel, angle, offsets: as for `corrected_pose`.

    Raises:
        AgentError: see `corrected_pose`.
    """
    from agent.policy.data import primitive_of

    if action not in ("pick", "place"):
        raise AgentError(f"action must be pick or place, got {action!r}")
    if action == "place" and primitive_of(family) == "pick":
        raise AgentError(f"a {family} action has no place pose to correct")
    if offsets is not None and (pixel is not None or angle is not None):
        raise AgentError("give a pixel and/or an angle, or offsets, not both")
    if offsets is None and pixel is None and angle is None:
        raise AgentError("nothing to correct: give a pixel and/or an angle, or offsets")
    if pixel is not None:
        if len(pixel) != 2:
            raise AgentError(f"a pixel is two numbers U V, got {' '.join(map(str, pixel))!r}")
        h, w = spec.shape
        validate_pixel(pixel[0], pixel[1], w * SCALE, h * SCALE)
    if angle is not None:
        validate_angle(angle)
    if offsets is not None:
        validate_offsets(*offsets)


def corrected_pose(spec, scene: Scene, action: str, pixel=None, angle=None, offsets=None) -> tuple:
    """The corrected pose of `action` ("pick" or "place") from what a person typed.

    Args:
        pixel: (u, v) in the PNG of `show_scene` (enlarged `SCALE` times): the new point;
            its height is the surface seen there plus the predicted height above it.
        angle: the new gripper yaw in degrees, [-180, 180] (with or without a pixel).
        offsets: (dx, dy, dz in meters, dyaw in degrees) added to the predicted pose.

    Raises:
        AgentError: out-of-image pixel, NaN, angle or offset out of range, both forms
            given, or a place correction for a pick-only task.
    """
    check_typed(spec, scene.family, action, pixel, angle, offsets)
    if action == "place" and scene.place is None:
        raise AgentError(f"a {scene.family} action has no place pose to correct")
    pred = scene.pick if action == "pick" else scene.place
    if offsets is not None:
        dx, dy, dz, dyaw = validate_offsets(*offsets)
        return (
            pred[0] + dx,
            pred[1] + dy,
            pred[2] + dz,
            math.remainder(pred[3] + math.radians(dyaw), 2 * math.pi),
        )
    x, y, z, yaw = pred
    if pixel is not None:
        h, w = scene.rgb.shape[:2]
        u, v = validate_pixel(pixel[0], pixel[1], w * SCALE, h * SCALE)
        heights = height_map(spec, scene.depth)
        from agent.policy.draw import pose_pixel

        pu, pv = pose_pixel(spec, pred)
        above = z - surface_height(heights, pv / SCALE, pu / SCALE)
        row, col = v / SCALE, u / SCALE
        z = max(surface_height(heights, row, col) + above, 0.005)  # never below the table
        x, y, _ = pixel_to_point(spec, row, col, z)
    if angle is not None:
        yaw = math.radians(validate_angle(angle))
    return (float(x), float(y), float(z), float(yaw))


def store_human_correction(
    home: Path, scene: Scene, action: str, pose: tuple, expert: str = "human"
) -> tuple[int, str]:
    """Diagnose and store a person's correction of one action; returns (id, diagnosis)."""
    # The action not corrected keeps the predicted pose (brought inside the workspace).
    pick = pose if action == "pick" else clip_to_workspace(scene.pick)
    if scene.place is None:  # a pick-only task has no place pose to keep or correct
        place = None
    else:
        place = pose if action == "place" else clip_to_workspace(scene.place)
    return store_correction_poses(home, scene, pick, place, expert)


def store_correction_poses(
    home: Path, scene: Scene, pick: tuple, place: tuple | None, expert: str
) -> tuple[int, str]:
    """Diagnose and store a correction giving every key pose (place None for a pick)."""
    diag = diagnose(
        scene.pick, scene.place, pick, place, scene.symmetry, scene.primitive, scene.family
    )
    c = make_correction(
        family=scene.family,
        seed=scene.seed,
        instruction=scene.instruction,
        primitive=scene.primitive,
        rgb=scene.rgb,
        depth=scene.depth,
        predicted_pick=scene.pick,
        predicted_place=scene.place,
        corrected_pick=pick,
        corrected_place=place,
        expert=expert,
        diagnosis=diag,
        symmetry=scene.symmetry,
        checkpoint=scene.checkpoint,
        run_id=scene.run_id,
        step=scene.step,
    )
    return CorrectionStore(store_path(home)).add(c), diag


def typed_offsets(dx=None, dy=None, dz=None, dyaw=None) -> tuple | None:
    """The offsets a person typed (a missing one is 0), or None when none was typed."""
    given = (dx, dy, dz, dyaw)
    if all(v is None for v in given):
        return None
    return tuple(v if v is not None else 0.0 for v in given)


def open_correction(
    home: Path,
    family: str,
    seed: int,
    version,
    action: str,
    pixel=None,
    angle=None,
    offsets=None,
    expert: str = "human",
):
    """Check what a person asks for, load the checkpoint and show the scene (its PNG).

    What was typed is validated before the scene is built or any file written.

    Returns:
        (policy, scene, shown) where `shown` is {"family", "seed", "checkpoint", "image",
        "instruction", "predicted": {"pick", "place"}}.
    """
    from agent.policy.train import check_families, load_policy

    check_families([family])
    if not expert.strip() or len(expert) > 80:
        raise AgentError("--expert must be a non-empty name of at most 80 characters")
    policy = load_policy(home, version)
    if pixel is not None or angle is not None or offsets is not None:
        check_typed(policy.spec, family, action, pixel, angle, offsets)
    scene = show_scene(home, policy, family, seed)
    shown = {
        "family": family,
        "seed": seed,
        "checkpoint": scene.checkpoint,
        "image": str(scene.image),
        "instruction": scene.instruction,
        "predicted": {"pick": scene.pick, "place": scene.place},
    }
    return policy, scene, shown


def finish_correction(
    home: Path, spec, scene: Scene, action: str, pixel, angle, offsets, expert: str
) -> dict:
    """Store the typed correction of the scene and redraw its PNG with it.

    Returns:
        {"id", "diagnosis", "action", "corrected"}; on an error nothing is stored and
        the scene's PNG is removed.
    """
    try:
        pose = corrected_pose(spec, scene, action, pixel, angle, offsets)
        cid, diag = store_human_correction(home, scene, action, pose, expert)
    except AgentError:
        with contextlib.suppress(OSError):
            scene.image.unlink()  # nothing stored: leave nothing behind
        raise
    draw_scene(spec, scene, action, pose)
    return {"id": cid, "diagnosis": diag, "action": action, "corrected": pose}


# -- storing a person's correction of a queued scene ---------------------------------------
def correct_pending(
    home: Path, pending_id: int, pick: dict | None, place: dict | None, expert: str = "human"
) -> tuple[int, str]:
    """Store a person's correction of a queued scene, as `policy correct` would, and dequeue it.

    Args:
        pick, place: what the person gave for each key pose, in the terms of
            `human.corrected_pose`: {"pixel": (u, v) in the enlarged PNG or None,
            "angle": yaw degrees or None}; None for a key pose left as predicted.
            A place for a pick-only task is an error.

    Returns:
        (correction id, diagnosis).

    Raises:
        KeyError: no scene with this id is waiting.
        AgentError: a pixel, angle or pose that `corrected_pose`/`make_correction` refuse.
    """
    from agent.policy.queue import open_queue

    queue = open_queue(home)
    item = queue.get(pending_id)
    if item.correction is not None or not queue.claim(pending_id):
        raise KeyError(pending_id)
    try:
        sc, spec = item.scene, item.spec
        poses = {
            a: corrected_pose(spec, sc, a, g.get("pixel"), g.get("angle"), None)
            for a, g in (("pick", pick), ("place", place))
            if g is not None
        }
        pose = poses.get("pick") or clip_to_workspace(sc.pick)  # nothing given: kept as predicted
        if sc.place is None:
            # store_human_correction would diagnose a pick-only scene with the pick as its place
            cid, diag = store_correction_poses(home, sc, pose, None, expert)
        elif "place" in poses and "pick" in poses:
            cid, diag = store_correction_poses(home, sc, poses["pick"], poses["place"], expert)
        elif "place" in poses:
            cid, diag = store_human_correction(home, sc, "place", poses["place"], expert)
        else:
            cid, diag = store_human_correction(home, sc, "pick", pose, expert)
    except BaseException:
        queue.release(pending_id)
        raise
    queue.done(pending_id, cid)
    _redraw(spec, sc, poses)
    return cid, diag


def _redraw(spec: ImageSpec, scene, poses: dict) -> None:
    """Add the corrected poses to the scene's PNG, as `policy correct` does after storing."""
    from agent.policy.draw import FIX_COLOR, PICK_COLOR, PLACE_COLOR, draw_poses

    if not poses or not scene.image.parent.is_dir():
        return
    marks = [("pick", scene.pick, PICK_COLOR)] + (
        [] if scene.place is None else [("place", scene.place, PLACE_COLOR)]
    )
    marks += [(f"{a} fix", p, FIX_COLOR) for a, p in poses.items()]
    draw_poses(scene.rgb, spec, marks, scene.image)


def pose_change(predicted, corrected) -> str:
    """'moved 3.2 cm, turned 15°' between two (x, y, z, yaw) poses ('' when the same)."""
    if predicted is None or corrected is None:
        return ""
    d = math.dist(predicted[:3], corrected[:3]) * 100
    turn = abs(math.degrees(math.remainder(float(corrected[3]) - float(predicted[3]), 2 * math.pi)))
    parts = ([f"moved {d:.1f} cm"] if d >= 0.05 else []) + (
        [f"turned {turn:.0f}°"] if turn >= 0.5 else []
    )
    return ", ".join(parts) or "kept"
