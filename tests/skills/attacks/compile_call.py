# ruff: noqa
# attack: compile a code object
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    code = compile("import os", "x", "exec")
    print(code)
