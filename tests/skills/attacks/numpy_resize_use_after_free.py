# ruff: noqa
# attack: resize(refcheck=False) frees memory that a view still points to
# expect: rejected
import numpy as np


def attack(robot, **params):
    a = np.zeros(4)
    view = a[:]
    a.resize(10**6, refcheck=False)
    view[:] = 1.0
