# ruff: noqa
# attack: exec of a string
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    exec("import os; os.system('touch {{CANARY}}')")
