# ruff: noqa
# attack: an f-string expression reading a private attribute
# expect: rejected
def attack(robot, **params):
    print(f"{robot._world}")
