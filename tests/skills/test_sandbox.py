"""The sandbox runs real skills in real worker processes and contains every attack.

The attack programs live in tests/skills/attacks/, one file each, with a header:
`# expect:` the statuses the full sandbox may end with, and optionally `# unvalidated:`
the statuses when the validator is bypassed on purpose (the worker's layers alone:
restricted builtins, rlimits, Landlock, seccomp, timeout), and `# timeout:` seconds.
Every attack runs in a fresh working directory, with a secret in an environment
variable and in a file, a canary path and a loopback listener as traps: afterwards no
file may exist, no connection may have been made, and no secret may be in the output.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from skills.errors import SkillError
from skills.sandbox import GRACE_S, SandboxPool, SandboxResult, measure_overhead, run_skill

ATTACK_DIR = Path(__file__).parent / "attacks"
SECRET_ENV = "SKILLGROVE_TEST_SECRET"
STATUSES = {"ok", "rejected", "error", "timeout"}

STACK_SKILL = '''"""Stack the top block on the base block, checking the result."""

import math

import numpy as np
from numpy.linalg import norm


def _center(robot, obj):
    x, y, _z, _yaw = robot.pose(obj)
    return np.array([x, y])


def distance(robot, a, b):
    """Horizontal distance between two objects, meters."""
    return float(norm(_center(robot, a) - _center(robot, b)))


def stack_blocks(robot, top, base, **params):
    """Pick the top block and place it on the base block."""
    t, b = robot.find(top), robot.find(base)
    for attempt in range(2):
        try:
            robot.place_on(t, b)
        except SkillError as exc:
            print("attempt", attempt, "failed:", exc)
            continue
        if distance(robot, t, b) < 0.02:
            break
    heights = sorted(robot.pose(o)[2] for o in robot.objects())
    sizes = {o.description: robot.size(o) for o in robot.objects()}
    print(f"stacked {top} on {base}: d={distance(robot, t, b):.3f} m, top z={max(heights):.3f} m")
    print("angle", round(math.degrees(math.atan2(1.0, 1.0))), "objects", len(sizes))
'''
PICK_SKILL = """
def pick_up(robot, obj, **params):
    robot.pick(robot.find(obj))
