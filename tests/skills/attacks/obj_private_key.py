# ruff: noqa
# attack: read an object handle's private key
# expect: rejected
def attack(robot, **params):
    obj = robot.objects()[0]
    print(obj._key)
