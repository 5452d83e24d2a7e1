def place_on(robot, obj, target):
    """Place an object on top of a flat target (a tray, plate or pad), picking it first if needed.

    Args:
        robot: the robot.
        obj: description of the object to move, e.g. "red cube".
        target: description of the surface to put it on, e.g. "blue plate".

    Examples:
        place the red cube on the blue plate
        put the yellow block onto the green tray
        set the purple cylinder down on the orange pad
        move the blue cube onto the plate
        rest the green block on the tray
        lay the cube flat on the pad
        transfer the block onto the tray
        put the cylinder on top of the plate
    """
    robot.place_on(robot.find(obj), robot.find(target))
