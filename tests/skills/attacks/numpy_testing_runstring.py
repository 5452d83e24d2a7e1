# ruff: noqa
# attack: numpy.testing.runstring executes a string
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.testing.runstring("import os; os.system('touch {{CANARY}}')", {})
