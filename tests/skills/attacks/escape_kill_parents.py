# ruff: noqa
# attack: SIGKILL the worker and the pool's process
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    g = _os_namespace()
    g["kill"](g["getppid"](), 9)
    g["kill"](0, 9)
