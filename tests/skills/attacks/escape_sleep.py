# ruff: noqa
# attack: sleep for a minute with the real time module
# expect: rejected
# unvalidated: timeout
# timeout: 2
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    time = _os_namespace()["__builtins__"]["__import__"]("time")
    time.sleep(60)
