# ruff: noqa
# attack: an if __name__ == '__main__' block
# expect: rejected
def attack(robot, **params):
    pass


if __name__ == "__main__":
    attack(None)
