# ruff: noqa
# attack: create a file in the working directory
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    real = _os_namespace()["__builtins__"]
    real["open"]("pwned.txt", "w").write("pwned")
