"""`Policy`: the network plus everything needed to turn its maps into 3D poses.

Decoding one key point: the cell with the highest heat, its sub-cell offset, the
surface height seen there (median of the depth-derived heights around the pixel) plus
the predicted height offset gives z; (x, y) is where the pixel's ray meets z. The yaw is
the circular mean of the rotation-bin distribution at that cell (modulo 90 degrees);
the grasp yaw's representative is chosen with the turn, as the oracle does, to keep the
wrist near its middle (`geometry.grasp_and_place_yaw`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agent.policy.geometry import (
    ROT_PERIOD,
    ImageSpec,
    cell_to_pixel,
    grasp_and_place_yaw,
    height_map,
    near_zero,
    pixel_to_point,
    push_start,
    surface_height,
)

Pose = tuple[float, float, float, float]


@dataclass(frozen=True)
class KeyPoint:
    """One decoded key point on the image.

    Attributes:
        row, col: continuous pixel position in the cropped image.
        point: (x, y, z) world position.
        yaw_mod: predicted yaw modulo 90 degrees (grasp yaw, or the turn for the place).
        confidence: the heat's softmax probability at the chosen cell.
    """

    row: float
    col: float
    point: tuple[float, float, float]
    yaw_mod: float
    confidence: float


@dataclass(frozen=True)
class Prediction:
    """The policy's answer for one image and instruction.

    Attributes:
        pick: (x, y, z, yaw) of the first key pose (grasp, or where a push starts).
        place: (x, y, z, yaw) of the second (place, or where a push ends).
        turn: place yaw minus grasp yaw, radians.
        pick_key, place_key: the decoded key points (pixels, confidences).
    """

    pick: Pose
    place: Pose
    turn: float
    pick_key: KeyPoint
    place_key: KeyPoint


def yaw_from_logits(logits: np.ndarray, window: int = 2) -> float:
    """Yaw (radians in [0, ROT_PERIOD)) from yaw-bin logits: the most likely bin, refined
    by the circular mean of the distribution within `window` bins of it (a mean over all
    bins would be pulled between the modes of a two-mode distribution)."""
    k = len(logits)
    q = np.exp(logits - logits.max())
    best = int(np.argmax(q))
    idx = np.arange(best - window, best + window + 1) % k
    ang = idx * (2 * math.pi / k)
    w = q[idx]
    yaw = math.atan2(float((w * np.sin(ang)).sum()), float((w * np.cos(ang)).sum())) % (2 * math.pi)
    return yaw * ROT_PERIOD / (2 * math.pi)


def _decode_key(
    spec: ImageSpec, maps: np.ndarray, heights: np.ndarray, rot_logits: np.ndarray
) -> KeyPoint:
    from agent.policy.model import HEAT, HEIGHT, OFF_X, OFF_Y

    heat = maps[HEAT].reshape(-1)
    cell = int(np.argmax(heat))
    p = np.exp(heat - heat.max())
    conf = float(p[cell] / p.sum())
    v = maps.reshape(maps.shape[0], -1)[:, cell]
    off = 1.0 / (1.0 + np.exp(-v[[OFF_X, OFF_Y]]))
    row, col = cell_to_pixel(spec, cell, off)
    z = surface_height(heights, row, col) + float(v[HEIGHT]) / 10.0
    point = pixel_to_point(spec, row, col, z)
    return KeyPoint(
        row, col, (float(point[0]), float(point[1]), float(z)), yaw_from_logits(rot_logits), conf
    )


def decode(
    spec: ImageSpec, out, depth: np.ndarray, turn: float | None = None, primitive: str | None = None
) -> Prediction:
    """Poses from one sample's outputs (numpy `Outputs` rows) and its cropped depth image.

    Args:
        out: (pick map, place map, grasp-yaw logits, turn logits) of one sample.
        turn: if given, the turn to use instead of the predicted one (the robot API
            passes the turn it wants).
        primitive: the action's primitive; for "push" the first key point is on the
            object and the push's start is computed from it (`geometry.push_start`).
    """
    heights = height_map(spec, depth)
    pk = _decode_key(spec, out[0], heights, out[2])
    pl = _decode_key(spec, out[1], heights, out[3])
    turn = near_zero(pl.yaw_mod) if turn is None else float(turn)
    g, p = grasp_and_place_yaw(pk.yaw_mod, turn)
    first, second = (*pk.point, g), (*pl.point, p)
    if primitive == "push":
        first = push_start(spec, first, second)
    return Prediction(tuple(first), second, turn, pk, pl)


class Policy:
    """A trained `PoseNet` with its image spec and instruction encoder.

    Args:
        model: the network (possibly LoRA-routed).
        spec: the image spec it was trained with.
        encoder: an `embed.InstructionEncoder` of the same embedder as in training.
        threads: torch threads while predicting.
        info: where it came from (a checkpoint's manifest), for reports.
    """

    def __init__(
        self, model, spec: ImageSpec, encoder, threads: int = 2, info: dict | None = None
    ) -> None:
        self.model = model
        self.spec = spec
        self.encoder = encoder
        self.threads = threads
        self.info = dict(info or {})

    def outputs(
        self, rgb: np.ndarray, depth: np.ndarray, instructions: list[str], batch_size: int = 64
    ) -> list[np.ndarray]:
        """Raw outputs for N images as numpy arrays [pick maps, place maps, grasp-yaw
        logits, turn logits], each conditioned on the predicted cells."""
        import torch

        from agent.policy.model import make_input, to_input

        rgb_t, height = to_input(self.spec, rgb, depth)
        emb = self.encoder(instructions)
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        self.model.eval()
        parts: list[list[np.ndarray]] = [[], [], [], []]
        try:
            with torch.inference_mode():
                for s in range(0, len(rgb_t), batch_size):
                    x = make_input(rgb_t[s : s + batch_size], height[s : s + batch_size])
                    out = self.model(x, torch.as_tensor(emb[s : s + batch_size]))
                    for k in range(4):
                        parts[k].append(out[k].numpy())
        finally:
            torch.set_num_threads(before)
        return [np.concatenate(p) for p in parts]

    def predict_many(
        self,
        rgb: np.ndarray,
        depth: np.ndarray,
        instructions: list[str],
        primitives: list[str] | None = None,
    ) -> list[Prediction]:
        """Predictions for N cropped RGB-D images and their instructions (`primitives`:
        each action's primitive where known; a push's start depends on it)."""
        rgb, depth = np.asarray(rgb), np.asarray(depth)
        if rgb.ndim == 3:
            rgb, depth = rgb[None], depth[None]
        out = self.outputs(rgb, depth, list(instructions))
        prims = list(primitives) if primitives is not None else [None] * len(rgb)
        return [
            decode(self.spec, [o[i] for o in out], depth[i], primitive=prims[i])
            for i in range(len(rgb))
        ]

    def predict(
        self, rgb: np.ndarray, depth: np.ndarray, instruction: str, primitive: str | None = None
    ) -> Prediction:
        """Prediction for one cropped RGB-D image and instruction."""
        return self.predict_many(rgb, depth, [instruction], [primitive])[0]
