# ruff: noqa
# attack: reach the simulator through robot._world
# expect: rejected
def attack(robot, **params):
    robot._world.client.resetSimulation()
