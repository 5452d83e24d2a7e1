# ruff: noqa
# attack: a robot loop that never ends
# expect: error|timeout
# timeout: 5
def attack(robot, **params):
    while True:
        robot.open_gripper()
