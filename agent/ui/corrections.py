"""What the Corrections page needs from the policy: a queue of failed predictions.

The page shows a failed prediction's scene image with the predicted key poses drawn on
it; the person clicks the correct point(s) and sets the angle(s); the correction is
stored by the policy's own correction store, through the same functions `skillgrove
policy correct` uses. This module holds the small interface the page talks to
(`CorrectionQueue`) and `default_queue(home)`, which returns `PolicyCorrectionQueue`: the
queue `skillgrove policy queue` fills (`agent.policy.queue`, failures of a checkpoint on
held-out scenes) and the corrections store of `agent.policy.corrections`.

Positions on the page are pixels of the image the queue hands out (row, col; continuous,
origin at the top-left corner); angles are degrees, counter-clockwise as seen in the
image from its +col axis. The queue converts them to and from world poses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class KeyPose:
    """A key pose as the page draws it: a pixel position and an angle in the image."""

    row: float
    col: float
    angle: float  # degrees


@dataclass(frozen=True)
class PendingPrediction:
    """A failed prediction waiting for a person's correction.

    Attributes:
        id: the queue's id of the prediction.
        instruction, family, seed: the task it failed on.
        primitive: "pick", "pick_place" or "push" (which key poses there are).
        diagnosis: what failed: "position", "orientation" or "" when unknown.
        detail: a line about the failure (errors, checks), shown as is.
        width, height: size of the image in pixels.
        pick: the predicted first key pose (grasp, or where a push starts).
        place: the predicted second key pose; None for a pick.
        created: when the prediction was made (seconds since the epoch).
        run_id, step: the run and its step (0-based) for a run's failed step (then
            `instruction` is the step's phrase and `family` its goal template); None
            for a family scene.
        score: how informative a correction of it is (the queue's order); None if unknown.
    """

    id: str
    instruction: str
    family: str
    seed: int
    primitive: str
    diagnosis: str
    detail: str
    width: int
    height: int
    pick: KeyPose
    place: KeyPose | None
    created: float = 0.0
    run_id: str | None = None
    step: int | None = None
    score: float | None = None


@dataclass(frozen=True)
class StoredCorrection:
    """A correction as the page lists it."""

    id: str
    prediction_id: str
    instruction: str
    family: str
    created: float
    summary: str


@runtime_checkable
class CorrectionQueue(Protocol):
    """Failed predictions waiting for correction, and the store of corrections."""

    def pending(self, limit: int = 50, offset: int = 0) -> list[PendingPrediction]:
        """Waiting predictions, most informative first."""
        ...

    def count(self) -> int:
        """How many predictions are waiting."""
        ...

    def get(self, prediction_id: str) -> PendingPrediction:
        """One waiting prediction; KeyError when there is none with this id."""
        ...

    def image(self, prediction_id: str) -> np.ndarray:
        """The scene image the policy saw: (height, width, 3) uint8 RGB."""
        ...

    def correct(self, prediction_id: str, pick: KeyPose, place: KeyPose | None) -> StoredCorrection:
        """Store the person's correction (as `skillgrove policy correct` does) and dequeue it.

        Raises:
            KeyError: no waiting prediction with this id.
            ValueError: a pose outside the image or not usable.
        """
        ...

    def recent(self, limit: int = 20) -> list[StoredCorrection]:
        """The latest stored corrections, newest first."""
        ...


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB image as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))).save(buf, format="PNG")
    return buf.getvalue()


def default_queue(home: Path) -> tuple[CorrectionQueue | None, str | None]:
    """The policy's correction queue for a data home, or (None, why not)."""
    try:
        import agent.policy.queue  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name not in ("agent.policy.queue", "agent.policy.corrections", "agent.policy"):
            raise
        return None, (
            "The pose policy's correction store (agent.policy.corrections) is not installed: "
            "the Corrections page has nothing to show."
        )
    return PolicyCorrectionQueue(Path(home)), None


class PolicyCorrectionQueue:
    """`CorrectionQueue` over the policy's store: `agent.policy.queue` and its corrections.

    The queue's scenes come from `skillgrove policy queue`; a correction is stored with
    the functions of `skillgrove policy correct` (`corrected_pose`, then
    `store_human_correction`), so it is the row the CLI would store for the same pixel
    and angle. Nothing is created in the home until there is something to store: without
    a store the queue is simply empty (and `setup_steps` says what to run).

    Args:
        home: the data home.
        expert: the name stored with each correction.
    """

    #: a key is "unchanged" when the page sends back the prediction rounded as it shows it
    SAME_PX = 0.02
    SAME_DEG = 0.1

    def __init__(self, home: Path, expert: str = "human:ui") -> None:
        self.home = Path(home)
        self.expert = expert

    def _queue(self):
        from agent.policy.corrections import store_path
        from agent.policy.queue import PendingQueue

        path = store_path(self.home)
        return PendingQueue(path) if path.is_file() else None

    def _item(self, ps) -> PendingPrediction:
        sc = ps.scene
        h, w = sc.rgb.shape[:2]
        pick = key_from_pose(ps.spec, sc.pick)
        place = None if sc.place is None else key_from_pose(ps.spec, sc.place)
        diag = "" if ps.diagnosis == "none" else ps.diagnosis
        return PendingPrediction(
            str(ps.id),
            sc.instruction,
            sc.family,
            int(sc.seed),
            sc.primitive,
            diag,
            ps.detail,
            int(w),
            int(h),
            pick,
            place,
            ps.created,
            sc.run_id,
            sc.step,
            ps.score,
        )

    def _waiting(self, prediction_id: str):
        from agent.errors import AgentError
        from agent.inputs import ROW_ID

        q = self._queue()
        try:  # an id out of SQLite's range is no prediction (not an overflow)
            ps = q.get(ROW_ID.parse(prediction_id)) if q is not None else None
        except (KeyError, ValueError, AgentError):
            ps = None
        if ps is None or ps.correction is not None:
            raise KeyError(prediction_id)
        return ps

    def pending(self, limit: int = 50, offset: int = 0) -> list[PendingPrediction]:
        q = self._queue()
        return [] if q is None else [self._item(ps) for ps in q.waiting(limit, offset)]

    def count(self) -> int:
        q = self._queue()
        return 0 if q is None else q.count()

    def get(self, prediction_id: str) -> PendingPrediction:
        return self._item(self._waiting(prediction_id))

    def image(self, prediction_id: str) -> np.ndarray:
        return self._waiting(prediction_id).scene.rgb

    def _given(self, ps, action: str, key: KeyPose) -> dict | None:
        """What the person changed of one key pose, as `corrected_pose` takes it (None: nothing)."""
        from agent.policy.draw import SCALE

        pose = ps.scene.pick if action == "pick" else ps.scene.place
        was = key_from_pose(ps.spec, pose)
        moved = abs(key.row - was.row) > self.SAME_PX or abs(key.col - was.col) > self.SAME_PX
        turned = abs((key.angle - was.angle + 180.0) % 360.0 - 180.0) > self.SAME_DEG
        if not (moved or turned):
            return None
        from agent.policy.human import corrected_pose

        h, w = ps.scene.rgb.shape[:2]
        # the page allows the image's far edges; the CLI's pixels stop just inside them
        row, col = min(key.row, h - 1e-3), min(key.col, w - 1e-3)
        # the point as drawn (also when only turned: its height then comes from the surface
        # seen there, as for a click, so a prediction below the table becomes usable)
        given = {"pixel": (col * SCALE, row * SCALE), "angle": None}
        if turned:  # the image angle at the point -> the world yaw the CLI takes, in degrees
            z = corrected_pose(ps.spec, ps.scene, action, given["pixel"], None, None)[2]
            yaw = pose_from_key(ps.spec, KeyPose(row, col, key.angle), z)[3]
            given["angle"] = float(np.degrees(yaw))
        return given

    def correct(self, prediction_id: str, pick: KeyPose, place: KeyPose | None) -> StoredCorrection:
        from agent.errors import AgentError
        from agent.policy.human import correct_pending

        ps = self._waiting(prediction_id)
        sc = ps.scene
        if (place is None) != (sc.place is None):
            raise ValueError(
                "a place pose is needed"
                if place is None
                else f"a {sc.family} task has no place pose"
            )
        try:
            given_pick = self._given(ps, "pick", pick)
            given_place = None if place is None else self._given(ps, "place", place)
            cid, diag = correct_pending(self.home, ps.id, given_pick, given_place, self.expert)
        except AgentError as exc:
            raise ValueError(str(exc)) from None
        from agent.policy.corrections import CorrectionStore, store_path

        (c,) = CorrectionStore(store_path(self.home)).get([cid])
        pred = {"pick": c.predicted_pick, "place": c.predicted_place}
        corr = {"pick": c.corrected_pick, "place": c.corrected_place}
        return StoredCorrection(
            str(cid),
            str(ps.id),
            c.instruction,
            c.family,
            float(c.created),
            _summary(pred, corr, diag, c.expert),
        )

    def recent(self, limit: int = 20) -> list[StoredCorrection]:
        from agent.policy.corrections import CorrectionStore

        q = self._queue()
        if q is None:
            return []
        rows = CorrectionStore(q.path).list(limit=limit)
        src = q.sources([r["id"] for r in rows])
        return [
            StoredCorrection(
                str(r["id"]),
                str(src.get(r["id"], "")),
                r["instruction"],
                r["family"],
                float(r["created"]),
                _summary(r["predicted"], r["corrected"], r["diagnosis"], r["expert"]),
            )
            for r in rows
        ]

    def setup_steps(self) -> list[str]:
        """The commands that fill the queue, given what the home has so far."""
        import shlex

        from agent.policy.checkpoint import list_checkpoints

        cli = f"skillgrove --home {shlex.quote(str(self.home))}"
        made = list_checkpoints(self.home)
        from agent.policy.data import SINGLE_ACTION

        known = (made[-1].get("families") or []) if made else []
        family = next((f for f in known if f in SINGLE_ACTION), "place")
        steps = [] if made else [f"{cli} policy train"]
        return steps + [
            f"{cli} policy queue --family {family} --episodes 20",
            f"{cli} policy queue --all-runs",
        ]


def _summary(predicted: dict, corrected: dict, diagnosis: str, expert: str) -> str:
    """'pick moved 3.2 cm, turned 15°; place kept (diagnosis: position, by human:ui)'."""
    from agent.policy.human import pose_change

    moves = [
        f"{k} {pose_change(predicted.get(k), corrected[k])}"
        for k in ("pick", "place")
        if corrected.get(k) is not None
    ]
    return f"{'; '.join(moves)} (diagnosis: {diagnosis}, by {expert})"


# -- between the page's pixels and the policy's world poses ---------------------------------
def key_from_pose(spec, pose, arm: float = 0.03) -> KeyPose:
    """Where a world pose (x, y, z, yaw in radians) appears in the policy's cropped image.

    The angle is the direction, in the image, of a point `arm` meters from the pose along
    its yaw, so it is right whichever way the camera is turned or mirrored.

    Args:
        spec: the policy's `agent.policy.geometry.ImageSpec`.
    """
    from agent.policy.geometry import point_to_pixel

    x, y, z, yaw = (float(v) for v in pose[:4])
    at = point_to_pixel(spec, (x, y, z))
    tip = point_to_pixel(spec, (x + arm * np.cos(yaw), y + arm * np.sin(yaw), z))
    angle = np.degrees(np.arctan2(-(tip.row - at.row), tip.col - at.col))
    return KeyPose(at.row, at.col, float(angle))


def pose_from_key(
    spec, key: KeyPose, z: float, arm_px: float = 4.0
) -> tuple[float, float, float, float]:
    """The world pose (x, y, z, yaw in radians) at height `z` under a key drawn on the image."""
    from agent.policy.geometry import pixel_to_point

    a = np.radians(key.angle)
    p = pixel_to_point(spec, key.row, key.col, z)
    q = pixel_to_point(spec, key.row - arm_px * np.sin(a), key.col + arm_px * np.cos(a), z)
    yaw = float(np.arctan2(q[1] - p[1], q[0] - p[0]))
    return float(p[0]), float(p[1]), float(z), yaw


def surface_z(spec, depth: np.ndarray, row: float, col: float) -> float:
    """Height of the surface seen at a pixel of the cropped depth image (median of 3x3)."""
    from agent.policy.geometry import height_map, surface_height

    return surface_height(height_map(spec, depth), row, col)
