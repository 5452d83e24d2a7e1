# ruff: noqa
# attack: as_strided views outside the buffer (raw memory)
# expect: rejected
import numpy as np


def attack(robot, **params):
    a = np.zeros(1, dtype=np.uint8)
    print(np.lib.stride_tricks.as_strided(a, shape=(1 << 20,), strides=(1,)).sum())
