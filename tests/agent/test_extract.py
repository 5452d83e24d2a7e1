"""Code and plan extraction from the reply shapes LLMs really produce."""

from __future__ import annotations

import ast
import re

import pytest

from agent.errors import AgentError
from agent.llm.extract import Extracted, extract_code, extract_plan

STACK = '''def stack(robot, top, base):
    """Stack one block on another."""
    upper = robot.find(top)
    lower = robot.find(base)
    robot.place_on(upper, lower)
'''


def functions(code: str) -> list[str]:
    return [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]


def test_python_fence_with_prose_around():
    reply = f"Sure! Here is the skill:\n\n```python\n{STACK}```\n\nIt finds both blocks and stacks them."
    got = extract_code(reply)
    assert got == Extracted(code=STACK, entry="stack", params=("top", "base"))


@pytest.mark.parametrize(
    "opening", ["```py", "```Python", "```", "~~~python", "~~~", "```python3", "````python"]
)
def test_fence_variants(opening):
    closing = re.match(r"[`~]+", opening).group(0)
    reply = f"Code:\n{opening}\n{STACK}{closing}\nDone."
    got = extract_code(reply)
    assert got.entry == "stack" and got.code == STACK


def test_no_fence_only_a_def_with_prose_after():
    reply = f"Here you go.\n{STACK}\nThis works because place_on picks the block first."
    got = extract_code(reply)
    assert got.code == STACK and got.entry == "stack"


def test_crlf_line_endings():
    reply = f"```python\n{STACK}```\n".replace("\n", "\r\n")
    got = extract_code(reply)
    assert "\r" not in got.code and got.code == STACK


def test_whole_reply_indented():
    reply = "    " + STACK.replace("\n", "\n    ")
    assert extract_code(reply).code == STACK


def test_fence_inside_an_indented_list_item():
    body = "".join(f"   {line}\n" for line in STACK.splitlines())
    reply = f"1. Write the skill:\n   ```python\n{body}   ```\n2. Run it."
    assert extract_code(reply).code == STACK


def test_helper_block_joined_to_the_entry_block():
    helper = (
        "import math\n\n\ndef distance(a, b):\n    return math.hypot(a[0] - b[0], a[1] - b[1])\n"
    )
    entry = (
        "def stack_checked(robot, top, base):\n"
        "    robot.place_on(robot.find(top), robot.find(base))\n"
        "    if distance(robot.pose(robot.find(top)), robot.pose(robot.find(base))) > 0.03:\n"
        "        raise RuntimeError('the top block slid off')\n"
    )
    reply = f"A helper first:\n```python\n{helper}```\nThen the skill:\n```python\n{entry}```"
    got = extract_code(reply)
    assert got.entry == "stack_checked"
    assert functions(got.code) == ["distance", "stack_checked"]
    assert "import math" in got.code


def test_old_and_fixed_version_picks_the_last():
    old = STACK.replace("place_on", "put_in")
    reply = f"Your code was:\n```python\n{old}```\nThe fix:\n```python\n{STACK}```"
    got = extract_code(reply)
    assert got.code == STACK and "put_in" not in got.code


def test_wanted_entry_name_is_preferred():
    other = "def pick_up(robot, obj):\n    robot.pick(robot.find(obj))\n"
    reply = f"```python\n{STACK}```\nAlternatively:\n```python\n{other}```"
    assert extract_code(reply).entry == "pick_up"  # no preference: the last block
    got = extract_code(reply, entry="stack")
    assert got.entry == "stack" and got.code == STACK


@pytest.mark.parametrize("entry_first", [True, False])
def test_several_functions_in_one_block_entry_is_the_uncalled_one(entry_first):
    helper = "def grasp(robot, obj):\n    robot.pick(obj)\n"
    entry = (
        "def stack(robot, top, base):\n    t = robot.find(top)\n    grasp(robot, t)\n"
        "    robot.place_on(t, robot.find(base))\n"
    )
    code = f"{entry}\n\n{helper}" if entry_first else f"{helper}\n\n{entry}"
    got = extract_code(f"```python\n{code}```")
    assert got.entry == "stack" and got.params == ("top", "base")
    assert set(functions(got.code)) == {"grasp", "stack"}
    assert extract_code(f"```python\n{code}```", entry="grasp").entry == "grasp"


def test_helper_defined_after_entry_in_a_later_block_is_found():
    entry = "def put_away(robot, obj, bowl):\n    lift(robot, obj)\n    robot.put_in(robot.find(obj), robot.find(bowl))\n"
    helper = "def lift(robot, obj):\n    robot.pick(robot.find(obj))\n"
    got = extract_code(f"```python\n{entry}```\nwhere `lift` is:\n```python\n{helper}```")
    assert got.entry == "put_away" and set(functions(got.code)) == {"put_away", "lift"}


