def pick_up(robot, obj):
    """Pick up one object and keep holding it in the gripper.

    Args:
        robot: the robot.
        obj: description of the object to pick, e.g. "red cube".

    Examples:
        pick up the red cube
        grab the blue block
        lift the green cylinder off the table
        grasp the small purple block
        pick the yellow cube up from the table
        raise the cube into the air
        take hold of the block
        get the cylinder in your gripper and hold it
    """
    robot.pick(robot.find(obj))
