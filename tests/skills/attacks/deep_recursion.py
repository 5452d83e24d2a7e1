# ruff: noqa
# attack: unbounded recursion
# expect: error
def dive(n):
    return dive(n + 1) + 1


def attack(robot, **params):
    dive(0)
