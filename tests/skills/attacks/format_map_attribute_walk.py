# ruff: noqa
# attack: str.format_map reading a private attribute
# expect: rejected
def attack(robot, **params):
    print("{r._world}".format_map({"r": robot}))
