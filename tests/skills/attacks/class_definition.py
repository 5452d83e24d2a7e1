# ruff: noqa
# attack: a class definition (metaclass and subclass hooks)
# expect: rejected
class Escape(Exception):
    pass


def attack(robot, **params):
    raise Escape()