"""


# -- attacks and traps ----------------------------------------------------------------------
@dataclass(frozen=True)
class Attack:
    name: str
    what: str
    expect: tuple[str, ...]
    unvalidated: tuple[str, ...]
    timeout: float
    source: str


def load_attacks() -> list[Attack]:
    attacks = []
    for path in sorted(ATTACK_DIR.glob("*.py")):
        text = path.read_text()
        head = dict(re.findall(r"^# (\w+): (.*)$", text, flags=re.M))
        attacks.append(
            Attack(
                name=path.stem,
                what=head["attack"],
                expect=tuple(head["expect"].split("|")),
                unvalidated=tuple(head["unvalidated"].split("|")) if "unvalidated" in head else (),
                timeout=float(head.get("timeout", 3)),
                source=text,
            )
        )
    return attacks


ATTACKS = load_attacks()
UNVALIDATED = [a for a in ATTACKS if a.unvalidated]


@dataclass
class Traps:
    """What an attack might try to touch; `check` asserts it touched nothing."""

    dir: Path
    canary: Path
    secret_file: Path
    env_token: str
    file_token: str
    listener: socket.socket

    def render(self, attack: Attack) -> str:
        return (
            attack.source.replace("{{CANARY}}", str(self.canary))
            .replace("{{SECRET_FILE}}", str(self.secret_file))
            .replace("{{SECRET_ENV}}", SECRET_ENV)
            .replace("{{PORT}}", str(self.listener.getsockname()[1]))
        )

    def check(self, result: SandboxResult, cwd: Path) -> None:
        assert not self.canary.exists(), "the attack created the canary"
        assert sorted(p.name for p in self.dir.iterdir()) == ["secret.txt"], "a file appeared"
        assert list(cwd.iterdir()) == [], "a file appeared in the working directory"
        assert self.secret_file.read_text() == self.file_token
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            pass
        else:
            conn.close()
            pytest.fail("the attack connected to the listener")
        seen = result.output + (result.reason or "")
        assert self.env_token not in seen, "the secret environment variable leaked"
        assert self.file_token not in seen, "the secret file leaked"


@pytest.fixture(scope="module")
def traps(tmp_path_factory):
    # Set before the pool starts: a worker that inherited this environment could leak it.
    old = os.environ.get(SECRET_ENV)
    env_token = "env-" + secrets.token_hex(16)
    os.environ[SECRET_ENV] = env_token
    d = tmp_path_factory.mktemp("traps")
    d.chmod(0o777)  # writable by anyone: only the sandbox stands between an attack and it
    secret_file, file_token = d / "secret.txt", "file-" + secrets.token_hex(16)
    secret_file.write_text(file_token)
    secret_file.chmod(0o644)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    try:
        yield Traps(d, d / "canary", secret_file, env_token, file_token, listener)
    finally:
        listener.close()
        if old is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = old


@pytest.fixture(scope="module")
def pool(traps):
    with SandboxPool(workers=2, memory_mb=384) as p:  # small: memory bombs fail fast
        warm = [p.run("def f(robot, **params):\n    pass\n", "f", "pick", 0) for _ in range(2)]
        assert all(r.status == "ok" for r in warm), warm
        yield p


@pytest.fixture()
def fresh_cwd(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cwd.chmod(0o777)
    monkeypatch.chdir(cwd)
    return cwd


def test_attack_suite_covers_the_threats():
    names = {a.name for a in ATTACKS}
    assert len(ATTACKS) >= 40
    assert len(UNVALIDATED) >= 10
    for needed in (
        "import_os",
        "import_sys",
        "import_subprocess",
        "import_socket",
        "import_ctypes",
        "import_importlib",
        "dunder_import",
        "subclasses_walk",
        "function_globals",
        "getattr_string_built",
        "generator_frame",
        "traceback_frame",
        "match_class_attributes",
        "format_attribute_walk",
        "eval_call",
        "exec_call",
        "compile_call",
        "numpy_save",
        "numpy_ctypeslib",
        "module_level_print_secret",
        "infinite_loop",
        "busy_wait_sleep",
        "memory_bomb_list",
        "deep_recursion",
        "output_flood",
        "robot_private_world",
        "obj_private_key",
        "bound_method_self",
    ):
        assert needed in names
    for a in ATTACKS:
        assert set(a.expect) <= STATUSES - {"ok"} and set(a.unvalidated) <= STATUSES - {"ok"}


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_is_contained(attack: Attack, pool, traps, fresh_cwd):
    t0 = time.perf_counter()
    result = pool.run(traps.render(attack), "attack", "pick", 0, timeout=attack.timeout)
    elapsed = time.perf_counter() - t0
    assert result.status in attack.expect, f"{attack.what}: {result}"
    assert result.reason and "\n" not in result.reason
    if result.status == "rejected":
        assert result.reason.startswith("line "), result.reason  # says where
    traps.check(result, fresh_cwd)
    assert elapsed < attack.timeout + GRACE_S


@pytest.mark.parametrize("attack", UNVALIDATED, ids=lambda a: a.name)
def test_attack_is_contained_without_the_validator(attack: Attack, pool, traps, fresh_cwd):
    """The second layer on its own: the code goes to the worker unchecked."""
    t0 = time.perf_counter()
    result = pool._execute(traps.render(attack), "attack", "pick", 0, timeout=attack.timeout)
    elapsed = time.perf_counter() - t0
    assert result.status in attack.unvalidated, f"{attack.what}: {result}"
    traps.check(result, fresh_cwd)
    assert elapsed < attack.timeout + GRACE_S


def test_forbidden_system_calls_kill_the_run_when_seccomp_is_in_force(pool, traps, fresh_cwd):
    probe = pool.run("def f(robot, **params):\n    pass\n", "f", "pick", 0)
    if "seccomp" not in probe.layers:
        pytest.skip("no seccomp on this kernel")
    attack = next(a for a in ATTACKS if a.name == "subclasses_walk")
    result = pool._execute(traps.render(attack), "attack", "pick", 0)
    assert result.status == "error" and "seccomp" in result.reason
    traps.check(result, fresh_cwd)


def test_output_flood_is_capped(pool):
    code = "def f(robot, **params):\n    for i in range(100000):\n        print('x' * 100)\n"
    result = pool.run(code, "f", "pick", 0)
    assert result.status == "ok"
    assert len(result.output) <= pool.output_limit + 40
    assert result.output.endswith("[output truncated]")


# -- benign skills --------------------------------------------------------------------------
def test_stack_skill_with_helpers_numpy_and_try_succeeds(pool):
    result = pool.run(STACK_SKILL, "stack_blocks", "stack", 1)
    assert result.status == "ok", result.reason
    assert result.success is True
    assert "stacked" in result.output and "angle 45" in result.output
    assert result.seconds > 0
    assert "rlimits" in result.layers


def test_entry_defaults_to_the_function_taking_params(pool):
    result = pool.run(STACK_SKILL, None, "stack", 2)
    assert (result.status, result.success) == ("ok", True)


def test_numpy_linear_algebra_and_fft_run_under_the_filter(pool):
    code = (
        "import numpy as np\n"
        "from numpy.linalg import inv, svd\n"
        "from numpy import fft\n"
        "def f(robot, **params):\n"
        "    a = np.random.default_rng(0).random((300, 300))\n"
        "    b = a @ a.T + np.eye(300)\n"
        "    print(round(float(np.trace(inv(b) @ b))), svd(a[:50, :50])[1].shape,\n"
        "          abs(fft.fft(np.arange(8.0))[0]))\n"
    )
    result = pool.run(code, "f", "pick", 0)
    assert (result.status, result.output) == ("ok", "300 (50,) 28.0\n"), result


def test_pick_skill_gets_the_task_params(pool):
    result = pool.run(PICK_SKILL, "pick_up", "pick", 3)
    assert (result.status, result.success) == ("ok", True)


def test_a_skill_that_does_nothing_runs_but_fails_the_task(pool):
    result = pool.run("def idle(robot, **params):\n    return None\n", None, "stack", 1)
    assert (result.status, result.success, result.reason) == ("ok", False, None)


def test_explicit_params_replace_the_task_params(pool):
    code = "def show(robot, **params):\n    print(sorted(params.items()))\n"
    result = pool.run(code, None, "stack", 1, params={"colour": "red", "n": 3})
    assert result.status == "ok"
    assert result.output == "[('colour', 'red'), ('n', 3)]\n"


def test_skill_errors_name_the_line(pool):
    code = (
        "def helper(robot):\n"
        "    robot.find('purple unicorn')\n"
        "\n"
        "def run(robot, **params):\n"
        "    helper(robot)\n"
    )
    result = pool.run(code, "run", "stack", 1)
    assert result.status == "error"
    assert result.reason.startswith("SkillError: nothing in the scene matches")
    assert result.reason.endswith("(line 2)")


def test_runs_do_not_share_state(pool):
    """Each run forks from the worker's pristine state: numpy settings do not carry over."""
    spoil = "import numpy as np\ndef f(robot, **params):\n    np.seterr(all='raise')\n    np.random.seed(1)\n"
    look = (
        "import numpy as np\n"
        "def f(robot, **params):\n"
        "    print(np.geterr()['divide'], np.ones(1) / 0)\n"
    )
    assert pool.run(spoil, "f", "pick", 0).status == "ok"
    again = [pool.run(look, "f", "pick", 0) for _ in range(2)]  # both workers
    for r in again:
        assert r.status == "ok" and "warn [inf]" in r.output, r


