# ruff: noqa
# attack: connect to the test's listener with the real socket module
# expect: rejected
# unvalidated: error
def _os_namespace():
    """The os module's globals, found by walking from a tuple to object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    real = _os_namespace()["__builtins__"]
    socket = real["__import__"]("socket")
    socket.create_connection(("127.0.0.1", int("{{PORT}}"))).sendall(b"pwned")
