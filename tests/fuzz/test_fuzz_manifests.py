"""Fuzzing what the tool reads from files: bundle manifests (`skills import` of generated
zips) and checkpoint manifests.

A valid manifest is generated and then one field at a time is replaced by a value of the
wrong type or out of range (10**30, -1, Infinity, NaN, 1e308, huge strings, nesting).
Properties: the schema accepts it or raises one line (`SkillError`/`AgentError`); through
the CLI, `skills import` of the zip exits 0 or refuses in one line with the data home
unchanged, and after an import `skills show --json` prints valid JSON.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from agent.errors import AgentError
from agent.policy.manifest_schema import parse_manifest as parse_checkpoint
from skills.bundle_schema import parse_manifest as parse_bundle
from skills.errors import SkillError
from tests.fuzz.strategies import JSON_VALUES, examples, one_line
from tests.fuzz.test_fuzz_cli import _refused_or_done, home  # noqa: F401 - the fixture

CODE = '''def fuzzed(robot, obj):
    """Lift the object a little."""
    robot.pick(robot.find(obj))
'''
SHA = hashlib.sha256(CODE.encode()).hexdigest()
BAD = st.one_of(
    JSON_VALUES,
    st.sampled_from([10**30, -1, 0, 2**63, 1e308, -1e308, "Infinity", "NaN", True, None]),
    st.sampled_from([float("inf"), float("nan"), [10**30, 1], {"stack": [1, 10**30]}]),
    st.text(min_size=300, max_size=20_000),
)


def _bundle_manifest() -> dict:
    version = {
        "version": 1,
        "description": "Lift the object a little.",
        "examples": ["lift the red cube"],
        "author": "human",
        "verified": False,
        "stage": "unverified",
        "parent": None,
        "created": 1_700_000_000.0,
        "stats": {"stack": [5, 4]},
        "code": "code/fuzzed/v1.py",
        "sha256": SHA,
    }
    skill = {"name": "fuzzed", "uses": 3, "versions": [version]}
    return {"format": "skillgrove-bundle", "format_version": 1, "created": 1.0, "skills": [skill]}


PATHS = st.sampled_from(
    [
        (),
        ("format_version",),
        ("created",),
        ("skills",),
        ("skills", 0),
        ("skills", 0, "name"),
        ("skills", 0, "uses"),
        ("skills", 0, "versions"),
        *(
            ("skills", 0, "versions", 0, key)
            for key in _bundle_manifest()["skills"][0]["versions"][0]
        ),
    ]
)


def _mutated(base: dict, path: tuple, value) -> object:
    if not path:
        return value
    at = base
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return base


def _zip(manifest_text: str, code: str = CODE) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bundle.json", manifest_text)
        z.writestr("code/fuzzed/v1.py", code)
    return buf.getvalue()


@examples(80)
@given(PATHS, BAD)
@example(("skills", 0, "uses"), 10**30)
@example(("skills", 0, "versions", 0, "created"), float("inf"))
@example(("skills", 0, "versions", 0, "stats"), {"stack": [10**30, 1]})
@example((), "[" * 100_000)  # was a RecursionError
def test_a_bundle_manifest_is_accepted_or_refused_in_one_line(path, value):
    text = json.dumps(_mutated(_bundle_manifest(), path, value))
    text = value if path == () and isinstance(value, str) else text
    try:
        parse_bundle(text.encode())
    except SkillError as exc:
        assert one_line(str(exc))


@examples(15)
@given(PATHS, BAD, st.sampled_from([CODE, "def fuzzed(robot):\n    return " + "1+" * 3000 + "1\n"]))
@example(("skills", 0, "versions", 0, "created"), float("inf"), CODE)
def test_skills_import_of_a_fuzzed_bundle_refuses_in_one_line(
    home,  # noqa: F811
    tmp_path_factory,
    path,
    value,
    code,
):
    base = _bundle_manifest()
    base["skills"][0]["versions"][0]["sha256"] = hashlib.sha256(code.encode()).hexdigest()
    manifest = _mutated(base, path, value)
    zpath = tmp_path_factory.mktemp("bundle") / "b.zip"
    zpath.write_bytes(_zip(json.dumps(manifest), code))
    if _refused_or_done(home, "skills", "import", str(zpath), "--json") == 0:
        _refused_or_done(home, "skills", "show", "fuzzed", "--json")
        _refused_or_done(home, "skills", "rm", "fuzzed", "--json")


def _checkpoint_manifest() -> dict:
    return {
        "version": 3,
        "file": "v0003.pt",
        "sha256": "0" * 64,
        "created": 1_700_000_000.0,
        "encoder": "resnet",
        "kind": "full",
        "strategy": "ewc",
        "families": ["stack"],
        "parent": 2,
        "corrections": [1, 2],
        "n_known": 1,
        "n_train": 10,
        "steps": 100,
        "seed": 0,
    }


@examples(80)
@given(st.sampled_from([None, *_checkpoint_manifest()]), BAD, st.booleans())
@example("version", "one", False)
@example("families", 5, False)
@example("created", float("inf"), False)
@example(None, "[" * 100_000, True)  # was a RecursionError
def test_a_checkpoint_manifest_is_accepted_or_refused_in_one_line(key, value, as_text):
    data = _checkpoint_manifest()
    if key is None:
        text = value if as_text and isinstance(value, str) else json.dumps(value)
    else:
        data[key] = value
        text = json.dumps(data)
    try:
        got = parse_checkpoint(text, Path("v0003.json"), 3)
    except AgentError as exc:
        assert one_line(str(exc))
        return
    assert got["version"] == 3