def test_same_seed_same_outcome(pool):
    a = pool.run(STACK_SKILL, "stack_blocks", "stack", 3)
    b = pool.run(STACK_SKILL, "stack_blocks", "stack", 3)
    assert (a.status, a.success, a.output) == (b.status, b.success, b.output)


def test_workers_stay_warm_across_runs_and_timeouts(pool):
    before = sorted(pool.pids)
    quick = pool.run("def f(robot, **params):\n    return 1\n", "f", "pick", 0)
    slow = pool.run(
        "def f(robot, **params):\n    while True:\n        pass\n", "f", "pick", 0, timeout=0.5
    )
    assert quick.status == "ok" and quick.seconds > 0
    assert slow.status == "timeout" and 0.5 <= slow.seconds < 0.5 + GRACE_S
    assert sorted(pool.pids) == before  # the child was killed, the worker lives on


def test_a_dead_worker_is_replaced(pool):
    victim = pool.pids[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)
    results = [
        pool.run("def f(robot, **params):\n    return 1\n", "f", "pick", 0) for _ in range(2)
    ]
    assert all(r.status == "ok" for r in results), results
    assert victim not in pool.pids and len(pool.pids) == 2


def test_parallel_runs_use_both_workers(pool):
    results: list[SandboxResult] = []
    threads = [
        threading.Thread(target=lambda s=s: results.append(pool.run(PICK_SKILL, None, "pick", s)))
        for s in (0, 1)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [(r.status, r.success) for r in results] == [("ok", True), ("ok", True)]


def test_rejected_code_never_reaches_a_worker(pool, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("rejected code was sent to a worker")

    monkeypatch.setattr(pool, "_execute", boom)
    result = pool.run("import os\ndef f(robot, **params):\n    pass\n", None, "pick", 0)
    assert result.status == "rejected" and result.layers == ()


def test_bad_arguments_are_the_callers_error(pool):
    ok = "def f(robot, **params):\n    pass\n"
    with pytest.raises(SkillError, match="unknown task family"):
        pool.run(ok, "f", "no-such-family", 0)
    with pytest.raises(SkillError, match="seed"):
        pool.run(ok, "f", "pick", -1)
    with pytest.raises(SkillError, match="JSON"):
        pool.run(ok, "f", "pick", 0, params={"x": object()})


def test_run_skill_uses_a_one_off_pool():
    result = run_skill(PICK_SKILL, None, "pick", 1)
    assert (result.status, result.success) == ("ok", True)
    assert run_skill("def f(:\n", None, "pick", 1).status == "rejected"


def test_measure_overhead_reports_the_warm_worker_cost():
    report = measure_overhead(n=2)
    assert set(report) >= {
        "runs",
        "direct_ms",
        "sandbox_ms",
        "overhead_ms",
        "overhead_p90_ms",
        "layers",
    }
    assert report["runs"] == 2 and report["sandbox_ms"] > 0 and report["direct_ms"] > 0
    assert isinstance(report["overhead_ms"], float)


# -- the CLI --------------------------------------------------------------------------------
def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "import sys; from agent.cli import main; sys.exit(main())", *args]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_cli_runs_a_skill_file(tmp_path):
    (tmp_path / "stack.py").write_text(STACK_SKILL)
    proc = _cli(
        "sandbox",
        "run",
        "stack.py",
        "--entry",
        "stack_blocks",
        "--task",
        "stack",
        "--seed",
        "1",
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"status", "reason", "success", "seconds"} <= set(data)
    assert (data["status"], data["success"], data["reason"]) == ("ok", True, None)


def test_cli_reports_rejected_code_with_a_non_zero_exit(tmp_path):
    (tmp_path / "bad.py").write_text("import os\n\ndef f(robot, **params):\n    pass\n")
    proc = _cli("sandbox", "run", "bad.py", "--task", "pick", "--json", cwd=tmp_path)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["status"] == "rejected"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py", "--task", "pick"], "no such file"),
        (["skill.py", "--task", "no-such-family"], "unknown task family"),
        (["skill.py", "--task", "pick", "--seed", "-3"], "seed"),
        (["skill.py", "--task", "pick", "--seed", "x"], "--seed"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path, args, message):
    (tmp_path / "skill.py").write_text("def f(robot, **params):\n    pass\n")
    proc = _cli("sandbox", "run", *args, cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
