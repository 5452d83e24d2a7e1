def put_in(robot, obj, bowl):
    """Put an object into a container (a bowl or a tray), picking it first if needed.

    Args:
        robot: the robot.
        obj: description of the object, e.g. "red cube".
        bowl: description of the container, e.g. "blue bowl".

    Examples:
        put the red cube in the blue bowl
        drop the green block into the yellow bowl
        place the small orange cube inside the pink bowl
        throw the blue cylinder into the bowl
        place the purple cube in the tray
        load the block into the bowl
        deposit the cube in the container
    """
    robot.put_in(robot.find(obj), robot.find(bowl))
