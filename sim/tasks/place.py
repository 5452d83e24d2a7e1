"""place: "place the {obj} on the {target}".

Scene: the target (a tray, plate or pad), often a second target of another type and
color (where there is room for it), the block to place (cube, small cube or cylinder)
and 1-2 distractor blocks.
Goal: `on(?obj, ?target)`: the block's center lies over the target (inside a tray's or
plate's inner area less 1 cm, inside a pad's footprint) and its bottom rests on the
target's surface (±1.5 cm). Oracle: pick the block, place it on the target's center.
"""

from __future__ import annotations

from sim.errors import SimError
from sim.objects import BLOCKS, TARGETS
from sim.tasks.base import Action, Task

FINGER_ROOM = 0.035  # least gap between a block and any other object in a new scene


class Place(Task):
    family = "place"
    template = "place the {obj} on the {target}"
    goal_template = "on(?obj, ?target)"
    slots = ("obj", "target")
    max_actions = 3

    def build(self, rng):
        colors = self.colors(rng, 6)
        kind = str(rng.choice(TARGETS))
        kinds = [(kind, colors[0])]
        if rng.random() < 0.6:  # a second target; two trays do not fit the workspace
            other = str(rng.choice([t for t in TARGETS if t != "tray" or kind != "tray"]))
            kinds.append((other, colors[1]))
        # Largest first, so that both fit. The second target goes only where there is room
        # for it; no room for the asked-for one (after a tray) and `reset` builds again.
        for k, c in sorted(kinds, key=lambda kc: kc[0] != "tray"):
            try:
                target = self.spawn(k, c, rng)
            except SimError:
                if c == colors[0]:
                    raise
                continue
            if c == colors[0]:
                self.target = target
        # Blocks keep 3.5 cm from everything: the open fingers reach past a small cube's
        # sides down to the table, where they would catch the rim of a pad or plate.
        self.obj = self.spawn(str(rng.choice(BLOCKS)), colors[2], rng, margin=FINGER_ROOM)
        for c in colors[3 : 3 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng, margin=FINGER_ROOM)
        return {"obj": self.obj.description, "target": self.target.description}

    def oracle(self) -> Action | None:
        surface = self.z(self.target) + self.target.shape.surface
        return self.move(self.obj, self.xy(self.target), surface)
