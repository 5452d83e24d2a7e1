# ruff: noqa
# attack: an integer too large to compute
# expect: error|timeout
# timeout: 2
def attack(robot, **params):
    n = 10
    return n ** (n**10)
