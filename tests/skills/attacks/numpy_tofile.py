# ruff: noqa
# attack: ndarray.tofile writes the canary
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.zeros(3).tofile("{{CANARY}}")
