def push_to(robot, obj, zone):
    """Push an object along the table, without lifting it, into a zone or onto another object's spot.

    Args:
        robot: the robot.
        obj: description of the object to slide, e.g. "red cube".
        zone: description of where to push it, e.g. "green zone".

    Examples:
        push the red cube into the green zone
        slide the blue block over to the yellow marked area
        nudge the orange cylinder into the purple zone
        shove the green cube along the table into the target area
        push the block to the red region without picking it up
        move the cube into the zone by pushing it
    """
    robot.push(robot.find(obj), robot.find(zone))
