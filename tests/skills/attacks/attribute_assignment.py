# ruff: noqa
# attack: overwrite numpy's functions for later runs
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.zeros = print
