"""A recorded run's compact trajectory, taken by the trusted runner beside its key frames.

At every key frame (and once at the end) it notes the simulated time, every object's pose
(`[x, y, z_bottom, yaw_deg]`, as `sim.goals.State.to_json` writes it), the gripper's grasp
point and the truth of each ground atom of the run's goal, evaluated by `sim.goals` on the
simulator's own state exactly as the verdict is. Samples are thinned like the GIF's frames,
so sample `frame` k is frame k of the GIF. The whole is capped (`TRAJECTORY_CAP`); a
trajectory is a bonus of a recorded run and never spoils it.

Shape (JSON): `{"objects": [description...], "atoms": [atom text...], "samples": [{"frame",
"t", "gripper": [x, y, z], "poses": [[x, y, z_bottom, yaw_deg] per object], "truth": [true |
false | null per atom], "value": goal truth | null}]}`.
"""

from __future__ import annotations

import json

HZ = 240  # physics steps per simulated second (sim.physics.HZ, not imported: no pybullet here)
TRAJECTORY_CAP = 400_000  # characters of JSON a run's trajectory may take
MAX_SAMPLES = 400


class Trajectory:
    """Samples of one recorded run (see the module docstring)."""

    def __init__(self, world, goals, goal: str | None, start: dict) -> None:
        self.world, self.goals, self.goal, self.start = world, goals, goal, start
        self.steps0 = world.steps
        self.objects = [o.description for o in world.objects]
        self.atoms: list[str] = []
        self.samples: list[dict | None] = []

    def sample(self) -> None:
        """Note the world as it is now (None where reading it failed: frames stay aligned)."""
        try:
            state = self.goals.read_world(self.world, self.start)
            pos, _ = self.world.panda.ee_pose()
            truth, value = self._truth(state)
            self.samples.append(
                {
                    "t": round((self.world.steps - self.steps0) / HZ, 4),
                    "gripper": [round(float(v), 4) for v in pos],
                    "poses": [row["end"] for row in state.to_json()],
                    "truth": truth,
                    "value": value,
                }
            )
        except Exception:
            self.samples.append(None)

    def _truth(self, state) -> tuple[list[bool | None], bool | None]:
        if not self.goal:
            return [], None
        try:
            verdict = self.goals.evaluate(self.goal, state)
        except Exception:  # a goal that cannot be judged here is judged (and said) later
            return [None] * len(self.atoms), None
        seen = {a.atom: bool(a.value) for a in verdict.atoms}
        self.atoms += [a for a in seen if a not in self.atoms]
        return [seen.get(a) for a in self.atoms], bool(verdict.value)

    def to_json(self, step: int) -> dict | None:
        """The samples thinned by `step` (as the GIF's frames are), each with its GIF frame
        index, plus the last one; None when nothing was read or it exceeds the cap."""
        kept = self.samples[::step]
        rows = [dict(s, frame=i) for i, s in enumerate(kept) if s is not None]
        if self.samples and self.samples[-1] is not None and (len(self.samples) - 1) % step:
            rows.append(dict(self.samples[-1], frame=len(kept)))
        rows = rows[:MAX_SAMPLES]
        for r in rows:  # atoms met later: unknown (null) in earlier samples
            r["truth"] = r["truth"] + [None] * (len(self.atoms) - len(r["truth"]))
        if not rows:
            return None
        out = {"objects": self.objects, "atoms": self.atoms, "samples": rows}
        return out if len(json.dumps(out)) <= TRAJECTORY_CAP else None
