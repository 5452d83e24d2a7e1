def move_to(robot, x, y, z, yaw=None):
    """Move the gripper (the point between the fingertips) to a point (x, y, z) in meters.

    Args:
        robot: the robot.
        x: meters away from the robot base.
        y: meters to the robot's left.
        z: meters above the table.
        yaw: gripper turn in degrees, or None to keep the current one.

    Examples:
        move the gripper to x 0.5, y 0.1, z 0.2
        go to the point (0.45, -0.1, 0.15)
        raise the hand to 20 centimeters above the table at x 0.5 y 0
        position the end effector at (0.6, 0.0, 0.3)
        move the arm above the table to a given point
        bring the gripper to a 3D position
    """
    robot.move_to((float(x), float(y), float(z)), None if yaw is None else float(yaw))
