# ruff: noqa
# attack: import os and run a shell command that creates the canary
# expect: rejected
# unvalidated: error
import os


def attack(robot, **params):
    os.system("touch {{CANARY}}")
