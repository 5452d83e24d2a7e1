# ruff: noqa
# attack: getattr with an attribute name built from strings
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    name = "_" + "wor" + "ld"
    getattr(robot, name).client.resetSimulation()
