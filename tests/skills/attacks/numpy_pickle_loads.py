# ruff: noqa
# attack: ndarray.dumps / np.loads pickles
# expect: rejected
import numpy as np


def attack(robot, **params):
    print(np.zeros(2).dumps())
