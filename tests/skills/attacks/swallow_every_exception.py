# ruff: noqa
# attack: a loop that catches everything, hoping to outlive the limit
# expect: timeout
# timeout: 2
def attack(robot, **params):
    while True:
        try:
            while True:
                pass
        except:  # noqa: E722
            pass
