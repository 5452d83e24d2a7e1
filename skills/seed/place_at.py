def place_at(robot, obj, x, y, yaw=None):
    """Put an object down on the table at a position (x, y) in meters, optionally turned to a yaw.

    Args:
        robot: the robot.
        obj: description of the object, e.g. "red cube".
        x: meters away from the robot base.
        y: meters to the robot's left.
        yaw: final yaw in degrees, or None to keep its orientation.

    Examples:
        put the red cube down at x 0.5, y 0.1
        move the blue block to the position (0.55, -0.05) on the table
        set the green cylinder at x 0.4 y 0.2
        place the yellow cube at table coordinates (0.6, 0.1)
        relocate the purple block to a given spot on the table
        put the block down at a given location
    """
    robot.place_at(robot.find(obj), (float(x), float(y)), None if yaw is None else float(yaw))
