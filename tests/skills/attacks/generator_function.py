# ruff: noqa
# attack: a generator function (yield exposes frames)
# expect: rejected
def frames():
    yield 1


def attack(robot, **params):
    gen = frames()
    print(gen.gi_frame)
