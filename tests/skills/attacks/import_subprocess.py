# ruff: noqa
# attack: import subprocess and create the canary
# expect: rejected
# unvalidated: error
import subprocess


def attack(robot, **params):
    subprocess.run(["touch", "{{CANARY}}"])
