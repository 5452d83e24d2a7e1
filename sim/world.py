"""The world: one PyBullet client of its own, a table, a Panda, objects and cameras.

Never touches PyBullet's global client: two `World`s in one process are independent.
Physics settings are fixed (240 Hz, fixed solver iterations, deterministic pair
ordering) and a scene is rebuilt from scratch at each reset, so the same seed gives the
same layout and the same outcome, whatever ran before in the same process.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np

from sim.camera import CAMERAS, Camera
from sim.errors import SimError
from sim.geometry import quat_from_yaw
from sim.objects import COLORS, SHAPES, SimObject, parts
from sim.panda import Panda
from sim.physics import HZ

TABLE_COLOR = (0.82, 0.71, 0.55, 1.0)


class World:
    """A tabletop with a Panda arm.

    Args:
        gui: open PyBullet's GUI window instead of running headless (DIRECT), after
            `sim.display.require_display` has seen it open (SimError if it cannot); the
            physics then keeps pace with the wall clock, so that what it shows can be watched.
        image_size: (width, height) of rendered camera images.
        check_display: with `gui`, probe the display first (False: the caller already did).
    """

    hz = HZ

    def __init__(
        self,
        gui: bool = False,
        image_size: tuple[int, int] = (128, 128),
        check_display: bool = True,
    ) -> None:
        from sim.quiet import quiet_stdout

        with quiet_stdout():
            import pybullet as p
            import pybullet_data
            from pybullet_utils import bullet_client

            if gui and check_display:
                from sim.display import require_display

                require_display("PyBullet's GUI")
            self.client = bullet_client.BulletClient(connection_mode=p.GUI if gui else p.DIRECT)
        self.gui = gui
        if gui:  # the scene alone, seen from the front camera's side
            self.client.configureDebugVisualizer(self.client.COV_ENABLE_GUI, 0)
            self.client.resetDebugVisualizerCamera(1.3, 90.0, -35.0, (0.45, 0.0, 0.1))
        self.client.setAdditionalSearchPath(pybullet_data.getDataPath())
        self.cameras: dict[str, Camera] = {k: c.resized(*image_size) for k, c in CAMERAS.items()}
        self.steps = 0  # physics steps taken since creation (for benchmarks)
        self.physics_seconds = 0.0  # wall time spent inside stepSimulation loops
        self.recorder: Callable[[World], None] | None = None  # called every `record_every` steps
        self.record_every = 24
        self.objects: list[SimObject] = []
        self._shape_cache: dict[str, tuple[int, int]] = {}
        self._build()

    def _build(self) -> None:
        c = self.client
        c.resetSimulation()
        c.setPhysicsEngineParameter(
            fixedTimeStep=1.0 / HZ, numSolverIterations=50, deterministicOverlappingPairs=1
        )
        c.setGravity(0, 0, -9.81)
        # The table: a plain 1.3 m x 1.4 m slab whose top is z = 0 (the robot stands on it).
        half = (0.65, 0.7, 0.025)
        self.table = c.createMultiBody(
            baseMass=0,
            baseCollisionShapeIndex=c.createCollisionShape(c.GEOM_BOX, halfExtents=half),
            baseVisualShapeIndex=c.createVisualShape(
                c.GEOM_BOX, halfExtents=half, rgbaColor=TABLE_COLOR
            ),
            basePosition=(0.4, 0.0, -half[2]),
        )
        c.changeDynamics(self.table, -1, lateralFriction=0.6)
        self.panda = Panda(self)
        self._base_state = c.saveState()

    def close(self) -> None:
        """Disconnect the physics client."""
        with contextlib.suppress(Exception):  # already disconnected
            self.client.disconnect()

    # -- scene ---------------------------------------------------------------------------
    def clear(self) -> None:
        """Remove every object and put the arm back home: an empty table, as after creation."""
        c = self.client
        self.panda.reset()
        for obj in reversed(self.objects):
            c.removeBody(obj.body)
        self.objects = []
        c.restoreState(self._base_state)
        self.panda.reset()

    def add(self, shape: str, color: str, xy, yaw: float = 0.0, z: float = 0.0) -> SimObject:
        """Create an object on the table (or at height `z`) and return its handle."""
        if shape not in SHAPES:
            raise SimError(f"unknown shape {shape!r}")
        if color not in COLORS:
            raise SimError(f"unknown color {color!r}")
        spec = SHAPES[shape]
        col, vis = self._shapes(shape)
        c = self.client
        body = c.createMultiBody(
            baseMass=spec.mass,
            baseCollisionShapeIndex=col,
            baseVisualShapeIndex=vis,
            basePosition=(float(xy[0]), float(xy[1]), float(z)),
            baseOrientation=quat_from_yaw(yaw),
        )
        c.changeVisualShape(body, -1, rgbaColor=COLORS[color])
        if spec.mass > 0:
            c.changeDynamics(
                body, -1, lateralFriction=spec.friction, spinningFriction=0.002, rollingFriction=0.0
            )
        obj = SimObject(body, spec, color)
        self.objects.append(obj)
        return obj

    def _shapes(self, shape: str) -> tuple[int, int]:
        from sim import meshes

        if shape not in self._shape_cache and meshes.is_built_here(shape):
            self._shape_cache[shape] = meshes.build(self.client, shape)
        if shape not in self._shape_cache:
            c = self.client
            types, dims_r, dims_h, half, pos, orn = [], [], [], [], [], []
            for kind, dims, p_rel, yaw in parts(SHAPES[shape]):
                if kind == "box":
                    types.append(c.GEOM_BOX)
                    half.append(dims)
                    dims_r.append(0.0)
                    dims_h.append(0.0)
                else:
                    types.append(c.GEOM_CYLINDER)
                    half.append((0.0, 0.0, 0.0))
                    dims_r.append(dims[0])
                    dims_h.append(dims[1])
                pos.append(p_rel)
                orn.append(quat_from_yaw(yaw))
            col = -1
            if SHAPES[shape].collides:
                col = c.createCollisionShapeArray(
                    shapeTypes=types,
                    radii=dims_r,
                    halfExtents=half,
                    lengths=dims_h,
                    collisionFramePositions=pos,
                    collisionFrameOrientations=orn,
                )
            vis = c.createVisualShapeArray(
                shapeTypes=types,
                radii=dims_r,
                halfExtents=half,
                lengths=dims_h,
                visualFramePositions=pos,
                visualFrameOrientations=orn,
            )
            self._shape_cache[shape] = (col, vis)
        return self._shape_cache[shape]

    def graspable_bodies(self) -> set[int]:
        """Bodies of objects the gripper may hold."""
        return {o.body for o in self.objects if o.shape.graspable}

    def pose(self, obj: SimObject) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """Position of the object's base (center of its footprint, on its bottom) and xyzw quaternion."""
        pos, orn = self.client.getBasePositionAndOrientation(obj.body)
        return np.array(pos), orn

    def step(self, n: int = 1) -> None:
        """Advance the physics by `n` steps of 1/240 s."""
        step = self.client.stepSimulation
        if self.gui:  # watched: at most real time
            step = self._paced(step)
        if self.recorder is None:
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            self.physics_seconds += time.perf_counter() - t0
            self.steps += n
            return
        for _ in range(n):
            step()
            self.steps += 1
            if self.steps % self.record_every == 0:
                self.recorder(self)

    def _paced(self, step: Callable[[], object]) -> Callable[[], None]:
        t0 = time.perf_counter()
        n = 0

        def paced() -> None:
            nonlocal n
            step()
            n += 1
            ahead = t0 + n / self.hz - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)

        return paced

    def settle(self, max_steps: int = 240, tol: float = 1e-3) -> None:
        """Step until dynamic objects are (almost) at rest."""
        dynamic = [o.body for o in self.objects if o.shape.mass > 0]
        for _ in range(max_steps // 10):
            self.step(10)
            v = [np.linalg.norm(self.client.getBaseVelocity(b)[0]) for b in dynamic]
            if not v or max(v) < tol * 10:
                return

    # -- cameras -------------------------------------------------------------------------
    def render(self, camera: str = "front") -> tuple[np.ndarray, np.ndarray]:
        """RGB image (H, W, 3 uint8) and metric depth (H, W float32) from a named camera."""
        cam = self.cameras[camera]
        _, _, rgba, depth, _ = self.client.getCameraImage(
            cam.width,
            cam.height,
            viewMatrix=cam.view_matrix(),
            projectionMatrix=cam.projection_matrix(),
            renderer=self.client.ER_TINY_RENDERER,
            shadow=0,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(cam.height, cam.width, 4)[:, :, :3]
        buf = np.asarray(depth, dtype=np.float32).reshape(cam.height, cam.width)
        return rgb, cam.depth_from_buffer(buf)
