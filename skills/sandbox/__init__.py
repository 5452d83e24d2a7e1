"""Run untrusted skill code: validated here, executed in warm, locked-down worker processes.

Layers, outermost first:

1. `skills.validate` (AST allow-list) in this process: rejected code is never sent anywhere.
2. A worker process (`skills.sandbox.server`) started with a clean environment and
   isolated-mode Python, warm (numpy, PyBullet, the task families and the pose provider
   loaded once), which forks two processes per run from its pristine state: a trusted
   one (`skills.sandbox.runner`) that builds the scene and holds the simulator, the real
   robot and the pose provider, and runs no skill code; and the skill process
   (`skills.sandbox.child`), which locks itself down (`skills.sandbox.lockdown`: rlimits,
   no capabilities, Landlock, seccomp) before the skill's first line runs, with
   restricted builtins whose `__import__` allows only math and numpy, and holds nothing
   but a robot proxy (`skills.sandbox.proxy`) whose calls cross a pipe as checked
   messages (`skills.sandbox.wire`).
3. The verdict is out of the skill's reach: the goal is evaluated by the worker's server
   on the end state the trusted process read from its own simulator.
4. Wall-clock timeouts with SIGKILL in the worker, and a second one here
   (`skills.sandbox.pool`) that kills and replaces a worker that stops answering.
5. Only one size-capped JSON line crosses back; anything else is an error. This process
   is the only one that writes anything.

Example:
    >>> with SandboxPool(workers=2) as pool:
    ...     result = pool.run(code, "stack_blocks", "stack", seed=3)
    >>> result.status, result.success
    ('ok', True)
"""

from __future__ import annotations

from skills.sandbox.overhead import TRIVIAL_SKILL, measure_overhead
from skills.sandbox.pool import GRACE_S, SandboxPool, _Worker, _WorkerLost, run_skill
from skills.sandbox.result import RECORD_CAP, STATUSES, SandboxResult

__all__ = [
    "GRACE_S",
    "RECORD_CAP",
    "STATUSES",
    "TRIVIAL_SKILL",
    "SandboxPool",
    "SandboxResult",
    "_Worker",
    "_WorkerLost",
    "measure_overhead",
    "run_skill",
]
