# ruff: noqa
# attack: grow memory 80 MB at a time until something breaks
# expect: error|timeout
# timeout: 5
import numpy as np


def attack(robot, **params):
    hoard = []
    while True:
        hoard.append(np.ones(10**7))
