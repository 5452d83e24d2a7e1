# ruff: noqa
# attack: relative import of the worker's own package
# expect: rejected
# unvalidated: error
from . import sandbox_worker


def attack(robot, **params):
    sandbox_worker.os.system("touch {{CANARY}}")
