"""The one exception type of the simulator package."""


class SimError(Exception):
    """Raised for bad input to the simulator (unknown family, bad seed, unreachable pose...)."""
