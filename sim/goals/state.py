"""What a goal is judged on: a snapshot of every object's pose, read from the simulator.

A `State` holds, for each object, its description, shape, where its footprint's center
sits at its bottom (x, y, z_bottom in world meters), its yaw and tilt, the pose it had
when the episode started, and whether the gripper holds it. Nothing else: the goal
language is a pure function of this snapshot, so the same verdict comes from a live
`World`, from the end poses a sandboxed run reported, or from a recorded run.

Frame (everywhere): world meters, robot base at the origin; x points toward the front
camera ("in front" = +x), left and right as the front camera sees the table (left = -y);
z is the height of an object's bottom above the table top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.geometry import WORKSPACE
from sim.goals.formula import GoalError
from sim.objects import SHAPES, Shape

Pose = tuple[float, float, float, float]  # x, y, z_bottom (m), yaw (radians)

# The frame in one sentence, written once: docs, the UI, `goals list` and the LLM's prompts
# all show this text.
FRAME = (
    "Frame: world meters, robot base at the origin; x points toward the front camera "
    "(in front = +x, behind = toward the robot), left and right as the front camera sees "
    "the table (left = -y, right = +y); z is the height of an object's bottom above the "
    "table; yaw is counter-clockwise seen from above, in degrees. The reachable workspace "
    f"is x {WORKSPACE[0][0]:.2f}..{WORKSPACE[0][1]:.2f}, y {WORKSPACE[1][0]:.2f}..{WORKSPACE[1][1]:.2f}; "
    "the regions left_side, right_side, front, back and middle are its thirds."
)


@dataclass(frozen=True)
class Body:
    """One object as the goal sees it."""

    description: str
    color: str
    shape_name: str
    pose: Pose
    tilt: float = 0.0  # radians between the object's up axis and world z
    start: Pose | None = None  # the pose when the episode started (None: same as now)
    held: bool = False

    @property
    def shape(self) -> Shape:
        return SHAPES[self.shape_name]

    @property
    def xy(self) -> tuple[float, float]:
        return (self.pose[0], self.pose[1])

    @property
    def z(self) -> float:
        return self.pose[2]

    @property
    def yaw(self) -> float:
        return self.pose[3]

    @property
    def start_pose(self) -> Pose:
        return self.start if self.start is not None else self.pose

    @property
    def movable(self) -> bool:
        return self.shape.graspable


@dataclass(frozen=True)
class State:
    """Every object of a scene, in scene order."""

    bodies: tuple[Body, ...]
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({b.description: b for b in self.bodies})

    @property
    def descriptions(self) -> list[str]:
        return [b.description for b in self.bodies]

    def get(self, description: str) -> Body:
        try:
            return self._index[description]
        except KeyError:
            have = ", ".join(self.descriptions) or "nothing"
            raise GoalError(f"no {description!r} in the scene (it has: {have})") from None

    def has(self, description: str) -> bool:
        return description in self._index

    def to_json(self) -> list[dict]:
        """Per object: description, start and end [x, y, z_bottom, yaw_deg], size, tilt, held."""
        out = []
        for b in self.bodies:
            s = b.shape
            out.append(
                {
                    "description": b.description,
                    "start": _pose_json(b.start_pose),
                    "end": _pose_json(b.pose),
                    "size": [round(2 * s.footprint[0], 4), round(2 * s.footprint[1], 4), s.height],
                    "tilt_deg": round(math.degrees(b.tilt), 2),
                    "held": b.held,
                }
            )
        return out

    @classmethod
    def from_json(cls, rows: list[dict]) -> State:
        """The inverse of `to_json` (e.g. a recorded run's objects)."""
        bodies = []
        for r in rows:
            color, _, shape = str(r["description"]).partition(" ")
            if shape not in SHAPES:
                raise GoalError(f"unknown shape in {r['description']!r}")
            bodies.append(
                Body(
                    r["description"],
                    color,
                    shape,
                    _pose_in(r["end"]),
                    math.radians(float(r.get("tilt_deg", 0.0))),
                    _pose_in(r["start"]),
                    bool(r.get("held", False)),
                )
            )
        return cls(tuple(bodies))


def _pose_json(p: Pose) -> list[float]:
    return [round(p[0], 4), round(p[1], 4), round(p[2], 4), round(math.degrees(p[3]), 2)]


def _pose_in(v) -> Pose:
    x, y, z, yaw_deg = (float(a) for a in v)
    return (x, y, z, math.radians(yaw_deg))


def read_world(world, start: dict[int, Pose] | None = None) -> State:
    """Snapshot a live `World`; `start` maps body id -> pose at the episode's start."""
    from sim.geometry import tilt_from_quat, yaw_from_quat

    held = world.panda.held
    bodies = []
    for o in world.objects:
        pos, orn = world.pose(o)
        pose = (float(pos[0]), float(pos[1]), float(pos[2]), yaw_from_quat(orn))
        bodies.append(
            Body(
                o.description,
                o.color,
                o.shape.name,
                pose,
                tilt_from_quat(orn),
                (start or {}).get(o.body),
                o.body == held,
            )
        )
    return State(tuple(bodies))


def start_poses(world) -> dict[int, Pose]:
    """Every object's current pose by body id: call it when the episode starts."""
    return {o.body: p.pose for o, p in zip(world.objects, read_world(world).bodies, strict=True)}
