# ruff: noqa
# attack: a module-level statement reading the secret
# expect: rejected
# unvalidated: error
print(open("{{SECRET_FILE}}").read())


def attack(robot, **params):
    pass
