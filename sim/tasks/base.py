"""What every task family shares: layout sampling, the goal, grasp/place poses.

A task family is one module with one `Task` subclass of about a hundred lines, a goal
template over the family's slots:
`reset(rng)` builds a seeded scene and sets `params`; `instruction` fills the family's
template; `goal_template` is the family's goal in the goal language (`sim.goals`) with
its slots as `?slot` variables, and `goal_text()` the concrete goal for the built scene;
`begin()` (called once the scene has settled) records the start poses and checks the
goal; `is_success()` is that goal evaluated on the simulator's state, the one definition
of success (the Evaluator judges the same goal); `oracle()` returns the next primitive
`Action` from privileged state, or None when done.

The geometric helpers below (`resting_on`, `on_target`, `in_bowl`, `aligned`, ...) are
for the oracles only: they never decide success.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim import poses
from sim.errors import SimError
from sim.geometry import WORKSPACE, tilt_from_quat, wrap_angle, xy_dist, yaw_distance, yaw_from_quat
from sim.goals import Goal, State, check, evaluate, read_world, start_poses
from sim.objects import BOWL_INNER_RADIUS, COLORS, SHAPES, TRAY_INNER_HALF, SimObject

if TYPE_CHECKING:
    from sim.world import World

POS_TOL = 0.02  # Ravens-like position tolerance, meters
YAW_TOL = math.radians(12)  # orientation tolerance where orientation matters
PRIMITIVES = ("pick_place", "push", "pick", "place")
# Pick yaws for blocks put down at gripper yaw +90 degrees (fingers closing along x): the
# wrist has room for that turn from anywhere in this window, everywhere on the table.
GRASP_RANGE = (math.radians(-15), math.radians(105))  # pick yaws the oracle uses (a 120° window)
BUILD_TRIES = 5  # scene builds tried (the seed's generator going on) before giving up


@dataclass(frozen=True)
class Action:
    """One primitive-level action (Ravens/Transporter style).

    Attributes:
        primitive: one of PRIMITIVES.
        pose0: (x, y, z, yaw) of the grasp point: where to pick, or where a push starts.
        pose1: (x, y, z, yaw): where to place, or where a push ends (unused by "pick").
    """

    primitive: str
    pose0: tuple[float, float, float, float]
    pose1: tuple[float, float, float, float] | None = None


class Task:
    """Base class of the task families. Subclasses set the class variables and the hooks."""

    family: ClassVar[str]
    template: ClassVar[str]
    goal_template: ClassVar[str]  # the goal with the slots as ?slot, e.g. "on(?obj, ?target)"
    slots: ClassVar[tuple[str, ...]] = ()
    max_actions: ClassVar[int] = 4

    def __init__(self, world: World) -> None:
        self.world = world
        self.params: dict[str, str] = {}
        self.rng: np.random.Generator = np.random.default_rng(0)
        self.start: dict[int, tuple[float, float, float, float]] | None = None
        self.goal: Goal | None = None

    # -- hooks ---------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> None:
        """Build a seeded scene on the (already cleared) world and set `params`.

        A build that finds no room for an object (SimError) is tried again on a cleared
        table, the seed's generator going on, up to BUILD_TRIES times: a seed whose first
        build succeeds keeps exactly the scene it always had.
        """
        self.rng = rng
        self.start, self.goal = None, None
        for attempt in range(BUILD_TRIES):
            if attempt:
                self.world.clear()
            try:
                self.params = self.build(rng)
                return
            except SimError as exc:
                error = exc
        raise SimError(f"{self.family}: no scene after {BUILD_TRIES} tries ({error})")

    def build(self, rng: np.random.Generator) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def oracle(self) -> Action | None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def instruction(self) -> str:
        return self.template.format(**self.params)

    # -- the goal ------------------------------------------------------------------------
    def goal_text(self) -> str:
        """The concrete goal of the built scene: `goal_template` with the params filled in."""

        from sim.goals.formula import fill

        try:
            return fill(self.goal_template, self.params)
        except KeyError as exc:
            raise SimError(
                f"{self.family}: the goal template names no slot {exc.args[0]!r}"
            ) from None

    def begin(self) -> None:
        """Start the episode on the settled scene: record the start poses, check the goal."""
        self.start = start_poses(self.world)
        self.goal = check(self.goal_text(), self.state())

    def state(self) -> State:
        """The simulator's state as the goal language reads it (start poses included)."""
        return read_world(self.world, self.start)

    def is_success(self) -> bool:
        """The goal holds in the simulator now."""
        if self.goal is None:
            raise SimError(f"{self.family}: begin() was not called after the scene settled")
        return evaluate(self.goal, self.state()).value

    # -- scene building ------------------------------------------------------------------
    def spawn(
        self,
        shape: str,
        color: str,
        rng: np.random.Generator,
        yaw: float | None = None,
        region: tuple[tuple[float, float], tuple[float, float]] = WORKSPACE,
        margin: float = 0.02,
    ) -> SimObject:
        """Add an object at a random free spot (no overlap with anything already there)."""
        r = SHAPES[shape].radius
        (x0, x1), (y0, y1) = region
        for _ in range(200):
            xy = (rng.uniform(x0 + r, x1 - r), rng.uniform(y0 + r, y1 - r))
            if all(
                xy_dist(xy, self.xy(o)) >= r + o.shape.radius + margin for o in self.world.objects
            ):
                if yaw is None:
                    yaw = rng.uniform(-math.pi / 4, math.pi / 4) if SHAPES[shape].symmetry else 0.0
                return self.world.add(shape, color, xy, yaw)
        raise SimError(f"no free spot for a {color} {shape}")

    @staticmethod
    def colors(rng: np.random.Generator, n: int) -> list[str]:
        """n distinct random color names."""
        return [str(c) for c in rng.choice(list(COLORS), size=n, replace=False)]

    # -- state ---------------------------------------------------------------------------
    def xy(self, obj: SimObject) -> np.ndarray:
        return self.world.pose(obj)[0][:2]

    def z(self, obj: SimObject) -> float:
        return float(self.world.pose(obj)[0][2])

    def yaw(self, obj: SimObject) -> float:
        return yaw_from_quat(self.world.pose(obj)[1])

    def upright(self, obj: SimObject, tol: float = math.radians(15)) -> bool:
        return tilt_from_quat(self.world.pose(obj)[1]) < tol

    def on_table(self, obj: SimObject) -> bool:
        """`obj` stands upright with its bottom on the table (below 1 cm)."""
        return self.upright(obj) and self.z(obj) < 0.01

    def roomy_face(self, obj: SimObject, window: tuple[float, float]) -> float:
        """Gripper yaw in `window` to pick `obj` whose open fingers have the most room.

        Ties go to the yaw nearest the window's middle.
        """
        from sim.panda import FINGER_OPEN

        sym = obj.shape.symmetry or math.pi / 6  # round: try every 30 degrees
        yaws = [wrap_angle(self.yaw(obj) + k * sym) for k in range(round(2 * math.pi / sym))]
        here, mid = self.xy(obj), sum(window) / 2

        def score(g: float) -> float:
            room = poses.finger_room(self.world, here, g, FINGER_OPEN / 2, {obj.body})
            return min(room, 0.02) - 0.001 * abs(g - mid)

        return max((g for g in yaws if window[0] <= g <= window[1]), key=score)

    def free_spot(
        self, shape: str, avoid: list[np.ndarray] | None = None, margin: float = 0.03
    ) -> np.ndarray:
        """A table spot where an object of `shape` fits clear of all objects and `avoid` points."""
        r = SHAPES[shape].radius
        (x0, x1), (y0, y1) = WORKSPACE
        others = [(self.xy(o), o.shape.radius) for o in self.world.objects]
        others += [(np.asarray(p), r) for p in (avoid or [])]
        for _ in range(400):
            xy = np.array([self.rng.uniform(x0 + r, x1 - r), self.rng.uniform(y0 + r, y1 - r)])
            if all(xy_dist(xy, p) >= r + ro + margin for p, ro in others):
                return xy
        raise SimError(f"no free spot for a {shape}")

    # -- poses for the primitives --------------------------------------------------------
    def grasp_yaw(self, obj: SimObject, turn: float = 0.0) -> float:
        """Gripper yaw to grasp `obj`; see `sim.poses.grasp_yaw`."""
        return poses.grasp_yaw(self.world, obj, turn)

    def grasp_height(self, obj: SimObject) -> float:
        """Height of the grasp point above the object's bottom."""
        return poses.grasp_height(obj)

    def pick_pose(self, obj: SimObject, turn: float = 0.0) -> tuple[float, float, float, float]:
        return poses.pick_pose(self.world, obj, turn)

    def grasp_yaw_near(self, obj: SimObject, yaw: float) -> float:
        """The gripper yaw grasping `obj` on two faces that is nearest `yaw`."""
        sym = obj.shape.symmetry
        if not sym:
            return yaw
        return wrap_angle(yaw - ((yaw - self.yaw(obj) + sym / 2) % sym - sym / 2))

    def axis_yaw(self, target: SimObject) -> float:
        """Yaw of `target`'s axis nearest the world x axis (0 for a round one)."""
        sym = target.shape.symmetry
        return (self.yaw(target) + sym / 2) % sym - sym / 2 if sym else 0.0

    def place_pose(
        self, held: SimObject, xy, surface_z: float, yaw: float
    ) -> tuple[float, float, float, float]:
        """Pose that rests `held` at `xy` on a surface at height `surface_z`."""
        return poses.place_pose(held, xy, surface_z, yaw)

    def move(self, obj: SimObject, xy, surface_z: float = 0.0, turn: float = 0.0) -> Action:
        """Pick-and-place action moving `obj` to rest at `xy` on a surface, turned by `turn`."""
        pick = poses.pick_pose(self.world, obj, turn, dest=xy)
        return Action(
            "pick_place", pick, self.place_pose(obj, xy, surface_z, wrap_angle(pick[3] + turn))
        )

    # -- geometric tests (for the oracles; success is the goal) ---------------------------
    def resting_on(self, obj: SimObject, base: SimObject, tol: float = POS_TOL) -> bool:
        """`obj` sits on top of `base`: centered within tol, bottom at base's top, upright."""
        z_ok = abs(self.z(obj) - (self.z(base) + base.shape.surface)) < 0.012
        return xy_dist(self.xy(obj), self.xy(base)) < tol and z_ok and self.upright(obj)

    def on_target(self, obj: SimObject, target: SimObject) -> bool:
        """`obj`'s center lies over a flat target (tray, plate, pad) and rests on it."""
        d = self.xy(obj) - self.xy(target)
        c, s = math.cos(-self.yaw(target)), math.sin(-self.yaw(target))
        local = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        name = target.shape.name
        if name == "plate":
            inside = float(np.hypot(*local)) < 0.075 - 0.01
        elif name == "tray":
            inside = bool(np.all(np.abs(local) < TRAY_INNER_HALF - 0.01))
        else:
            inside = bool(np.all(np.abs(local) < np.array(target.shape.footprint)))
        resting = abs(self.z(obj) - (self.z(target) + target.shape.surface)) < 0.015
        return inside and resting

    def in_bowl(self, obj: SimObject, bowl: SimObject) -> bool:
        """`obj` is inside `bowl`: within its inner radius and below its rim."""
        inside = xy_dist(self.xy(obj), self.xy(bowl)) < BOWL_INNER_RADIUS - 0.01
        return inside and self.z(obj) < self.z(bowl) + bowl.shape.height

    def aligned(
        self, obj: SimObject, ref_xy, ref_yaw: float | None = None, tol: float = POS_TOL
    ) -> bool:
        """`obj` is on the table at `ref_xy` (and turned to `ref_yaw` modulo its symmetry)."""
        ok = xy_dist(self.xy(obj), ref_xy) < tol and self.upright(obj) and self.z(obj) < 0.01
        if ok and ref_yaw is not None and obj.shape.symmetry:
            ok = yaw_distance(self.yaw(obj), ref_yaw, obj.shape.symmetry) < YAW_TOL
        return ok
