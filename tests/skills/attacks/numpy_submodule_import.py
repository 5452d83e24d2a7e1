# ruff: noqa
# attack: import numpy's ctypes helper module
# expect: rejected
# unvalidated: error
import numpy.ctypeslib


def attack(robot, **params):
    numpy.ctypeslib.ctypes.CDLL(None).system(b"touch {{CANARY}}")
