def align_with(robot, obj, target):
    """Align an object with a target outline: same center and same orientation.

    Args:
        robot: the robot.
        obj: description of the object, e.g. "red cube".
        target: description of the outline or object to match, e.g. "green outline".

    Examples:
        align the red cube with the green outline
        fit the blue block into the yellow frame
        line the purple cube up with the orange outline, matching its rotation
        place the green block exactly on its outline with the same orientation
        match the cube's position and angle to the outline
        make the cube sit exactly inside the outline
    """
    x, y, _, yaw = robot.pose(robot.find(target))
    robot.place_at(robot.find(obj), (x, y), yaw)
