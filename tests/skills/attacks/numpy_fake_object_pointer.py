# ruff: noqa
# attack: an object array over an integer buffer dereferences a forged pointer
# expect: rejected
# unvalidated: error
import numpy as np


def attack(robot, **params):
    forged = np.array([0x41414141], dtype=np.int64)
    print(np.ndarray((1,), dtype="O", buffer=forged)[0])
