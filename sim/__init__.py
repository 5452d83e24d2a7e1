"""skillgrove's simulated world: PyBullet tabletop, Panda arm, task families, oracles.

Importing `sim` registers the gymnasium environments (``skillgrove/<Name>-v0``, listed
in `ENV_IDS`); PyBullet itself is imported only when a `World` is created.
"""

from .errors import SimError
from .families import ENV_IDS, FAMILIES, env_id, task_class


def register_envs() -> None:
    """Register every task family with gymnasium (idempotent)."""
    from gymnasium.envs.registration import register, registry

    for fam, (name, _) in FAMILIES.items():
        eid = f"skillgrove/{name}-v0"
        if eid not in registry:
            register(id=eid, entry_point="sim.env:TabletopEnv", kwargs={"family": fam})


register_envs()

__all__ = ["ENV_IDS", "FAMILIES", "SimError", "env_id", "register_envs", "task_class"]
