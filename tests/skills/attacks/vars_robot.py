# ruff: noqa
# attack: vars() on the robot
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    print(vars(robot))
