"""Fuzzing the command line in-process (click's CliRunner) on a temporary data home.

Random option values, strings and numbers for `run`, `skills`, `goals`, `policy` and
`runs`. Properties: the exit code is 0, 1, 2 or 3 (no exception escapes `main`); a
refusal is one `error: ...` line on stderr (with `--json`, one `{"error": ...}` object on
stdout) and no traceback; a refusal writes nothing to the data home (every file's bytes
are the same after it). The home is set up once (the library, its seeds and index) so
that what a command would write on the way to a refusal shows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from agent.cli import main
from tests.fakes import FastEmbedder
from tests.fuzz.strategies import FORMULA_TEXT, INSTRUCTIONS, JSON_TEXT, JUNK, NUMBERS, examples

NAMES = st.one_of(
    st.sampled_from(["pick_up", "nope", "", " ", "a" * 65, "Bad-Name", "__init__", "x" * 64]),
    JUNK,
)
FAMILIES = st.one_of(st.sampled_from(["stack", "pick", "nope", "", "../stack"]), JUNK)
NUM = st.one_of(NUMBERS, st.integers(-(2**70), 2**70).map(str))
OBJECTS = st.one_of(
    st.sampled_from(["red cube, blue bowl", "red cube, red cube", "", ",,,", "red cube on x"]),
    JUNK,
)


class Home:
    """A data home with a library, checked for changes around each refused command."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def snapshot(self) -> dict[str, str]:
        return {
            str(p.relative_to(self.path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(self.path.rglob("*"))
            if p.is_file() and p.name != "library.lock"  # the write lock: empty, kept
        }

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """Run `skillgrove --home HOME ARGS`; (exit code, stdout, stderr)."""
        runner = CliRunner()
        with runner.isolation() as (out, err, _):
            code = main(["--home", str(self.path), *args])
        return code, out.getvalue().decode(errors="replace"), err.getvalue().decode()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    import skills.embed

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
        mp.setattr(skills.embed, "default_embedder", FastEmbedder)
        h = Home(tmp_path_factory.mktemp("fuzz") / "home")
        # every store a refused command may open exists first (a store's tables are made
        # on its first use, which is not what "nothing written" is about)
        for args in (
            ("skills", "search", "cube in bowl"),
            ("runs", "list"),
            ("policy", "checkpoints"),
        ):
            code, out, err = h(*args, "--json")
            assert code == 0, (args, err)
        yield h


def _refused_or_done(home: Home, *args: str) -> int:
    """Run a command and check the invariants; its exit code."""
    before = home.snapshot()
    code, out, err = home(*args)
    assert code in (0, 1, 2, 3), (code, args, err[-2000:])
    assert "Traceback" not in err + out
    if code in (1, 2):
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
        if "--json" in args:
            assert "error" in json.loads(out.strip().splitlines()[-1]), (args, out)
        assert home.snapshot() == before, args
    elif "--json" in args:
        json.loads(out.strip().splitlines()[-1])  # exactly JSON, no NaN or Infinity
    return code


JSON_FLAG = st.sampled_from([(), ("--json",)])


def _opt(flag: str, values) -> st.SearchStrategy[tuple]:
    return st.one_of(st.just(()), values.map(lambda v: (flag, v)))


@examples(25)
@given(
    INSTRUCTIONS.filter(lambda s: not s.startswith("-")),
    st.tuples(
        _opt("--goal", st.one_of(FORMULA_TEXT, JSON_TEXT)),
        _opt("--objects", OBJECTS),
        _opt("--distractors", NUM),
        _opt("--seed", NUM),
        _opt("--task", FAMILIES),
        _opt("--perception", st.sampled_from(["oracle", "policy", "x"])),
        _opt("--episodes", NUM),
        _opt("--pass-bar", NUM),
        _opt("--llm", st.sampled_from(["openai:", "bogus", "hf:/nonexistent", "ollama:m"])),
        JSON_FLAG,
    ),
)
@example("zzqx", (("--goal", "not " * 3000 + "on(red cube, blue bowl)"), ("--json",)))
def test_run_refuses_bad_input_in_one_line_and_writes_nothing(home, text, opts):
    opts = [x for o in opts for x in o]
    if "--llm" in opts or "policy" in opts:  # nothing to reach: refused before any run
        opts += ["--goal", "on(red cube, red cube)", "--objects", "red cube"]
    _refused_or_done(home, "run", text, *opts)


SKILL_TEXT = st.one_of(
    st.just('def lift(robot, obj):\n    """Lift it."""\n    robot.pick(robot.find(obj))\n'),
    st.just("def lift(robot):\n    return " + "1+" * 3000 + "1\n"),  # was a RecursionError
    st.just("import os\ndef lift(robot):\n    os.system('true')\n"),
    JUNK,
)


@examples(40)
@given(
    st.sampled_from(["show", "history", "rm", "search", "add", "verify", "export", "import"]),
    NAMES,
    NUM,
    SKILL_TEXT,
    _opt("--author", st.one_of(st.sampled_from(["seed", "llm:", "human", "llm:x"]), JUNK)),
    _opt("--task", FAMILIES),
    JSON_FLAG,
)
@example("add", "lift", "1", "def lift(robot):\n    return " + "1+" * 3000 + "1\n", (), (), ())
def test_skills_commands_refuse_bad_input_in_one_line(
    home, tmp_path_factory, command, name, number, text, author, task, as_json
):
    work = tmp_path_factory.mktemp("skills")
    if command == "add":
        (work / "s.py").write_text(text, encoding="utf-8", errors="surrogatepass")
        args = ["add", str(work / "s.py"), "--name", name, *author, *task]
        args += ["--unverified"] if not task else []
    elif command == "search":
        args = ["search", name, "-k", number]
    elif command == "show":
        args = ["show", name, "--version", number]
    elif command == "verify":
        args = ["verify", name if name != "pick_up" else "nope", "--episodes", number]
    elif command == "export":
        args = ["export", str(work / (name.replace("/", "_").replace("\x00", "") or "b.zip"))]
    elif command == "import":
        (work / "b.zip").write_text(text, encoding="utf-8", errors="surrogatepass")
        args = ["import", str(work / "b.zip")]
    else:
        args = [command, name]
    if command == "rm" and name == "pick_up":
        args = ["rm", "nope"]  # keep the seeds: the other examples need them
    _refused_or_done(home, "skills", *args, *as_json)


@examples(20)
@given(
    st.one_of(FORMULA_TEXT, JSON_TEXT),
    st.tuples(
        _opt("--objects", OBJECTS),
        _opt("--task", FAMILIES),
        _opt("--seed", NUM),
        _opt("--distractors", NUM),
        JSON_FLAG,
    ),
)
@example('{"pred": "rotated_by", "args": ["red cube", ' + "9" * 400 + "]}", (("--json",),))
def test_goals_check_refuses_bad_input_in_one_line(home, formula, opts):
    _refused_or_done(home, "goals", "check", formula, *[x for o in opts for x in o])


@examples(25)
@given(
    st.sampled_from(["eval", "feedback", "correct", "checkpoints", "list", "export", "runs"]),
    NUM,
    FAMILIES,
    JUNK,
    JSON_FLAG,
)
def test_policy_and_runs_commands_refuse_bad_input_in_one_line(
    home, tmp_path_factory, command, number, family, junk, as_json
):
    work = tmp_path_factory.mktemp("policy")
    args = {
        "eval": ["policy", "eval", "--version", number, "--families", family, "--episodes", "1"],
        "feedback": ["policy", "feedback", "--family", family, "--version", number],
        "correct": ["policy", "correct", "--family", family, "--seed", number, "--angle", number],
        "checkpoints": ["policy", "checkpoints"],
        "list": ["policy", "corrections", "list", "--limit", number, "--family", family],
        "export": ["policy", "corrections", "export", str(work / "c.jsonl"), "--family", junk],
        "runs": ["runs", "show", junk] if junk else ["runs", "list", "--limit", number],
    }[command]
    _refused_or_done(home, *args, *as_json)
