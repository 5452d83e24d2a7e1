# ruff: noqa
# attack: create the canary with os.open
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    g = _os_namespace()
    fd = g["open"]("{{CANARY}}", g["O_WRONLY"] | g["O_CREAT"])
    g["write"](fd, b"pwned")
