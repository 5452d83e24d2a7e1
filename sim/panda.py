"""The Franka Panda arm: inverse kinematics, gripper, and motions executed with physics.

Motions never teleport: every Cartesian move is cut into waypoints 8 physics steps
apart (2 cm at transport speed, under 1 cm near objects), each solved by inverse kinematics and tracked by the joint position controllers
while the physics steps. A grasp is detected from contacts (both fingers touching the
object); the object is then held by a fixed constraint on the hand, as a suction cup or a
well-tuned friction grasp would hold it, so transport is reliable and fully simulated.

Gripper yaw: the end-effector frame's x axis points at angle `yaw` in the table plane and
the fingers close along the perpendicular direction (yaw - 90 degrees).
"""

from __future__ import annotations

import math

import numpy as np

from sim.errors import SimError
from sim.geometry import wrap_angle, yaw_from_quat
from sim.physics import Physics

ARM_JOINTS = list(range(7))
FINGER_JOINTS = [9, 10]
EE_LINK = 11  # panda_grasptarget: between the fingertips
ARM_FORCES = [87.0] * 4 + [12.0] * 3
LOWER = [-2.9671, -1.8326, -2.9671, -3.1416, -2.9671, -0.0873, -2.9671]
UPPER = [2.9671, 1.8326, 2.9671, 0.0, 2.9671, 3.8223, 2.9671]
RANGES = [u - lo for lo, u in zip(LOWER, UPPER, strict=True)]
# Home: gripper pointing down on the robot's side of the table, out of the cameras' way.
HOME = [0.0, -0.7, 0.0, -2.6, 0.0, 1.9, math.pi / 4]
FINGER_OPEN = 0.08  # full opening between the fingers, meters
FINGER_FORCE = 40.0
SAFE_Z = 0.26  # transport height of the grasp point: clears a three-cube tower
STEPS_PER_WAYPOINT = 8  # physics steps between two IK solves along a straight-line move


