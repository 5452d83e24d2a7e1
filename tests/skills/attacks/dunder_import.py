# ruff: noqa
# attack: call __import__ directly
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    __import__("os").system("touch {{CANARY}}")
