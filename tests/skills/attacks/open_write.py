# ruff: noqa
# attack: open the canary for writing
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    open("{{CANARY}}", "w").write("pwned")
