# ruff: noqa
# attack: import os through importlib
# expect: rejected
# unvalidated: error
import importlib


def attack(robot, **params):
    importlib.import_module("os").system("touch {{CANARY}}")
