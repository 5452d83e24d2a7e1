# ruff: noqa
# attack: np.save writes the canary
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.save("{{CANARY}}", np.zeros(3))
