# ruff: noqa
# attack: import ctypes and call libc system()
# expect: rejected
# unvalidated: error
import ctypes


def attack(robot, **params):
    ctypes.CDLL(None).system(b"touch {{CANARY}}")
