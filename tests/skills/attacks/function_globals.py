# ruff: noqa
# attack: reach real builtins through a robot method's __globals__
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    real = robot.pick.__func__.__globals__["__builtins__"]
    real["open"]("{{CANARY}}", "w").write("pwned")
