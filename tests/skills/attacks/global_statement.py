# ruff: noqa
# attack: global state shared between runs
# expect: rejected
def attack(robot, **params):
    global cache
    cache = robot
