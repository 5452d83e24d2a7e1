"""Object catalog: the shapes and colors a tabletop scene is made of.

Every object has a description ``"<color> <shape>"`` ("red cube", "blue small cube",
"green bowl"). Graspable objects are dynamic; containers, targets and markings are
fixed to the table so that a scene keeps its geometry while the robot works in it.

A kind of object is one entry of `SHAPES`: its geometry (here in `parts`, or in
`sim.meshes` for meshes and spheres), its role, and the words people use for it. Every
vocabulary reads it from there: the object lists (`sim.object_list`), the names skill
code and the goal reader resolve (`skills.naming`, `agent.understand`), the goal
language's sets. Kinds marked `novel` are used by no task family (`BLOCKS` stays the
families' blocks): a duck and a mug from PyBullet's data, a long bar, a ball, meshes
generated here (a hexagonal prism, a wedge) and an L-shaped bracket; their grasps are
learned per kind (`skills.grasps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

COLORS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.15, 0.15, 1.0),
    "green": (0.15, 0.70, 0.25, 1.0),
    "blue": (0.15, 0.35, 0.90, 1.0),
    "yellow": (0.95, 0.85, 0.15, 1.0),
    "purple": (0.55, 0.25, 0.75, 1.0),
    "orange": (0.98, 0.55, 0.10, 1.0),
    "pink": (0.98, 0.55, 0.75, 1.0),
    "cyan": (0.15, 0.80, 0.85, 1.0),
}


@dataclass(frozen=True)
class Shape:
    """Geometry and role of one kind of object.

    Attributes:
        name: the shape word used in descriptions.
        footprint: half extents (x, y) of the object's footprint on the table, meters.
        height: full height, meters.
        mass: kg; 0 means fixed to the table.
        graspable: the robot may pick it.
        surface: height of the surface an object placed on or in it rests on (targets).
        symmetry: yaw symmetry in radians (0 = rotationally symmetric, yaw meaningless).
        collides: False for markings painted on the table (zone, outline).
        words: other words for it, longest first where one starts another ("block",
            "small block"); the name itself always counts.
        novel: no task family uses it: its grasps are learned (`skills.grasps`).
        friction: lateral friction of a graspable object.
    """

    name: str
    footprint: tuple[float, float]
    height: float
    mass: float
    graspable: bool
    surface: float = 0.0
    symmetry: float = 0.0
    collides: bool = True
    words: tuple[str, ...] = ()
    novel: bool = False
    friction: float = 0.8

    @property
    def radius(self) -> float:
        """Radius of the footprint's bounding circle (for overlap-free layouts)."""
        if self.symmetry == 0.0:  # round
            return self.footprint[0]
        return math.hypot(*self.footprint)


CUBE = 0.04
SMALL_CUBE = 0.025
_SMALL = ("small block", "little cube", "little block", "tiny cube", "tiny block", "mini cube")
SHAPES: dict[str, Shape] = {
    "cube": Shape(
        "cube",
        (CUBE / 2, CUBE / 2),
        CUBE,
        0.08,
        True,
        CUBE,
        math.pi / 2,
        words=("block", "box", "cuboid", "brick"),
    ),
    "small cube": Shape(
        "small cube",
        (SMALL_CUBE / 2, SMALL_CUBE / 2),
        SMALL_CUBE,
        0.04,
        True,
        SMALL_CUBE,
        math.pi / 2,
        words=(*_SMALL, "small box"),
    ),
    "cylinder": Shape(
        "cylinder", (0.02, 0.02), 0.05, 0.08, True, 0.05, 0.0, words=("can", "tube", "peg")
    ),
    "bowl": Shape("bowl", (0.075, 0.075), 0.05, 0.0, False, 0.008, 0.0, words=("basin", "cup")),
    "tray": Shape(
        "tray", (0.085, 0.085), 0.025, 0.0, False, 0.008, math.pi / 2, words=("bin", "crate")
    ),
    "plate": Shape(
        "plate",
        (0.075, 0.075),
        0.012,
        0.0,
        False,
        0.012,
        0.0,
        words=("dish", "disk", "disc", "saucer"),
    ),
    "pad": Shape(
        "pad", (0.055, 0.055), 0.006, 0.0, False, 0.006, math.pi / 2, words=("mat", "coaster")
    ),
    "zone": Shape(
        "zone",
        (0.065, 0.065),
        0.001,
        0.0,
        False,
        0.0,
        math.pi / 2,
        collides=False,
        words=("marked area", "target area", "target zone", "area", "region", "spot"),
    ),
    "outline": Shape(
        "outline",
        (0.026, 0.026),
        0.001,
        0.0,
        False,
        0.0,
        math.pi / 2,
        collides=False,
        words=("frame", "silhouette", "contour"),
    ),
    # Kinds no task family uses (sizes: the bounds of what `sim.meshes` builds).
    "duck": Shape(
        "duck",
        (0.029, 0.0203),
        0.0541,
        0.06,
        True,
        0.0541,
        2 * math.pi,
        words=("rubber duck", "duckie", "ducky"),
        novel=True,
        friction=1.0,
    ),
    "mug": Shape(
        "mug",
        (0.0369, 0.0547),
        0.09,
        0.15,
        True,
        0.09,
        2 * math.pi,
        words=("coffee mug", "tea mug"),
        novel=True,
        friction=1.0,
    ),
    "bar": Shape(
        "bar",
        (0.055, 0.01),
        0.02,
        0.05,
        True,
        0.02,
        math.pi,
        words=("long bar", "rod", "stick", "beam"),
        novel=True,
    ),
    "ball": Shape(
        "ball", (0.021, 0.021), 0.042, 0.05, True, 0.042, 0.0, words=("sphere", "orb"), novel=True
    ),
    "prism": Shape(
        "prism",
        (0.022, 0.0191),
        0.045,
        0.07,
        True,
        0.045,
        math.pi / 3,
        words=("hexagonal prism", "hex prism", "hexagon"),
        novel=True,
    ),
    "wedge": Shape(
        "wedge",
        (0.026, 0.0225),
        0.035,
        0.05,
        True,
        0.035,
        2 * math.pi / 3,
        words=("triangular prism", "triangle"),
        novel=True,
    ),
    "bracket": Shape(
        "bracket",
        (0.035, 0.035),
        0.025,
        0.06,
        True,
        0.025,
        2 * math.pi,
        words=("l bracket", "angle bracket"),
        novel=True,
    ),
}
TARGETS = ("tray", "plate", "pad")
BLOCKS = ("cube", "small cube", "cylinder")  # the task families' blocks
NOVEL = tuple(k for k, s in SHAPES.items() if s.novel)  # kinds no family uses
MOVABLE = tuple(k for k, s in SHAPES.items() if s.graspable)

