# ruff: noqa
# attack: walk a traceback to the worker's frame and its os module
# expect: rejected
# unvalidated: error
def attack(robot, **params):
    try:
        1 / 0
    except ZeroDivisionError as exc:
        worker_globals = exc.__traceback__.tb_frame.f_back.f_globals
        worker_globals["os"].system("touch {{CANARY}}")
