# ruff: noqa
# attack: an infinite loop
# expect: timeout
# timeout: 2
def attack(robot, **params):
    while True:
        pass
