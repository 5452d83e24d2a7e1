# ruff: noqa
# attack: np.loadtxt reads the secret file
# expect: rejected
import numpy as np


def attack(robot, **params):
    print(np.loadtxt("{{SECRET_FILE}}", dtype=str))
