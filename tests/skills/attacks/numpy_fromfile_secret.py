# ruff: noqa
# attack: np.fromfile reads the secret file
# expect: rejected
import numpy as np


def attack(robot, **params):
    print(np.fromfile("{{SECRET_FILE}}", dtype=np.uint8).tobytes())
