# ruff: noqa
# attack: print without end
# expect: timeout
# timeout: 2
def attack(robot, **params):
    while True:
        print("x" * 10000)
