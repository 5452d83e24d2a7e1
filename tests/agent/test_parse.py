"""The offline instruction parser: paraphrases a new user would write, and bad input."""

from __future__ import annotations

import pytest

from agent.errors import AgentError
from agent.plan.parse import parse

SCENE = [
    "red cube",
    "blue cube",
    "green cube",
    "yellow bowl",
    "purple tray",
    "orange zone",
    "cyan outline",
    "pink small cube",
    "red cylinder",
]

CASES = [
    ("stack the red cube on the blue cube", "stack", {"top": "red cube", "base": "blue cube"}),
    (
        "put the Red Block on top of the blue block",
        "stack",
        {"top": "red cube", "base": "blue cube"},
    ),
    (
        "Onto the purple tray, place the green cube",
        "place",
        {"obj": "green cube", "target": "purple tray"},
    ),
    (
        "set the green block down on the purple tray",
        "place",
        {"obj": "green cube", "target": "purple tray"},
    ),
    (
        "drop the little pink block into the yellow bowl",
        "put-in-bowl",
        {"obj": "pink small cube", "bowl": "yellow bowl"},
    ),
    (
        "slide the blue block to the orange area",
        "push",
        {"obj": "blue cube", "zone": "orange zone"},
    ),
    (
        "shove the blue cube into the orange zone",
        "push",
        {"obj": "blue cube", "zone": "orange zone"},
    ),
    ("turn the green block 30 degrees", "rotate", {"obj": "green cube", "angle": "30"}),
    ("rotate the green cube by 45°", "rotate", {"obj": "green cube", "angle": "45"}),
    ("spin the green cube 60 degrees clockwise", "rotate", {"obj": "green cube", "angle": "-60"}),
    (
        "fit the red cube into the cyan outline",
        "align",
        {"obj": "red cube", "target": "cyan outline"},
    ),
    (
        "build a tower with the red cube at the bottom, then the blue cube, then the green cube",
        "tower",
        {"bottom": "red cube", "middle": "blue cube", "top": "green cube"},
    ),
    (
        "make a tower: green cube on top, blue cube in the middle and red cube at the bottom",
        "tower",
        {"bottom": "red cube", "middle": "blue cube", "top": "green cube"},
    ),
    (
        "stack the green cube on the blue cube on the red cube to make a tower",
        "tower",
        {"bottom": "red cube", "middle": "blue cube", "top": "green cube"},
    ),
    (
        "build a tower from the red cube, the blue cube and the green cube, bottom to top",
        "tower",
        {"bottom": "red cube", "middle": "blue cube", "top": "green cube"},
    ),
    (
        "build a tower of the green cube, the blue cube and the red cube from top to bottom",
        "tower",
        {"bottom": "red cube", "middle": "blue cube", "top": "green cube"},
    ),
    (
        "build a pyramid with the red cube and the blue cube at the base and the green cube on top",
        "pyramid",
        {"left": "red cube", "right": "blue cube", "top": "green cube"},
    ),
    (
        "line up the red cube, the blue cube and the green cube from left to right",
        "line-up",
        {"first": "red cube", "second": "blue cube", "third": "green cube"},
    ),
    (
        "arrange the green cube, the blue cube and the red cube in a row from right to left",
        "line-up",
        {"first": "red cube", "second": "blue cube", "third": "green cube"},
    ),
    ("exchange the red cube and the blue cube", "swap", {"a": "red cube", "b": "blue cube"}),
    ("remove everything from the purple tray", "clear", {"target": "purple tray"}),
    (
        "collect all the red objects on the purple tray",
        "gather",
        {"color": "red", "target": "purple tray"},
    ),
    ("put each cube in the bowl of the same color", "sort", {}),
    ("sort the blocks into the bowls by colour", "sort", {}),
    ("grab the pink small cube", "pick", {"obj": "pink small cube"}),
    ("lift up the red cylinder", "pick", {"obj": "red cylinder"}),
]


@pytest.mark.parametrize("text,kind,args", CASES)
def test_paraphrases(text, kind, args):
    intent = parse(text, SCENE)
    assert intent.kind == kind
    assert intent.args == args


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("stack the purple cube on the blue cube", "no purple cube in the scene"),
        ("pick up the red", "could mean"),
        ("do something nice", "names no object"),
        ("stack the red cube on the red cube", "same object twice"),
    ],
)
def test_bad_instructions_are_clear_errors(text, message):
    with pytest.raises(AgentError, match=message):
        parse(text, SCENE)
