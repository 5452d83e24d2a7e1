# ruff: noqa
# attack: an array's raw pointer through .ctypes
# expect: rejected
import numpy as np


def attack(robot, **params):
    print(np.zeros(3).ctypes.data)