# Interior of containers: bowl inner radius and tray inner half side.
BOWL_INNER_RADIUS = 0.062
TRAY_INNER_HALF = 0.075


@dataclass(frozen=True)
class SimObject:
    """One object in the world. `body` is the simulator's id: only `sim` ever uses it."""

    body: int
    shape: Shape
    color: str

    @property
    def description(self) -> str:
        return f"{self.color} {self.shape.name}"

    @property
    def kind(self) -> str:
        return self.shape.name


def parts(shape: Shape) -> list[tuple[str, tuple, tuple[float, float, float], float]]:
    """The primitive parts of a shape: (type, dims, position relative to base, yaw).

    type is "box" (dims = half extents) or "cylinder" (dims = (radius, height)).
    The base frame sits on the table at the footprint's center.
    """
    n = shape.name
    if n in ("cube", "small cube"):
        h = shape.height / 2
        return [("box", (h, h, h), (0, 0, h), 0.0)]
    if n == "cylinder":
        return [("cylinder", (0.02, 0.05), (0, 0, 0.025), 0.0)]
    if n == "plate":
        return [("cylinder", (0.075, shape.height), (0, 0, shape.height / 2), 0.0)]
    if n == "pad":
        return [("box", (0.055, 0.055, 0.003), (0, 0, 0.003), 0.0)]
    if n == "zone":
        return [("box", (0.065, 0.065, 0.0005), (0, 0, 0.0005), 0.0)]
    if n == "outline":
        w, s = 0.003, 0.023  # bar half width, frame inner half side (cube + 6 mm clearance)
        bars = []
        for k in range(4):
            a = k * math.pi / 2
            c = (s + w) * math.cos(a), (s + w) * math.sin(a)
            bars.append(("box", (w, s + 2 * w, 0.0005), (c[0], c[1], 0.0005), a))
        return bars
    if n == "tray":
        wall, half, h = 0.005, 0.085, shape.height
        out = [("box", (half, half, 0.004), (0, 0, 0.004), 0.0)]
        for k in range(4):
            a = k * math.pi / 2
            c = (half - wall) * math.cos(a), (half - wall) * math.sin(a)
            out.append(("box", (wall, half, h / 2), (c[0], c[1], h / 2), a))
        return out
    if n == "bowl":
        out = [("cylinder", (0.066, 0.008), (0, 0, 0.004), 0.0)]
        segments, r, h = 16, 0.068, shape.height
        half_len = r * math.tan(math.pi / segments) + 0.002
        for k in range(segments):
            a = 2 * math.pi * k / segments
            out.append(
                ("box", (0.005, half_len, h / 2), (r * math.cos(a), r * math.sin(a), h / 2), a)
            )
        return out
    if n == "bar":
        return [("box", (0.055, 0.01, 0.01), (0, 0, 0.01), 0.0)]
    if n == "bracket":  # an L: two arms 1.5 cm wide; the footprint's centre is between them
        return [
            ("box", (0.035, 0.0075, 0.0125), (0, -0.0275, 0.0125), 0.0),
            ("box", (0.0075, 0.0275, 0.0125), (-0.0275, 0.0075, 0.0125), 0.0),
        ]
    raise KeyError(n)
