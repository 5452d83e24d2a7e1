# ruff: noqa
# attack: a module-level infinite loop
# expect: rejected
while True:
    pass


def attack(robot, **params):
    pass
