# ruff: noqa
# attack: take the real builtins from a Cython function's func_globals
# expect: rejected
# unvalidated: error
import numpy as np


def attack(robot, **params):
    real = np.random.default_rng.func_globals["__builtins__"]
    real["open"]("{{CANARY}}", "w").write("pwned")
