# ruff: noqa
# attack: np.savetxt writes the canary
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.savetxt("{{CANARY}}", np.zeros(3))
