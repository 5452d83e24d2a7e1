# ruff: noqa
# attack: allocate a 80 GB array
# expect: error
import numpy as np


def attack(robot, **params):
    return np.ones((10**5, 10**5))
