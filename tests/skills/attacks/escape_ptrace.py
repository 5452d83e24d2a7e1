# ruff: noqa
# attack: ptrace-attach to the worker
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    g = _os_namespace()
    ctypes = g["__builtins__"]["__import__"]("ctypes")
    ctypes.CDLL(None).ptrace(16, g["getppid"](), 0, 0)
