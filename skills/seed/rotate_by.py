def rotate_by(robot, obj, angle):
    """Rotate an object in place by an angle in degrees, counter-clockwise seen from above.

    Args:
        robot: the robot.
        obj: description of the object, e.g. "red cube".
        angle: the turn in degrees (a number or a numeric string), e.g. 45.

    Examples:
        rotate the red cube by 45 degrees
        turn the blue block 90 degrees counter-clockwise
        spin the green cube by 30 degrees
        rotate the yellow block in place by 120 degrees
        change the orientation of the purple cube by 60 degrees
        twist the block a quarter turn
        turn the cube clockwise by 45 degrees
    """
    robot.rotate(robot.find(obj), float(angle))
