"""The task families' success checks as they were before success became the family's goal.

Reference only, for `test_family_goals.py`: one function per family taking the task
object, the logic of each family's former `is_success()` and of the `Task` helpers it
used (`resting_on`, `on_target`, `in_bowl`, `aligned`, `on_table`, ...), copied verbatim
in behaviour (same tolerances, same strict comparisons). It reads the task's own
attributes (`task.obj`, `task.start_a`, ...), which the families still set when they build
a scene. Nothing outside the tests may use it: success is the goal (`sim.goals`).
"""

from __future__ import annotations

import math

import numpy as np

from sim.geometry import tilt_from_quat, xy_dist, yaw_distance, yaw_from_quat
from sim.objects import BOWL_INNER_RADIUS, CUBE, TRAY_INNER_HALF

WORKSPACE = ((0.34, 0.70), (-0.28, 0.28))
POS_TOL = 0.02
YAW_TOL = math.radians(12)
LIFT = 0.05  # pick
ALIGN_TOL = 0.015  # align
ZONE_MARGIN = 0.01  # push
ROW_GAP, ROW_TOL = 0.04, 0.02  # line-up


# -- the former Task helpers ------------------------------------------------------------
def xy(task, obj) -> np.ndarray:
    return task.world.pose(obj)[0][:2]


def z(task, obj) -> float:
    return float(task.world.pose(obj)[0][2])


def yaw(task, obj) -> float:
    return yaw_from_quat(task.world.pose(obj)[1])


def upright(task, obj, tol: float = math.radians(15)) -> bool:
    return tilt_from_quat(task.world.pose(obj)[1]) < tol


def on_table(task, obj) -> bool:
    """`obj` stands upright with its bottom on the table (below 1 cm)."""
    return upright(task, obj) and z(task, obj) < 0.01


def resting_on(task, obj, base, tol: float = POS_TOL) -> bool:
    """`obj` sits on top of `base`: centered within tol, bottom at base's top, upright."""
    z_ok = abs(z(task, obj) - (z(task, base) + base.shape.surface)) < 0.012
    return xy_dist(xy(task, obj), xy(task, base)) < tol and z_ok and upright(task, obj)


def _local(task, obj, ref) -> np.ndarray:
    d = xy(task, obj) - xy(task, ref)
    c, s = math.cos(-yaw(task, ref)), math.sin(-yaw(task, ref))
    return np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])


def on_target(task, obj, target) -> bool:
    """`obj`'s center lies over a flat target (tray, plate, pad) and rests on it."""
    local = _local(task, obj, target)
    name = target.shape.name
    if name == "plate":
        inside = float(np.hypot(*local)) < 0.075 - 0.01
    elif name == "tray":
        inside = bool(np.all(np.abs(local) < TRAY_INNER_HALF - 0.01))
    else:
        inside = bool(np.all(np.abs(local) < np.array(target.shape.footprint)))
    resting = abs(z(task, obj) - (z(task, target) + target.shape.surface)) < 0.015
    return inside and resting


def in_bowl(task, obj, bowl) -> bool:
    """`obj` is inside `bowl`: within its inner radius and below its rim."""
    inside = xy_dist(xy(task, obj), xy(task, bowl)) < BOWL_INNER_RADIUS - 0.01
    return inside and z(task, obj) < z(task, bowl) + bowl.shape.height


def aligned(task, obj, ref_xy, ref_yaw: float | None = None, tol: float = POS_TOL) -> bool:
    """`obj` is on the table at `ref_xy` (and turned to `ref_yaw` modulo its symmetry)."""
    ok = xy_dist(xy(task, obj), ref_xy) < tol and upright(task, obj) and z(task, obj) < 0.01
    if ok and ref_yaw is not None and obj.shape.symmetry:
        ok = yaw_distance(yaw(task, obj), ref_yaw, obj.shape.symmetry) < YAW_TOL
    return ok


def _blocks(task) -> list:
    return [o for o in task.world.objects if o.shape.graspable]


# -- one former is_success per family ---------------------------------------------------
def pick(task) -> bool:
    return task.world.panda.held == task.obj.body and z(task, task.obj) > LIFT


def place(task) -> bool:
    return on_target(task, task.obj, task.target)


def stack(task) -> bool:
    return resting_on(task, task.top, task.base)


