# ruff: noqa
# attack: globals()['__builtins__']
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    print(globals()["__builtins__"])
