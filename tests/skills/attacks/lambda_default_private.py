# ruff: noqa
# attack: a lambda default that captures a private attribute
# expect: rejected
def attack(robot, **params):
    grab = lambda r=robot: r._world
    print(grab())
