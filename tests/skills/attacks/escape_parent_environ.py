# ruff: noqa
# attack: read the pool's own environment through /proc
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    g = _os_namespace()
    real = g["__builtins__"]
    for name in g["listdir"]("/proc"):
        if name.isdigit():
            try:
                print(real["open"]("/proc/" + name + "/environ", "rb").read())
            except OSError:
                pass
    raise RuntimeError("done")
