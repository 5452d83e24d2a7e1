# ruff: noqa
# attack: numpy's ctypes module calls libc system()
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.ctypeslib.ctypes.CDLL(None).system(b"touch {{CANARY}}")
