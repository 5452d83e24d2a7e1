"""Grasps learned per kind of object: tried in a run, judged by the simulator, remembered.

The catalogue's blocks are grasped one way (`sim.poses.pick_pose`), as they always were. An
object of a kind no task family uses (`Shape.novel`: a duck, a mug, a bar...) is grasped
by `Grasper.pick`: first the grasps remembered for its kind (best first), then the pose
provider's default, then the candidates its geometry offers (`sim.grasping.candidates`),
until one holds. A grasp holds when the simulator says so: the object did not slide or
turn in the closing fingers and rose with the gripper (`sim.grasping.lifted`). Every
outcome is kept as a plain dict ({"kind", "grasp", "held", "source": "memory" |
"default" | "candidate"}) and leaves the run with its reply.

Who writes what: the run's trusted process (`skills.sandbox.runner`) builds the `Robot`
with the grasps the parent sent in the request, and reports the outcomes back; skill code
never sees either. The parent (`skills.sandbox.pool`) reads `GraspMemory.known()` for each
request and writes the outcomes with `GraspMemory.record`: the table `grasps` of the data
home's `skillgrove.db` (component "grasps", migrated by `skills.db`).
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from skills.db import DB_NAME, Migration, guarded, open_db
from skills.errors import SkillError

if TYPE_CHECKING:
    from sim.objects import SimObject
    from sim.world import World

COMPONENT = "grasps"
SCHEMA = """
CREATE TABLE IF NOT EXISTS grasps (
    kind TEXT NOT NULL,
    yaw_deg REAL NOT NULL,
    dx REAL NOT NULL,
    dy REAL NOT NULL,
    dz REAL NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    missed INTEGER NOT NULL DEFAULT 0,
    first REAL NOT NULL,
    last REAL NOT NULL,
    PRIMARY KEY (kind, yaw_deg, dx, dy, dz)
)
"""
MIGRATIONS = (Migration(1, "grasps remembered per kind of object", SCHEMA),)
MAX_TRIES = 6  # grasps one pick may try (each is an arm motion)
RANK = "(held + 1.0) / (held + missed + 2.0)"  # how likely a grasp holds (Laplace's rule)
REMEMBERED = 2  # remembered grasps tried before the default
MAX_OUTCOMES = 50  # outcomes one run may report
SLID = 0.01  # the object moved this far (m) while the fingers closed: not a clean grasp
TURNED = math.radians(8)
TIPPED = math.radians(20)  # an object tipped this far is not grasped again from above


class GraspMemory:
    """The grasps remembered in a data home (parent side only)."""

    def __init__(self, home: str | Path) -> None:
        self.path = Path(home) / DB_NAME

    def _db(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return open_db(self.path, component=COMPONENT, migrations=MIGRATIONS)

    def rows(self, kind: str | None = None) -> list[dict]:
        """Every remembered grasp (of `kind`), the likeliest to hold first: kind, grasp,
        held, missed, first and last (when it was first and last tried, Unix time)."""
        if not self.path.exists():
            return []
        db = self._db()
        try:
            with guarded(self.path):
                sql = "SELECT kind, yaw_deg, dx, dy, dz, held, missed, first, last FROM grasps"
                args: tuple = ()
                if kind is not None:
                    sql, args = sql + " WHERE kind = ?", (kind,)
                rows = db.execute(sql + f" ORDER BY kind, {RANK} DESC, held DESC", args)
                return [
                    {
                        "kind": r[0],
                        "grasp": {"yaw_deg": r[1], "dx": r[2], "dy": r[3], "dz": r[4]},
                        "held": r[5],
                        "missed": r[6],
                        "first": r[7],
                        "last": r[8],
                    }
                    for r in rows.fetchall()
                ]
        finally:
            db.close()

    def known(self) -> dict[str, list[dict]]:
        """Per kind, the grasps that held more often than they missed, best first (what a
        run's request carries)."""
        out: dict[str, list[dict]] = {}
        for r in self.rows():
            if r["held"] > r["missed"] and len(out.get(r["kind"], [])) < REMEMBERED:
                out.setdefault(r["kind"], []).append(r["grasp"])
        return out

    def record(self, outcomes) -> int:
        """Write a run's outcomes: a grasp that held is remembered (or counted again); a
        remembered one that missed is counted as missed. The provider's default grasp is
        not remembered (it is tried anyway), nor is a malformed entry. Returns how many
        rows changed."""
        good = list(_checked(outcomes))
        if not good:
            return 0
        db = self._db()
        now, n = time.time(), 0
        try:
            with guarded(self.path):
                db.execute("BEGIN IMMEDIATE")
                for kind, key, held in good:
                    if held:
                        db.execute(
                            "INSERT INTO grasps VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?) ON CONFLICT"
                            " DO UPDATE SET held = held + 1, last = excluded.last",
                            (kind, *key, now, now),
                        )
                    else:
                        db.execute(
                            "UPDATE grasps SET missed = missed + 1, last = ? WHERE kind = ?"
                            " AND yaw_deg = ? AND dx = ? AND dy = ? AND dz = ?",
                            (now, kind, *key),
                        )
                    n += db.execute("SELECT changes()").fetchone()[0]
                db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return n

    def forget(self, kind: str | None = None) -> int:
        """Drop the grasps remembered (for `kind`); returns how many."""
        if not self.path.exists():
            return 0
        db = self._db()
        try:
            with guarded(self.path):
                if kind is None:
                    return db.execute("DELETE FROM grasps").rowcount
                return db.execute("DELETE FROM grasps WHERE kind = ?", (kind,)).rowcount
        finally:
            db.close()


def _checked(outcomes):
    """(kind, key, held) of each well-formed outcome of a novel kind."""
    from sim.grasping import Grasp
    from sim.objects import SHAPES

    if not isinstance(outcomes, list):
        return
    for o in outcomes[:MAX_OUTCOMES]:
        if not isinstance(o, dict) or not isinstance(o.get("held"), bool):
            continue
        if o.get("source") == "default":  # the provider's own grasp is tried anyway
            continue
        kind = o.get("kind")
        if not isinstance(kind, str) or kind not in SHAPES or not SHAPES[kind].novel:
            continue
        try:
            g = Grasp.from_json(o.get("grasp"))
        except ValueError:
            continue
        yield kind, g.key(), o["held"]


def known_grasps(data) -> dict:
    """The grasps a request carries, checked: {kind: [Grasp, ...]} (anything else dropped)."""
    from sim.grasping import Grasp

    out: dict = {}
    if not isinstance(data, dict):
        return out
    for kind, rows in list(data.items())[:64]:
        if not isinstance(kind, str) or not isinstance(rows, list):
            continue
        for r in rows[:REMEMBERED]:
            try:
                g = Grasp.from_json(r)
            except ValueError:
                continue
            out.setdefault(kind, []).append(g)
    return out


class Grasper:
    """Picks objects of novel kinds in one run (trusted code: the run's process).

    Args:
        known: the remembered grasps per kind, as a request carries them (checked here).
    """

    def __init__(self, known=None) -> None:
        self.known = known_grasps(known)
        self.outcomes: list[dict] = []

    def grasp(self, world: World, obj: SimObject, pose, do) -> bool:
        """`Robot._pick`'s grasp of `obj` (the pose provider's grasp: `pose`): True if it
        holds. A catalogue kind gets that one grasp, as always; a novel kind, `pick`'s."""
        if obj.shape.novel:
            return self.pick(world, obj, pose, do)
        from sim import primitives

        do(lambda: primitives.pick(world, pose))
        if world.panda.held != obj.body and world.panda.held is not None:
            world.panda.open_gripper()
        return world.panda.held == obj.body

    def pick(self, world: World, obj: SimObject, default_pose, do) -> bool:
        """Try grasps of `obj` until one holds (see the module doc); True if one did.

        `default_pose` is the pose provider's grasp; `do(motion)` runs an arm motion
        (the robot's, which counts motions)."""
        from sim import grasping

        tried: list = []
        default = grasping.grasp_of(world, obj, default_pose)
        queue = [("memory", g) for g in self.known.get(obj.kind, [])] + [("default", default)]
        generated = False
        while len(tried) < MAX_TRIES:
            if not queue:  # the remembered grasps and the default failed: the geometry's turn
                if generated:
                    break
                generated = True
                more = grasping.candidates(world, obj, default, MAX_TRIES, skip=tried)
                queue = [("candidate", c) for c in more]
                continue
            source, g = queue.pop(0)
            if any(g.key() == t.key() for t in tried):
                continue
            if _tilt(world, obj) > TIPPED:
                break
            first = not tried and source == "default"  # the provider's own pose, as given
            pose = default_pose if first else grasping.pose_of(world, obj, g, default_pose[3])
            tried.append(g)
            held = self._attempt(world, obj, pose, do)
            self._note(obj.kind, g, held, source)
            if held:
                return True
        return False

    def _note(self, kind: str, grasp, held: bool, source: str) -> None:
        if len(self.outcomes) < MAX_OUTCOMES:
            self.outcomes.append(
                {"kind": kind, "grasp": grasp.to_json(), "held": held, "source": source}
            )

    @staticmethod
    def _attempt(world: World, obj: SimObject, pose, do) -> bool:
        from sim import grasping, primitives
        from sim.errors import SimError
        from sim.geometry import wrap_angle, yaw_from_quat
        from sim.panda import SAFE_Z

        pos, orn = world.pose(obj)
        z0, yaw0 = float(pos[2]), yaw_from_quat(orn)

        def clean() -> bool:  # after closing: the object still where it was
            p, q = world.pose(obj)
            return (
                math.hypot(p[0] - pos[0], p[1] - pos[1]) <= SLID
                and abs(wrap_angle(yaw_from_quat(q) - yaw0)) <= TURNED
            )

        def attempt() -> None:
            try:
                primitives.pick(world, pose, clean)
            except SimError:  # the arm was stopped on its way (a finger on the object)
                world.panda.open_gripper()
                with contextlib.suppress(SimError):
                    world.panda.move_to((pose[0], pose[1], SAFE_Z), pose[3], speed=0.4)

        do(attempt)
        held = grasping.lifted(world, obj, z0)
        if not held:  # let go for good (an object wedged in the fingers drops) and settle
            world.panda.open_gripper()
            world.settle(max_steps=120)
        return held

    @staticmethod
    def aim(world: World, held: SimObject, pose) -> tuple[float, float, float, float]:
        """The gripper pose that puts `held` where `pose` would put it if it were held at
        its default grasp (its footprint centre, `sim.poses.grasp_height` up): the grasp
        it is actually held by, read from the simulator, is taken into account."""
        from sim.poses import grasp_height

        if not held.shape.novel or world.panda.held != held.body:
            return pose
        ee, g = world.panda.ee_pose()
        p = world.pose(held)[0]
        c, s = math.cos(g), math.sin(g)
        rx, ry = ee[0] - p[0], ee[1] - p[1]  # the grasp point from the object's centre
        lx, ly = c * rx + s * ry, -s * rx + c * ry  # ... in the gripper's frame
        g2 = float(pose[3])
        c2, s2 = math.cos(g2), math.sin(g2)
        up = float(ee[2] - p[2])
        bottom = float(pose[2]) - grasp_height(held)
        return (
            float(pose[0]) + c2 * lx - s2 * ly,
            float(pose[1]) + s2 * lx + c2 * ly,
            bottom + up,
            g2,
        )


def _tilt(world: World, obj: SimObject) -> float:
    from sim.geometry import tilt_from_quat

    return tilt_from_quat(world.pose(obj)[1])


def check_kind(kind: str) -> str:
    """`kind` if it is a kind of object whose grasps are learned; SkillError otherwise."""
    from sim.objects import SHAPES

    if kind not in SHAPES or not SHAPES[kind].novel:
        novel = ", ".join(k for k, s in SHAPES.items() if s.novel)
        raise SkillError(f"no grasps are learned for {kind!r} (kinds: {novel})")
    return kind
