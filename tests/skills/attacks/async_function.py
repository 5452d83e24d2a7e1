# ruff: noqa
# attack: an async function (coroutine frames)
# expect: rejected
async def helper():
    return 1


def attack(robot, **params):
    print(helper().cr_frame)
