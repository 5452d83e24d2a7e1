def open_gripper(robot):
    """Open the gripper's fingers, releasing whatever it holds.

    Args:
        robot: the robot.

    Examples:
        open the gripper
        let go of the block
        release what you are holding
        open the fingers and drop the object
        ungrip
        open the hand
    """
    robot.open_gripper()
