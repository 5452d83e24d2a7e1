# ruff: noqa
# attack: breakpoint() drops into a debugger
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    breakpoint()
