"""Per-run wall time of real skills through a warm SandboxPool (median of N runs each).

Compares sandbox designs: run it for whichever tree PYTHONPATH puts first, alternating
trees on one quiet machine (benchmarks/RESULTS.md, "Sandbox overhead (issue 19)"):

    PYTHONPATH=/path/to/old/checkout python scripts/bench_skill_runs.py 20
    PYTHONPATH=. python scripts/bench_skill_runs.py 20
"""

import json
import statistics
import sys

from skills.sandbox import SandboxPool

STACK = """
def stack_blocks(robot, top, base, **params):
    robot.place_on(robot.find(top), robot.find(base))
"""
POSES = """
def look(robot, **params):
    objs = robot.objects()
    for i in range(200):
        robot.pose(objs[i % len(objs)])
"""
TRIVIAL = """
def count_objects(robot, **params):
    return len(robot.objects())
"""
PLACE = """
def put(robot, obj, target, **params):
    robot.place_on(robot.find(obj), robot.find(target))
"""
JOBS = [
    ("trivial", TRIVIAL, "count_objects", "pick"),
    ("pick_place_stack", STACK, "stack_blocks", "stack"),
    ("place", PLACE, "put", "place"),
    ("200_pose_calls", POSES, "look", "pick"),
]
n = int(sys.argv[1])
out = {}
with SandboxPool(workers=1) as pool:
    for name, code, entry, fam in JOBS:
        pool.run(code, entry, fam, 0)
        times, ok = [], 0
        for i in range(n):
            r = pool.run(code, entry, fam, i % 5)
            assert r.status == "ok", r
            ok += r.success
            times.append(r.seconds)
        out[name] = {"median_ms": round(1000 * statistics.median(times), 1), "successes": ok}
print(json.dumps(out))
