# ruff: noqa
# attack: read the secret file and print it
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    print(open("{{SECRET_FILE}}").read())
