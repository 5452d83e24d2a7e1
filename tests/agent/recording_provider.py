"""A sandbox pose provider for tests: the policy's, noting every instruction it is asked.

A worker builds it from a `ProviderSpec("tests.agent.recording_provider:provider", ...)`
before any skill runs; the provider lives in the run's trusted process (which runs no
skill code and is not locked down), so it can append to a log file the test reads.
Grasps come from the oracle (a tiny untrained policy would miss the object and end the
run before its placement is asked); every other pose comes from the policy.
"""

from __future__ import annotations


def provider(home: str, version: int, log: str):
    """`agent.policy.provider.sandbox_provider`, each prediction's text appended to `log`."""
    from agent.policy.provider import sandbox_provider
    from skills.poses import OraclePoseProvider

    prov = sandbox_provider(home, version)
    real, oracle = prov.policy.predict, OraclePoseProvider()

    def note(text: str) -> None:
        with open(log, "a", encoding="utf-8") as f:
            f.write(text + "\n")

    def predict(rgb, depth, text, primitive=None):
        note(text)
        return real(rgb, depth, text, primitive)

    def pick_pose(world, obj, turn=0.0, dest=None):
        note(f"oracle grasp of the {obj.description}")
        return oracle.pick_pose(world, obj, turn, dest)

    prov.policy.predict = predict
    prov.pick_pose = pick_pose
    return prov
