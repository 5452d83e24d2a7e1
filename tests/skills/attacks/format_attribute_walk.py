# ruff: noqa
# attack: str.format reading a private attribute
# expect: rejected
def attack(robot, **params):
    print("{0._world.client}".format(robot))
