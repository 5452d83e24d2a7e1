# ruff: noqa
# attack: np.lib.add_newdoc imports any module by name
# expect: rejected
import numpy as np


def attack(robot, **params):
    np.lib.add_newdoc("os", "system", "pwned")
