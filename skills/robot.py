"""The robot API: the only thing skill code can act through.

A skill is `def name(robot, **params)` and calls the methods below. Positions are in
meters in the table frame (x away from the robot base, y to the robot's left, z up; the
front camera looks back at the robot, so "left to right" in an instruction is increasing
y). Angles are in degrees, counter-clockwise seen from above. Objects are opaque handles
returned by `find` and `objects`: they carry a `description` and nothing else.

Every method that moves the arm runs the physics: nothing teleports. A method that
cannot do what it is asked raises `SkillError` with a message that says why.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from skills.errors import SkillError
from skills.grasps import Grasper
from skills.naming import match
from skills.phrases import PhraseError, step_phrase

if TYPE_CHECKING:
    from sim.objects import SimObject
    from sim.world import World
    from skills.poses import PoseProvider

MAX_MOTIONS = 60  # arm motions one skill run may make: a runaway loop ends, not hangs
MAX_PLANS = 10  # goal plans one skill run may ask for
PLAN_SEEDS = 8  # sampler seeds one plan() tries before it says no placement fits (~0.1 s each)
LOG_CAP = 100  # calls kept in the log a run reports
TABLE = ((0.30, 0.74), (-0.32, 0.32))  # reachable table area, meters
_STATE = ("_world", "_provider", "_motions", "_rng", "_start", "_plans", "_log", "_steps")


class Obj:
    """Opaque handle to one object in the scene. Only `description` is public."""

    __slots__ = ("description", "_key")

    def __init__(self, description: str, key: int) -> None:
        self.description = description
        self._key = key

    def __repr__(self) -> str:
        return f"<{self.description}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Obj) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)


class Robot:
    """The robot a skill receives. Create with `Robot(world, provider)` (trusted code only)."""

    __slots__ = (*_STATE, "_grasper")

    def __init__(
        self,
        world: World,
        provider: PoseProvider | None = None,
        seed: int = 0,
        start: dict | None = None,
        grasps: dict | None = None,
    ) -> None:
        from sim.goals import start_poses
        from skills.poses import OraclePoseProvider

        self._world = world
        self._provider = provider or OraclePoseProvider()
        self._motions = 0
        self._rng = np.random.default_rng(seed)
        self._start = start if start is not None else start_poses(world)
        self._plans = 0
        self._log: list[str] = []  # the calls made, for feedback to whoever wrote the skill
        self._steps: list[dict] = []  # the last plan's moves: a call that carries one out
        # gets its phrase (the pose provider is asked for that step)
        self._grasper = Grasper(grasps)  # grasps remembered per kind (`skills.grasps`)

    # -- perception ----------------------------------------------------------------------
    def objects(self) -> list[Obj]:
        """Every object in the scene, e.g. `[<red cube>, <blue bowl>]`."""
        return [Obj(o.description, i) for i, o in enumerate(self._world.objects)]

    def find(self, description: str) -> Obj:
        """The one object a description names: "red cube", "the red block", "small blue block".

        Raises SkillError when nothing or more than one object matches.
        """
        if not isinstance(description, str) or not description.strip():
            raise SkillError("find() needs a description such as 'red cube'")
        scene = [(o.color, o.shape.name) for o in self._world.objects]
        hits = match(description, scene)
        if not hits:
            have = ", ".join(o.description for o in self._world.objects)
            raise SkillError(
                f"nothing in the scene matches {description!r} (the scene has: {have})"
            )
        if len(hits) > 1:
            names = ", ".join(self._world.objects[i].description for i in hits)
            raise SkillError(f"{description!r} is ambiguous: it matches {names}")
        return Obj(self._world.objects[hits[0]].description, hits[0])

    def pose(self, obj: Obj) -> tuple[float, float, float, float]:
        """(x, y, z, yaw): center of the object's footprint at its bottom, yaw in degrees."""
        from sim.geometry import yaw_from_quat

        pos, orn = self._world.pose(self._sim(obj))
        return (float(pos[0]), float(pos[1]), float(pos[2]), math.degrees(yaw_from_quat(orn)))

    def size(self, obj: Obj) -> tuple[float, float, float]:
        """(width, depth, height) of the object in meters."""
        shape = self._sim(obj).shape
        return (2 * shape.footprint[0], 2 * shape.footprint[1], shape.height)

    def holding(self) -> Obj | None:
        """The object in the gripper, or None."""
        body = self._world.panda.held
        for i, o in enumerate(self._world.objects):
            if o.body == body:
                return Obj(o.description, i)
        return None

    def free_spot(self, clearance: float = 0.03) -> tuple[float, float]:
        """An (x, y) on the table with `clearance` meters free around a 4 cm object."""
        (x0, x1), (y0, y1) = TABLE
        others = [(self._world.pose(o)[0][:2], o.shape.radius) for o in self._world.objects]
        held = self._world.panda.held
        for _ in range(500):
            xy = np.array(
                [self._rng.uniform(x0 + 0.04, x1 - 0.04), self._rng.uniform(y0 + 0.04, y1 - 0.04)]
            )
            if all(
                np.hypot(*(xy - p)) >= r + 0.03 + clearance
                for (p, r), o in zip(others, self._world.objects, strict=True)
                if o.body != held
            ):
                return (float(xy[0]), float(xy[1]))
        raise SkillError("no free spot left on the table")

    # -- planning ------------------------------------------------------------------------
    def plan(self, goal: str) -> list[dict]:
        """The moves that should make `goal` (goal language, text form) hold from the
        scene as it is now; [] when it holds already (as far as the robot can see).

        Each move is a dict: {"kind": "place_on" | "put_in" | "place_at" | "rotate" |
        "pick", "object": description, "target": description or None, "x", "y" (m) and
        "yaw" (degrees) for place_at, "degrees" for rotate, "phrase": the step in words,
        e.g. "put the red cube left of the blue bowl"}. A call that carries a move out
        (`place_at(obj, (x, y), yaw)` with the move's numbers, `rotate`, `place_on`,
        `put_in`, `pick`) is that step: the pose provider is asked for its phrase, so a
        learned policy decides where it goes. The placements satisfy the
        goal's relations with margin, collision-free, inside the workspace (the goal
        planner `sim.goals.plan`). Raises SkillError when the goal is malformed or names
        what is not there, or when no placement makes it hold. Whether the goal holds at
        the end is judged outside the skill, never by this method.
        """
        from sim.goals import GoalError, check, read_world
        from sim.goals.plan import plan_moves

        if not isinstance(goal, str) or not goal.strip():
            raise SkillError("plan() needs a goal such as 'left_of(red cube, blue bowl)'")
        self._plans += 1
        self._note("plan", goal)
        if self._plans > MAX_PLANS:
            raise SkillError(f"too many plans (more than {MAX_PLANS}) in one skill run")
        try:
            state = read_world(self._world, self._start)
            checked = check(goal, state)
        except GoalError as exc:
            raise SkillError(f"bad goal: {exc}") from None
        moves = None
        for _ in range(PLAN_SEEDS):  # the sampler is random: a tight scene gets more draws
            moves = plan_moves(checked, state, int(self._rng.integers(2**31)))
            if moves is not None:
                break
        if moves is None:
            raise SkillError(f"no placement makes the goal hold from here: {goal}")
        try:
            steps = [
                m.as_dict() | {"phrase": step_phrase(m.kind, m.obj, m.atoms, m.target)}
                for m in moves
            ]
        except PhraseError as exc:
            raise SkillError(f"cannot phrase a step of the plan: {exc}") from None
        self._steps = steps
        return [dict(m) for m in steps]

    # -- manipulation --------------------------------------------------------------------
    def pick(self, obj: Obj) -> None:
        """Grasp `obj` from above and lift it. Raises SkillError if the grasp fails."""
        self._note("pick", obj)
        self._pick(self._sim(obj), 0.0)

    def place_on(self, obj: Obj, target: Obj, phrase: str | None = None) -> None:
        """Put `obj` on top of `target` (a block, tray, plate, pad...), centered.

        Picks `obj` first if it is not already held. `phrase` (optional) says the step in
        words for the pose provider; a move of the last `plan()` brings its own.
        """
        self._note("place_on", obj, target)
        held, tgt = self._sim(obj), self._sim(target)
        if held.body == tgt.body:
            raise SkillError("cannot place an object on itself")
        kinds = ("place_on", "put_in")
        phrase = self._phrase(
            phrase, held, lambda m: m["kind"] in kinds and m["target"] == tgt.description
        )
        self._pick(held, 0.0, dest=self._world.pose(tgt)[0][:2])
        if phrase is None:
            pose = self._provider.place_pose(self._world, held, tgt)
        else:
            from skills.poses import resting_pose

            planned = resting_pose(self._world, held, tgt)
            pose = self._provider.step_pose(self._world, held, phrase, planned)
        pose = self._grasper.aim(self._world, held, pose)  # held off-centre: put it there
        self._do(lambda: self._primitives().place(self._world, pose))

    def put_in(self, obj: Obj, container: Obj, phrase: str | None = None) -> None:
        """Put `obj` into `container` (a bowl or a tray). Picks `obj` first if needed."""
        self._note("put_in", obj, container)
        tgt = self._sim(container)
        if tgt.shape.name not in ("bowl", "tray"):
            raise SkillError(f"the {tgt.description} is not a container (use place_on)")
        self.place_on(obj, container, phrase)

    def place_at(
        self, obj: Obj, position, yaw: float | None = None, phrase: str | None = None
    ) -> None:
        """Put `obj` down at `position` = (x, y) on the table, optionally turned to `yaw` degrees.

        `phrase` (optional) says the step in words ("put the red cube left of the blue
        bowl"): the pose provider is asked where that is (a learned policy answers from
        the camera; the oracle keeps `position`). A move of the last `plan()` carried out
        with its own numbers brings its phrase.
        """
        self._note("place_at", obj, position, yaw)

        held = self._sim(obj)
        x, y = self._xy(position)
        phrase = self._phrase(phrase, held, lambda m: m["kind"] == "place_at" and _near(m, x, y))
        self._place_at(held, x, y, yaw, phrase)

    def rotate(self, obj: Obj, degrees: float, phrase: str | None = None) -> None:
        """Turn `obj` in place by `degrees` (counter-clockwise seen from above)."""
        x, y, _, yaw = self.pose(obj)
        turn = _number(degrees, "degrees")
        held = self._sim(obj)
        phrase = self._phrase(
            phrase, held, lambda m: m["kind"] == "rotate" and abs(m["degrees"] - turn) < 1e-6
        )
        self._note("place_at", obj, (x, y), yaw + turn)
        self._place_at(held, *self._xy((x, y)), yaw + turn, phrase)

    def push(self, obj: Obj, to, phrase: str | None = None) -> None:
        """Slide `obj` along the table to `to`: an (x, y) position or another object (a zone).

        Pushed to an object, the step is "push the <obj> into the <zone>" for the pose
        provider (`phrase` overrides it): a learned policy says where the object is and
        where it goes; the oracle reads both from the simulator.
        """
        self._note("push", obj, to)
        sim_obj = self._sim(obj)
        goal = np.array(self.pose(to)[:2] if isinstance(to, Obj) else self._xy(to))
        if phrase is None and isinstance(to, Obj):
            phrase = step_phrase("push", sim_obj.description, target=to.description)
        phrase = self._phrase(phrase, sim_obj, lambda m: False)
        ask = self._provider.step_pose if phrase is not None else None
        if self._world.panda.held is not None:
            self.open_gripper()
        if ask is not None:
            goal = np.array(ask(self._world, sim_obj, phrase, (*goal, 0.0, 0.0))[:2])
        for _ in range(4):
            pos, orn = self._world.pose(sim_obj)
            xy = pos[:2]
            if ask is not None:
                from sim.geometry import yaw_from_quat

                here = (float(xy[0]), float(xy[1]), float(pos[2]), yaw_from_quat(orn))
                xy = np.array(ask(self._world, sim_obj, phrase, here, key="pick")[:2])
            gap = goal - xy
            dist = float(np.hypot(*gap))
            if dist < 0.012:
                return
            d = gap / dist
            back = sim_obj.shape.radius + 0.035
            start, end = xy - d * back, goal - d * (back - 0.012)
            self._do(lambda s=start, e=end: self._primitives().push(self._world, s, e))
            self._world.settle(max_steps=60)

    def move_to(self, position, yaw: float | None = None) -> None:
        """Move the grasp point (between the fingertips) to (x, y, z), gripper turned to `yaw` degrees."""
        self._note("move_to", position, yaw)
        try:
            x, y, z = (float(v) for v in position)
        except (TypeError, ValueError):
            raise SkillError("move_to() needs a position (x, y, z)") from None
        if not all(map(math.isfinite, (x, y, z))) or not 0.005 <= z <= 0.6:
            raise SkillError(f"move_to() position out of range: {(x, y, z)}")
        self._xy((x, y))  # above the reachable table, as every placement (no solver spin)
        arm = self._world.panda
        g = arm.ee_pose()[1] if yaw is None else math.radians(_number(yaw, "yaw"))
        self._do(lambda: arm.move_to((x, y, z), g))

    def open_gripper(self) -> None:
        """Open the fingers, letting go of anything held."""
        self._note("open_gripper")
        self._do(lambda: self._world.panda.open_gripper())

    def close_gripper(self) -> Obj | None:
        """Close the fingers; returns the object now held, or None."""
        self._note("close_gripper")
        self._do(lambda: self._world.panda.close_gripper())
        return self.holding()

    # -- internals (not reachable from skill code: names starting with "_" are rejected) ---
    def _note(self, method: str, *args) -> None:
        """Log a call (capped), e.g. `place_at(red cube, (0.45, 0.1), None)`."""
        if len(self._log) < LOG_CAP:
            shown = ", ".join(_shown(a) for a in args)
            self._log.append(f"{method}({shown})"[:200])

    def _calls(self) -> list[str]:
        """The calls the skill made through this robot, in order (trusted code only)."""
        return list(self._log)

    def _sim(self, obj) -> SimObject:
        if not isinstance(obj, Obj):
            raise SkillError(f"expected an object from robot.find(), got {type(obj).__name__}")
        return self._world.objects[obj._key]

    @staticmethod
    def _xy(position) -> tuple[float, float]:
        try:
            x, y = (float(v) for v in list(position)[:2])
        except (TypeError, ValueError):
            raise SkillError("a position is (x, y) in meters") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise SkillError("a position must be finite numbers")
        (x0, x1), (y0, y1) = TABLE
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise SkillError(
                f"position {(round(x, 3), round(y, 3))} is off the reachable table area"
            )
        return x, y

    @staticmethod
    def _primitives():
        from sim import primitives

        return primitives

    def _phrase(self, given, obj: SimObject, planned) -> str | None:
        """The phrase of a call: the one given (checked), else that of the last plan's
        move of `obj` that `planned(move)` recognises as this call, else None."""
        if given is not None:
            if not isinstance(given, str) or not given.strip() or len(given) > 200:
                raise SkillError(
                    "phrase must be a short sentence such as 'put the red cube left of the blue bowl'"
                )
            return " ".join(given.split())
        for m in self._steps:
            if m["object"] == obj.description and planned(m):
                return m["phrase"]
        return None

    def _place_at(self, held: SimObject, x: float, y: float, yaw, phrase: str | None) -> None:
        from sim import poses
        from sim.geometry import wrap_angle

        turn = 0.0
        if yaw is not None and held.shape.symmetry:
            now = yaw_of(self._world, held)
            sym = held.shape.symmetry
            goal = math.radians(_number(yaw, "yaw"))
            turn = min((wrap_angle(goal - now + k * sym) for k in range(-4, 5)), key=abs)
        self._pick(held, turn, dest=(x, y))
        grip_yaw = self._world.panda.ee_pose()[1]
        pose = poses.place_pose(held, (x, y), 0.0, wrap_angle(grip_yaw + turn))
        if phrase is not None:
            pose = self._provider.step_pose(self._world, held, phrase, pose)
        pose = self._grasper.aim(self._world, held, pose)
        self._do(lambda: self._primitives().place(self._world, pose))

    def _pick(self, obj: SimObject, turn: float, dest=None) -> None:
        arm = self._world.panda
        if arm.held == obj.body:
            return
        if arm.held is not None:
            raise SkillError(
                f"already holding something else; place it before picking the {obj.description}"
            )
        if not obj.shape.graspable:
            raise SkillError(f"the {obj.description} cannot be picked up")
        pose = self._provider.pick_pose(self._world, obj, turn, dest)
        if not self._grasper.grasp(self._world, obj, pose, self._do):
            raise SkillError(f"could not grasp the {obj.description}")

    def _do(self, motion) -> None:
        from sim.errors import SimError

        self._motions += 1
        if self._motions > MAX_MOTIONS:
            raise SkillError(f"too many arm motions (more than {MAX_MOTIONS}) in one skill run")
        try:
            motion()
        except SimError as exc:
            raise SkillError(str(exc)) from None


def _shown(a) -> str:
    if isinstance(a, Obj):
        return a.description
    if isinstance(a, tuple | list):
        try:
            return "(" + ", ".join(f"{float(v):.3f}" for v in a) + ")"
        except (TypeError, ValueError):
            return "?"
    if isinstance(a, float):
        return f"{a:.3f}"
    return repr(a) if isinstance(a, str | int | type(None)) else type(a).__name__


def yaw_of(world: World, obj: SimObject) -> float:
    """`obj`'s yaw in radians, as `Robot.pose` reports it (in degrees)."""
    from sim.geometry import yaw_from_quat

    return math.radians(math.degrees(yaw_from_quat(world.pose(obj)[1])))


def _near(move: dict, x: float, y: float) -> bool:
    """A place_at call at a planned move's spot (to 0.1 mm: the numbers it was given)."""
    return abs(move["x"] - x) < 1e-4 and abs(move["y"] - y) < 1e-4


def _number(value, what: str) -> float:
    """A finite float, or SkillError naming the argument."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SkillError(f"{what} must be a number, got {type(value).__name__}") from None
    if not math.isfinite(v):
        raise SkillError(f"{what} must be a finite number, got {v}")
    return v
