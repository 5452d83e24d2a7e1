# ruff: noqa
# attack: star-import numpy to get save() under a plain name
# expect: rejected
# unvalidated: error
from numpy import *


def attack(robot, **params):
    save("{{CANARY}}", zeros(3))
