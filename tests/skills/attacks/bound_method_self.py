# ruff: noqa
# attack: reach the robot's internals through robot.pick.__self__
# expect: rejected
def attack(robot, **params):
    robot.pick.__self__._world.client.resetSimulation()
