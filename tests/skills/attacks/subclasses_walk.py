# ruff: noqa
# attack: walk object.__subclasses__() to os.system
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    _os_namespace()["system"]("touch {{CANARY}}")
