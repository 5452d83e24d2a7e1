# ruff: noqa
# attack: import sys and print the secret environment variable
# expect: rejected
# unvalidated: error
import sys


def attack(robot, **params):
    print(sys.modules["os"].environ.get("{{SECRET_ENV}}"))
