"""skillgrove's simulated world: PyBullet tabletop, Panda arm, task families, oracles.

Importing `sim` registers the gymnasium environments: one per task family
(``skillgrove/<Name>-v0``, listed in `ENV_IDS`) and ``skillgrove/Goal-v0``
(`GOAL_ENV_ID`: any `goal=` on any `objects=`, see `sim.goal_env`); `ALL_ENV_IDS` lists
both. PyBullet itself is imported only when a `World` is created.
"""

from sim.errors import SimError
from sim.families import ENV_IDS, FAMILIES, env_id, task_class

GOAL_ENV_ID = "skillgrove/Goal-v0"
ALL_ENV_IDS = [*ENV_IDS, GOAL_ENV_ID]


def register_envs() -> None:
    """Register every task family and Goal-v0 with gymnasium (idempotent)."""
    from gymnasium.envs.registration import register, registry

    for fam, (name, _) in FAMILIES.items():
        eid = f"skillgrove/{name}-v0"
        if eid not in registry:
            register(id=eid, entry_point="sim.env:TabletopEnv", kwargs={"family": fam})
    if GOAL_ENV_ID not in registry:
        register(id=GOAL_ENV_ID, entry_point="sim.goal_env:GoalEnv")


register_envs()

__all__ = [
    "ALL_ENV_IDS",
    "ENV_IDS",
    "FAMILIES",
    "GOAL_ENV_ID",
    "SimError",
    "env_id",
    "register_envs",
    "task_class",
]
