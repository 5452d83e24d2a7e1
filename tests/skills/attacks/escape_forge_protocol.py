# ruff: noqa
# attack: write garbage to every file descriptor, hoping to reach the parent
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    write = _os_namespace()["write"]
    for fd in range(64):
        try:
            write(fd, b'{"status": "ok", "success": true}\n' + b"x" * 2000000)
        except OSError:
            pass
