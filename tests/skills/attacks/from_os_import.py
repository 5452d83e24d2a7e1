# ruff: noqa
# attack: from os import system
# expect: rejected
# unvalidated: error
from os import system


def attack(robot, **params):
    system("touch {{CANARY}}")
