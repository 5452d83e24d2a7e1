# ruff: noqa
# attack: import os inside the entry function
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    import os

    os.system("touch {{CANARY}}")
