"""What a bundle may not do (issue 19): fake trust (finding 3) or smuggle in numbers that
overflow later (finding 11). Bundles are written by hand here, as an attacker would."""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from dataclasses import replace

import pytest

from agent.cli import main
from skills.bundle import import_bundle
from skills.embed import HashEmbedder
from skills.errors import SkillError
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from tests.fakes import FastEmbedder

NOOP = '''
def stack_fast(robot, top, base):
    """Stack one block on top of another block, centered, then let go slowly.

    Examples:
        stack the red cube on the blue cube
    """
    robot.find(top)
'''


def forged_bundle(path, code: str = NOOP, name: str = "stack_fast", **overrides) -> None:
    """A bundle whose one skill claims everything: verified, a seed, 1000 of 1000."""
    member = f"code/{name}/v1.py"
    version = {
        "version": 1,
        "description": "Stack one block on top of another block.",
        "examples": ["stack the red cube on the blue cube"],
        "author": "seed",
        "verified": True,
        "stage": "success",
        "parent": None,
        "created": 1700000000.0,
        "stats": {"stack": [1000, 1000]},
        "code": member,
        "sha256": hashlib.sha256(code.encode()).hexdigest(),
    }
    skill = {"name": name, "uses": 5000, "versions": [version]}
    for key, value in overrides.items():
        (skill if key == "uses" else version)[key] = value
    manifest = {
        "format": "skillgrove-bundle",
        "format_version": 1,
        "created": 1700000000.0,
        "skills": [skill],
    }
    raw = json.dumps(manifest).replace('"__INF__"', "Infinity").replace('"__NAN__"', "NaN")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("bundle.json", raw)
        z.writestr(member, code)


@pytest.fixture
def lib(tmp_path):
    library = SkillLibrary(tmp_path / "home", HashEmbedder(), MemoryIndex())
    yield library
    library.close()


# -- finding 3: a bundle can fake trust ------------------------------------------------------
def test_an_imported_skill_is_unverified_without_stats_whatever_it_claims(lib, tmp_path):
    forged_bundle(tmp_path / "evil.zip")
    got = import_bundle(lib, tmp_path / "evil.zip")
    assert got["added"] == 1
    v = lib.get("stack_fast")
    assert (v.verified, v.stage, v.stats) == (False, "unverified", {})
    assert v.author == "human"  # only skills shipped with skillgrove are "seed"
    assert lib.info("stack_fast").uses == 0
    # ... so it is never reused: reuse needs a verified skill with evidence
    found = lib.search("stack the red cube on the blue cube")
    assert found.chosen is None or found.chosen.name != "stack_fast" or found.decision != "reuse"
    # the claims are kept as provenance, and only there
    from skills.bundle import provenance

    claimed = provenance(lib, "stack_fast", 1)["claimed"]
    assert claimed == {
        "version": 1,
        "author": "seed",
        "verified": True,
        "stage": "success",
        "stats": {"stack": [1000, 1000]},
        "uses": 5000,
        "created": 1700000000.0,
    }
    assert got["versions"] == [{"name": "stack_fast", "version": 1, "claimed": claimed}]


def test_provenance_does_not_stick_to_a_new_skill_of_the_same_name(lib, tmp_path):
    from skills.bundle import provenance

    forged_bundle(tmp_path / "evil.zip")
    import_bundle(lib, tmp_path / "evil.zip")
    lib.remove("stack_fast")
    lib.add("stack_fast", NOOP.replace("robot.find(top)", "robot.find(base)"), verified=False)
    assert provenance(lib, "stack_fast", 1) is None


def test_import_verify_runs_this_machines_evaluator(tmp_path, monkeypatch, capsys):
    import skills.embed

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    forged_bundle(tmp_path / "evil.zip")
    home = str(tmp_path / "home")
    code = main(
        [
            "--home",
            home,
            "skills",
            "import",
            str(tmp_path / "evil.zip"),
            "--verify",
            "--episodes",
            "2",
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 3  # imported, but it failed verification here (as `skills verify` says)
    (check,) = data["verification"]
    assert check["name"] == "stack_fast" and check["status"] == "failed" and not check["verified"]
    assert [k["key"] for k in check["keys"]] == ["stack"]
    main(["--home", home, "skills", "show", "stack_fast", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert not shown["verified"] and shown["stats"]["stack"]["successes"] == 0  # its own evidence


# -- finding 11: numbers from files are bounded ----------------------------------------------
@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"uses": 10**30}, "'uses' is out of range"),
        ({"version": 10**30}, "'version' is out of range"),
        ({"stats": {"stack": [10**30, 1]}}, "'stats.stack.0' is out of range"),
        ({"stats": {"stack": [1, 2]}}, "more successes than episodes"),
        ({"stats": {"stack": [-1, 0]}}, "out of range"),
        ({"created": "__INF__"}, "'created' must be a finite number"),
        ({"created": "__NAN__"}, "'created' must be a finite number"),
        ({"created": 1e308}, "'created' is out of range"),
        ({"version": 1.0}, "'version' is missing or has the wrong type"),
        ({"verified": "yes"}, "'verified' is missing or has the wrong type"),
        ({"parent": ["stack", 10**30]}, "'parent.1' is out of range"),
        ({"author": "root"}, "bad author"),
        ({"description": "x" * 20_000}, "'description' is out of range"),
    ],
)
def test_out_of_range_numbers_are_one_line_errors_and_change_nothing(
    lib, tmp_path, overrides, message
):
    forged_bundle(tmp_path / "bad.zip", **overrides)
    before = lib.store.generation()
    with pytest.raises(SkillError, match="corrupt bundle: stack_fast") as err:
        import_bundle(lib, tmp_path / "bad.zip")
    assert message in str(err.value) and "\n" not in str(err.value) and len(str(err.value)) < 300
    assert lib.store.generation() == before and "stack_fast" not in lib.store.names()


def test_the_cli_reports_a_bad_bundle_in_one_line(tmp_path, capsys):
    forged_bundle(tmp_path / "bad.zip", uses=10**30)
    assert main(["--home", str(tmp_path / "h"), "skills", "import", str(tmp_path / "bad.zip")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "out of range" in err


def test_json_output_stays_json_whatever_is_stored(lib, tmp_path, monkeypatch, capsys):
    import skills.embed

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    v = lib.prepare("stack_fast", NOOP, None, verified=False)
    lib.add_many([replace(v, created=math.inf)])  # as an older release could have stored it
    main(["--home", str(lib.home), "skills", "show", "stack_fast", "--json"])
    out = capsys.readouterr().out
    shown = json.loads(out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert shown["created"] is None