def tower(task) -> bool:
    return (
        on_table(task, task.bottom)
        and resting_on(task, task.middle, task.bottom)
        and resting_on(task, task.top, task.middle)
    )


def put_in_bowl(task) -> bool:
    return in_bowl(task, task.obj, task.bowl)


def push(task) -> bool:
    local = _local(task, task.obj, task.zone)
    in_zone = bool(np.all(np.abs(local) < np.array(task.zone.shape.footprint) - ZONE_MARGIN))
    return in_zone and upright(task, task.obj) and z(task, task.obj) < 0.01


def sort(task) -> bool:
    return all(in_bowl(task, cube, bowl) for cube, bowl in task.pairs)


def line_up(task) -> bool:
    xys = [xy(task, b) for b in task.blocks]
    xs, ys = [p[0] for p in xys], [p[1] for p in xys]
    in_order = ys[1] - ys[0] >= ROW_GAP and ys[2] - ys[1] >= ROW_GAP
    lined = bool(in_order and max(abs(x - float(np.mean(xs))) for x in xs) <= ROW_TOL)
    return all(on_table(task, b) for b in task.blocks) and lined


def swap(task) -> bool:
    return aligned(task, task.a, task.start_b) and aligned(task, task.b, task.start_a)


def rotate(task) -> bool:
    return aligned(task, task.obj, task.start_xy, task.goal_yaw, tol=POS_TOL)


def align(task) -> bool:
    target = task.target
    return aligned(task, task.obj, xy(task, target), yaw(task, target), tol=ALIGN_TOL)


def pyramid(task) -> bool:
    lxy, rxy = xy(task, task.left), xy(task, task.right)
    d = xy_dist(lxy, rxy)
    base_ok = (
        on_table(task, task.left)
        and on_table(task, task.right)
        and abs(lxy[0] - rxy[0]) < 0.015
        and lxy[1] < rxy[1]
        and CUBE <= d <= CUBE + 0.02
    )
    mid = (lxy + rxy) / 2
    top_ok = (
        upright(task, task.top)
        and xy_dist(xy(task, task.top), mid) < 0.02
        and abs(z(task, task.top) - CUBE) < 0.012
    )
    return bool(base_ok and top_ok)


def gather(task) -> bool:
    return all(on_target(task, o, task.target) == (o.color == task.color) for o in _blocks(task))


def clear(task) -> bool:
    target = task.target

    def over_target(obj) -> bool:
        local = _local(task, obj, target)
        half = target.shape.footprint
        if target.shape.name == "plate":
            return float(np.hypot(*local)) < half[0]
        return bool(np.all(np.abs(local) < np.array(half)))

    def on_table_in_workspace(obj) -> bool:
        (x0, x1), (y0, y1) = WORKSPACE
        x, y = xy(task, obj)
        return on_table(task, obj) and x0 <= x <= x1 and y0 <= y <= y1

    return all(not over_target(o) and on_table_in_workspace(o) for o in _blocks(task))


def clear_anywhere_on_the_table(task) -> bool:
    """`clear` less its workspace bound: the one difference from the goal that stays.

    The goal `all(x in objects: on_table(x) and not on(x, ?target))` asks every block to
    stand on the table off the target, wherever on the table; the former check also
    wanted each block's center inside the workspace. A block knocked past the workspace's
    edge (say by the arm sweeping it) still leaves the target clear: the goal is right.
    """
    target = task.target

    def over_target(obj) -> bool:
        local = _local(task, obj, target)
        half = target.shape.footprint
        if target.shape.name == "plate":
            return float(np.hypot(*local)) < half[0]
        return bool(np.all(np.abs(local) < np.array(half)))

    return all(not over_target(o) and on_table(task, o) for o in _blocks(task))


# Where the goal is right and the former check was not (see each function's docstring):
# a disagreement these explain is accepted (counted, not failed).
ACCEPTED = {"clear": clear_anywhere_on_the_table}

SUCCESS = {
    "pick": pick,
    "place": place,
    "stack": stack,
    "tower": tower,
    "put-in-bowl": put_in_bowl,
    "push": push,
    "sort": sort,
    "line-up": line_up,
    "swap": swap,
    "rotate": rotate,
    "align": align,
    "pyramid": pyramid,
    "gather": gather,
    "clear": clear,
}
