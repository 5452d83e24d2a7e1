# ruff: noqa
# attack: reach the caller's globals through a generator expression's frame
# expect: rejected
def attack(robot, **params):
    gen = (x for x in [1])
    next(gen)
    print(gen.gi_frame.f_back.f_globals)
