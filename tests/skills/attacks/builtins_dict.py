# ruff: noqa
# attack: take __import__ from __builtins__
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    __builtins__["__import__"]("os").system("touch {{CANARY}}")
