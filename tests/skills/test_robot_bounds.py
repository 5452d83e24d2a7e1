"""`move_to` bounds x and y like every placement (issue 19, finding 13): an extreme x is
refused at once instead of spinning the arm's solver until the sandbox's timeout."""

from __future__ import annotations

import signal
import time

import pytest

from sim.runner import reset_task
from skills.errors import SkillError
from skills.robot import TABLE, Robot


@pytest.mark.parametrize(
    "position",
    [
        (1e6, 0.0, 0.2),
        (0.5, -1e6, 0.2),
        (-5.0, 0.0, 0.2),
        (TABLE[0][1] + 0.01, 0.0, 0.2),
        (0.5, TABLE[1][0] - 0.01, 0.2),
    ],
)
def test_move_to_refuses_x_y_off_the_reachable_table(world, position):
    reset_task(world, "pick", 1)
    robot = Robot(world)
    t0 = time.perf_counter()

    def too_slow(*_):  # what the sandbox's wall clock would do, sooner
        raise TimeoutError("move_to spun the solver instead of refusing the position")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        with pytest.raises(SkillError, match="off the reachable table"):
            robot.move_to(position)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < 1.0


def test_move_to_inside_the_table_still_moves(world):
    reset_task(world, "pick", 1)
    robot = Robot(world)
    robot.move_to((0.5, 0.1, 0.25))
    x, y, z = world.panda.ee_pose()[0][:3]
    assert abs(x - 0.5) < 0.02 and abs(y - 0.1) < 0.02
