# ruff: noqa
# attack: import socket and connect to the test's listener
# expect: rejected
# unvalidated: error
import socket


def attack(robot, **params):
    socket.create_connection(("127.0.0.1", int("{{PORT}}"))).sendall(b"pwned")
