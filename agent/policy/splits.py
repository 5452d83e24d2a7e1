"""The scene ranges of the pose policy: which seeded scenes each use may draw from.

Seeds follow `data.split_seeds` (even: training, odd: held out); the ranges below cut
each parity in two, so the four uses never share a scene:

    train        even seeds below 100 000      demonstrations
    corrections  even seeds from 100 000       scenes the correction loop attempts
    test         odd seeds below 100 000       every reported figure
    valid        odd seeds from 100 001        every tuning choice and stopping rule

`valid` is drawn as the held-out split from index `VALID_START` on
(`split_seeds("test", n, VALID_START)`), so its datasets are cached like any other.
"""

from __future__ import annotations

from agent.errors import AgentError

HALF = 50_000  # split_seeds index where the second range of a parity begins
VALID_START = HALF  # split_seeds("test", n, VALID_START): the validation scenes
CORRECTION_START = HALF  # split_seeds("train", n, CORRECTION_START): the correction scenes

SCENE_RANGES: dict[str, range] = {
    "train": range(0, 2 * HALF, 2),
    "corrections": range(2 * HALF, 4 * HALF, 2),
    "test": range(1, 2 * HALF, 2),
    "valid": range(2 * HALF + 1, 4 * HALF, 2),
}
# (data.split_seeds split, start index) that draws each range
_DRAWN_AS = {
    "train": ("train", 0),
    "corrections": ("train", CORRECTION_START),
    "test": ("test", 0),
    "valid": ("test", VALID_START),
}


def drawn_as(use: str) -> tuple[str, int]:
    """The `data.split_seeds` split and start index of a use's scenes."""
    if use not in SCENE_RANGES:
        raise AgentError(f"unknown scene range {use!r} (known: {', '.join(SCENE_RANGES)})")
    return _DRAWN_AS[use]


def scene_seeds(use: str, n: int, start: int = 0) -> list[int]:
    """`n` seeds of a use's range from its `start`-th scene on (refused past the range)."""
    from agent.policy.data import split_seeds

    split, offset = drawn_as(use)
    if start < 0 or n < 0 or start + n > len(SCENE_RANGES[use]):
        raise AgentError(
            f"{use} scenes {start}..{start + n} fall outside its range of "
            f"{len(SCENE_RANGES[use])} scenes"
        )
    return split_seeds(split, n, offset + start)
