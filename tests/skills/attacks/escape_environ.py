# ruff: noqa
# attack: print every environment the process can see
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    g = _os_namespace()
    print(dict(g["environ"]))
    real = g["__builtins__"]
    for pid in ("self", str(g["getppid"]()), "1"):
        print(real["open"]("/proc/" + pid + "/environ", "rb").read())
