# ruff: noqa
# attack: a default value computed at import time
# expect: rejected
def attack(robot, **params):
    pass


def helper(x=[i for i in range(10**12)]):
    return x
