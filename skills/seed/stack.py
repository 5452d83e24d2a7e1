import math


def stack(robot, top, base):
    """Stack one block on top of another block, centered, and check that it stays there.

    Args:
        robot: the robot.
        top: description of the block to put on top, e.g. "red cube".
        base: description of the block underneath, e.g. "blue cube".

    Examples:
        stack the red cube on the blue cube
        put the green block on top of the yellow block
        place the small purple cube onto the orange cube
        put the blue block onto the red block
        set one block on top of another
        pile one cube on another cube
    """
    upper = robot.find(top)
    lower = robot.find(base)
    robot.place_on(upper, lower)
    ux, uy, uz, _ = robot.pose(upper)
    lx, ly, lz, _ = robot.pose(lower)
    if uz <= lz + 0.5 * robot.size(lower)[2] or math.hypot(ux - lx, uy - ly) > 0.03:
        raise RuntimeError("the top block did not stay on the base")
