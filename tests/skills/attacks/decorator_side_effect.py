# ruff: noqa
# attack: a decorator runs code at import time
# expect: rejected
@print
def attack(robot, **params):
    pass