def test_usage_example_is_dropped():
    reply = (
        f"```python\n{STACK}\n\n# example\nrobot = get_robot()\n"
        "stack(robot, top='red cube', base='blue cube')\n\n"
        "if __name__ == '__main__':\n    stack(robot, 'a', 'b')\n```"
    )
    got = extract_code(reply)
    assert got.code.strip().endswith("robot.place_on(upper, lower)")
    assert "__main__" not in got.code and "get_robot" not in got.code


def test_usage_example_in_its_own_block():
    reply = f"```python\n{STACK}```\nCall it like:\n```python\nstack(robot, top='red cube', base='blue cube')\n```"
    assert extract_code(reply).code == STACK


def test_think_block_with_draft_code_is_ignored():
    draft = "def stack(robot, top, base):\n    robot.pick(top)\n"
    reply = f"<think>\nMaybe:\n```python\n{draft}```\nno, use place_on.\n</think>\n```python\n{STACK}```"
    assert extract_code(reply).code == STACK


def test_missing_numpy_import_is_added():
    code = "def nudge(robot, obj):\n    x, y, _, _ = robot.pose(robot.find(obj))\n    robot.push(robot.find(obj), np.array([x + 0.05, y]))\n"
    got = extract_code(f"```python\n{code}```")
    assert got.code.startswith("import numpy as np\n")
    ast.parse(got.code)


def test_keyword_only_parameters_are_reported():
    code = "def place(robot, *, obj, target):\n    robot.place_on(robot.find(obj), robot.find(target))\n"
    assert extract_code(code).params == ("obj", "target")


def test_json_fence_with_def_string_is_not_code_but_python_fence_is():
    reply = f'```json\n{{"note": "def x"}}\n```\n```python\n{STACK}```'
    assert extract_code(reply).entry == "stack"


def test_no_code_raises_the_one_line_error():
    with pytest.raises(AgentError, match="no Python function in the reply"):
        extract_code("I cannot help with that, the robot has no such ability.")


def test_syntax_error_is_reported_with_its_line():
    reply = "```python\ndef stack(robot, top, base):\n    robot.place_on(robot.find(top)\n```"
    with pytest.raises(AgentError, match=r"does not parse: line \d+"):
        extract_code(reply)


def test_truncated_reply_is_a_parse_error_not_silence():
    reply = "```python\ndef stack(robot, top, base):\n    upper = robot.find(top\n"
    with pytest.raises(AgentError, match="does not parse"):
        extract_code(reply)


def test_function_without_robot_is_named_in_the_error():
    with pytest.raises(AgentError, match=r"robot.*found: stack"):
        extract_code("```python\ndef stack(top, base):\n    return top\n```")


# -- plans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        '["pick up the red cube", "place the red cube on the blue plate"]',
        'Plan:\n```json\n[\n  "pick up the red cube",\n  "place the red cube on the blue plate"\n]\n```\nGood luck.',
        'Sure. ["pick up the red cube", "place the red cube on the blue plate"] should do it.',
        '{"steps": ["pick up the red cube", "place the red cube on the blue plate"]}',
        '[{"step": "pick up the red cube"}, {"step": "place the red cube on the blue plate"}]',
        "['pick up the red cube', 'place the red cube on the blue plate']",
        '["1. pick up the red cube", "2. place the red cube on the blue plate"]',
        "Steps:\n1. pick up the red cube\n2. place the red cube on the blue plate\n",
        '<think>["wrong"]</think>\r\n["pick up the red cube",\r\n "place the red cube on the blue plate"]',
    ],
)
def test_plan_shapes(reply):
    assert extract_plan(reply) == ["pick up the red cube", "place the red cube on the blue plate"]


def test_plan_missing_raises():
    with pytest.raises(AgentError, match="no plan"):
        extract_plan("I am not sure what you mean.")
    with pytest.raises(AgentError, match="no steps"):
        extract_plan("[]")


def test_a_reply_of_brackets_is_read_within_a_budget_not_quadratically():
    """Each bracket is tried as the start of a value, and each try can read the rest of the
    reply: 20 kB of "[" (or of '{"a": ') was 22 s of tries; the tries stop at a budget."""
    from agent.llm.extract import SCAN_BUDGET, _values

    for reply in ("[" * 20000, '{"a": ' * 5000):
        tries = list(_values(reply, literals=True))
        assert 0 < len(tries) < len(reply) // 10 and all(v is None for _, v in tries)
        with pytest.raises(AgentError, match="no plan"):
            extract_plan(reply)
    # the budget is large enough for a real reply with a list after some bracketed prose
    prose = "Sure [1]. " * 200 + '["pick up the red cube", "put it on the blue plate"]'
    assert len(prose) * 3 < SCAN_BUDGET
    assert extract_plan(prose) == ["pick up the red cube", "put it on the blue plate"]
