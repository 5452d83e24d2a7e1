# ruff: noqa
# attack: operator.attrgetter through numpy.ma's module attributes
# expect: rejected
import numpy as np


def attack(robot, **params):
    print(np.ma.core.operator.attrgetter("_world")(robot))