class Panda:
    """One Panda arm in a `World` (any `Physics`), driven only through physics steps."""

    def __init__(self, world: Physics, base=(0.0, 0.0, 0.0)) -> None:
        self.world = world
        c = world.client
        self.body = c.loadURDF("franka_panda/panda.urdf", base, useFixedBase=True)
        for j in FINGER_JOINTS:
            c.changeDynamics(self.body, j, lateralFriction=1.2, spinningFriction=0.01)
        self.held: int | None = None  # body id of the object held by the grasp constraint
        self._constraint: int | None = None
        self.reset()

    # -- state ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Put the arm at home with the gripper open, holding nothing."""
        c = self.world.client
        self._drop_constraint()
        for j, q in zip(ARM_JOINTS, HOME, strict=True):
            c.resetJointState(self.body, j, q)
        for j in FINGER_JOINTS:
            c.resetJointState(self.body, j, FINGER_OPEN)
        self._q = list(HOME)
        self._finger = FINGER_OPEN
        self._command()

    def joints(self) -> list[float]:
        """Current arm joint positions (7)."""
        return [s[0] for s in self.world.client.getJointStates(self.body, ARM_JOINTS)]

    def finger_width(self) -> float:
        """Current opening between the fingers, meters."""
        return sum(s[0] for s in self.world.client.getJointStates(self.body, FINGER_JOINTS))

    def ee_pose(self) -> tuple[np.ndarray, float]:
        """Position of the grasp point and yaw of the gripper."""
        st = self.world.client.getLinkState(self.body, EE_LINK, computeForwardKinematics=True)
        return np.array(st[4]), yaw_from_quat(st[5])

    def proprio(self) -> np.ndarray:
        """Proprioception: 7 joint positions, finger width, grasp point xyz, gripper yaw, holding."""
        pos, yaw = self.ee_pose()
        return np.array(
            [*self.joints(), self.finger_width(), *pos, yaw, float(self.held is not None)],
            dtype=np.float32,
        )

    # -- low level -----------------------------------------------------------------------
    def _command(self) -> None:
        c = self.world.client
        c.setJointMotorControlArray(
            self.body, ARM_JOINTS, c.POSITION_CONTROL, targetPositions=self._q, forces=ARM_FORCES
        )
        c.setJointMotorControlArray(
            self.body,
            FINGER_JOINTS,
            c.POSITION_CONTROL,
            targetPositions=[self._finger / 2] * 2,
            forces=[FINGER_FORCE] * 2,
        )

    def ik(self, pos, yaw: float, precise: bool = False) -> list[float]:
        """Joint positions that put the grasp point at `pos`, pointing down, turned by `yaw`.

        `precise` iterates until the residual is below 10 micrometers (the end of a move,
        where a centimeter off would misplace a block); waypoints on the way need less.
        """
        c = self.world.client
        orn = c.getQuaternionFromEuler([math.pi, 0.0, yaw])
        q = c.calculateInverseKinematics(
            self.body,
            EE_LINK,
            list(pos),
            orn,
            lowerLimits=LOWER,
            upperLimits=UPPER,
            jointRanges=RANGES,
            restPoses=self._q,
            maxNumIterations=200 if precise else 30,
            residualThreshold=1e-5 if precise else 1e-4,
        )
        return list(q[:7])

    def _track(self, q: list[float], steps: int) -> None:
        self._q = q
        self._command()
        self.world.step(steps)

    def move_to(self, pos, yaw: float, speed: float = 0.6, settle: int = 12) -> None:
        """Move the grasp point in a straight line to `pos` with gripper yaw `yaw`.

        Args:
            pos: target position of the grasp point, meters.
            yaw: target gripper yaw, radians.
            speed: Cartesian speed in m/s.
            settle: physics steps at the end for the controllers to converge.
        """
        start, yaw0 = self.ee_pose()
        goal = np.asarray(pos, dtype=float)
        dyaw = wrap_angle(yaw - yaw0)
        dist = float(np.linalg.norm(goal - start))
        # One IK solve per STEPS_PER_WAYPOINT physics steps, whatever the speed.
        spacing = speed * STEPS_PER_WAYPOINT / self.world.hz
        n = max(1, math.ceil(max(dist / spacing, abs(dyaw) / 0.06)))
        for i in range(1, n + 1):
            s = i / n
            q = self.ik(start + s * (goal - start), yaw0 + s * dyaw, precise=i == n)
            self._track(q, STEPS_PER_WAYPOINT)
        self.world.step(settle)
        reached, _ = self.ee_pose()
        if np.linalg.norm(reached - goal) > 0.03:
            raise SimError(f"pose out of reach: {np.round(goal, 3).tolist()}")

    def at_home(self, tol: float = 0.02) -> bool:
        """Whether the arm's joints are within `tol` radians of home."""
        return max(abs(a - b) for a, b in zip(self.joints(), HOME, strict=True)) <= tol

    def clear_view(self, waypoints: int = 30) -> None:
        """Move the arm back to its home joints, out of the top camera's view (as a robot
        does before it takes the picture it acts on), by joint-space waypoints from where
        it is; what it holds comes along."""
        q0 = self.joints()
        for i in range(1, waypoints + 1):
            s = i / waypoints
            self._track(
                [a + s * (b - a) for a, b in zip(q0, HOME, strict=True)], STEPS_PER_WAYPOINT
            )
        self.world.step(12)

    # -- gripper -------------------------------------------------------------------------
    def open_gripper(self, steps: int = 30) -> None:
        """Open the fingers, letting go of anything held."""
        self._drop_constraint()
        self._finger = FINGER_OPEN
        self._command()
        self.world.step(steps)

    def close_gripper(self, steps: int = 40) -> int | None:
        """Close the fingers; if both touch one object, hold it. Returns its body id or None."""
        self._finger = 0.0
        self._command()
        self.world.step(steps)
        target = self._contact_object()
        if target is not None:
            self._attach(target)
        return target

    def _contact_object(self) -> int | None:
        c = self.world.client
        touched = []
        for j in FINGER_JOINTS:
            bodies = {pt[2] for pt in c.getContactPoints(bodyA=self.body, linkIndexA=j)}
            bodies.discard(self.body)
            touched.append(bodies)
        both = touched[0] & touched[1]
        both &= self.world.graspable_bodies()
        return min(both) if both else None

    def _attach(self, body: int) -> None:
        c = self.world.client
        ee = c.getLinkState(self.body, EE_LINK, computeForwardKinematics=True)
        obj_pos, obj_orn = c.getBasePositionAndOrientation(body)
        inv_pos, inv_orn = c.invertTransform(ee[4], ee[5])
        rel_pos, rel_orn = c.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        self._constraint = c.createConstraint(
            self.body, EE_LINK, body, -1, c.JOINT_FIXED, [0, 0, 0], rel_pos, [0, 0, 0], rel_orn
        )
        c.changeConstraint(self._constraint, maxForce=200.0)
        self.held = body

    def _drop_constraint(self) -> None:
        if self._constraint is not None:
            self.world.client.removeConstraint(self._constraint)
        self._constraint = None
        self.held = None

    def held_in_contact(self) -> bool:
        """True when the held object touches anything other than the robot."""
        if self.held is None:
            return False
        return any(pt[2] != self.body for pt in self.world.client.getContactPoints(bodyA=self.held))

    def descend_until_contact(self, z_min: float, speed: float = 0.12) -> bool:
        """Lower the grasp point straight down to `z_min`, stopping early when the held object
        touches something. Returns True if it stopped on contact."""
        pos, yaw = self.ee_pose()
        dz = speed * STEPS_PER_WAYPOINT / self.world.hz
        z = pos[2]
        while z > z_min:
            z = max(z_min, z - dz)
            self._track(self.ik((pos[0], pos[1], z), yaw), STEPS_PER_WAYPOINT)
            if self.held_in_contact():
                return True
        self.world.step(10)
        return False
