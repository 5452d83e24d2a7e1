# ruff: noqa
# attack: type() and object to reach every class
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    print(type(robot), object.__subclasses__())
