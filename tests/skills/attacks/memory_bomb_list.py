# ruff: noqa
# attack: allocate a 80 GB list
# expect: error
def attack(robot, **params):
    return [0] * 10**10
