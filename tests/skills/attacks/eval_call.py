# ruff: noqa
# attack: eval of a string
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    eval("__import__('os').system('touch {{CANARY}}')")
