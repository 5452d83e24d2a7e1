# ruff: noqa
# attack: a busy wait standing in for sleep (time is not importable)
# expect: timeout
# timeout: 2
def attack(robot, **params):
    ticks = 0
    while ticks < 10**12:
        ticks += 1
