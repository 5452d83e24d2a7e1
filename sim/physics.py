"""What an arm needs of the world it stands in: the piece `sim.world` and `sim.panda` share.

`World` satisfies `Physics`; `Panda` is typed against it, so the arm module imports
nothing of the world module and the world builds its arm with a plain import.
"""

from __future__ import annotations

from typing import Any, Protocol

HZ = 240  # physics steps per simulated second


class Physics(Protocol):
    """A PyBullet client of its own, its clock, and which bodies a gripper may hold."""

    client: Any  # a pybullet_utils BulletClient
    hz: int

    def step(self, n: int = 1) -> None:
        """Advance the physics by `n` steps of 1/`hz` s."""

    def graspable_bodies(self) -> set[int]:
        """Bodies of objects the gripper may hold."""
