def close_gripper(robot):
    """Close the gripper's fingers where the hand is now, grabbing anything between them.

    Args:
        robot: the robot.

    Examples:
        close the gripper
        shut the fingers
        close the hand to grip
        squeeze the gripper closed
        grip
        clamp the fingers together
    """
    robot.close_gripper()
