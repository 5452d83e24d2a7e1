# ruff: noqa
# attack: memoryview of a buffer
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    print(memoryview(b"abc").tolist())
