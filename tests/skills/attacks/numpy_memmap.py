# ruff: noqa
# attack: np.memmap creates the canary
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.memmap("{{CANARY}}", mode="w+", shape=(16,))
