# ruff: noqa
# attack: follow tb_next into the robot's frame to reach the world
# expect: rejected
def attack(robot, **params):
    try:
        robot.find("purple unicorn")
    except SkillError as exc:
        tb = exc.__traceback__
        while tb.tb_next:
            tb = tb.tb_next
        tb.tb_frame.f_locals["self"]._world.client.resetSimulation()
