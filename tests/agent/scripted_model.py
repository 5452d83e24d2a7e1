"""A rule-following stand-in for a chat model, for the open suite run with `--llm`
against the scripted server: it plans a goal as one step per conjunct (each judged by
its own goal) and, asked for a skill for a goal template, writes one that plans with
`robot.plan` and acts through the robot API. It reads only what the prompts say (the goal
line, the function it is asked to write), so a prompt that loses them fails the run."""

from __future__ import annotations

import json
import re

from sim.goals import And, parse
from sim.goals.formula import SLOT

CODE = '''```python
def {name}({params}):
    """Make the goal hold.

    Goal: {template}
    """
    for attempt in range(3):
        moves = robot.plan(f"{goal}")
        if not moves:
            return
        for m in moves:
            obj = robot.find(m["object"])
            if m["kind"] == "place_at":
                robot.place_at(obj, (m["x"], m["y"]), m["yaw"])
            elif m["kind"] == "rotate":
                robot.rotate(obj, m["degrees"])
            elif m["kind"] == "pick":
                robot.pick(obj)
            else:
                robot.place_on(obj, robot.find(m["target"]))
```'''


def respond(messages: list[dict]) -> str:
    text = "\n".join(str(m.get("content", "")) for m in messages)
    goal = re.search(r"^Goal \(what will be checked at the end\): (.+)$", text, re.M)
    if goal:  # a plan of steps: one per conjunct of the goal
        f = parse(goal.group(1))
        parts = f.parts if isinstance(f, And) else (f,)
        return json.dumps([{"step": f"make {p} hold", "goal": str(p)} for p in parts])
    ask = re.search(r"Write `def (\w+)\(robot((?:, \w+)*)\)`[^\n]*\n?[^\n]*`Goal: ([^`]+)`", text)
    if ask:  # a skill for a goal template
        name, params, template = ask.group(1), ask.group(2), ask.group(3)
        goal = SLOT.sub(r"{\1}", template)
        return CODE.format(name=name, params="robot" + params, template=template, goal=goal)
    return "I cannot help with that."
