"""The skill store and library: versions, stats, lineage, seeds, doctor (fake embedder),
on both backends (`backend`, tests/skills/conftest.py): the home's SQLite file and index
file, and a Postgres store with a Chroma server index."""

from __future__ import annotations

import shutil

import pytest

from skills.embed import HashEmbedder
from skills.errors import SkillError
from skills.index import ChromaIndex, IndexEntry, MemoryIndex
from skills.library import SkillLibrary
from skills.seed import seed_sources
from skills.store import parse_source

STACK = '''
def stack_two(robot, top, base, lift=0.05, *, check=True):
    """Put one block on another.

    Examples:
        stack the red cube on the blue cube
        - put the green block on top of the yellow block
    """
    robot.place_on(robot.find(top), robot.find(base))
'''
FAMILY_SOLVERS = {"tower", "pyramid", "line_up", "sort", "gather", "clear", "swap"}


@pytest.fixture
def lib(tmp_path, backend):
    with backend.open(tmp_path / "home") as library:
        library.backend = backend
        yield library


def test_parse_source_reads_params_docstring_and_examples():
    p = parse_source(STACK, "stack_two")
    assert [(x.name, x.required, x.default) for x in p.params] == [
        ("top", True, None),
        ("base", True, None),
        ("lift", False, "0.05"),
        ("check", False, "True"),
    ]
    assert p.examples == (
        "stack the red cube on the blue cube",
        "put the green block on top of the yellow block",
    )
    assert p.docstring.startswith("Put one block on another.")


@pytest.mark.parametrize(
    "code, entry, message",
    [
        ("def f(robot:\n", "f", "syntax error"),
        ("def g(robot):\n    pass\n", "f", "no entry function"),
        ("def f(obj):\n    pass\n", "f", "robot"),
    ],
)
def test_parse_source_rejects_bad_code(code, entry, message):
    with pytest.raises(SkillError, match=message):
        parse_source(code, entry)


def test_add_versions_lineage_and_history(lib):
    v1 = lib.add("stack_two", STACK, author="human")
    assert (v1.version, v1.verified, v1.stage, v1.author) == (1, True, "success", "human")
    assert v1.description == "Put one block on another."
    v2 = lib.add(
        "stack_two",
        STACK.replace("0.05", "0.08"),
        "Stack, lifting higher.",
        author="llm:qwen2.5",
        verified=False,
        parent=("stack_two", 1),
    )
    assert (v2.version, v2.verified, v2.stage, v2.parent) == (
        2,
        False,
        "unverified",
        ("stack_two", 1),
    )
    assert [v.version for v in lib.history("stack_two")] == [1, 2]
    assert lib.get("stack_two").version == 2 and lib.get("stack_two", 1).code == STACK
    assert lib.info("stack_two").versions == 2
    with pytest.raises(SkillError, match="no version 7"):
        lib.get("stack_two", 7)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "Bad-Name"}, "bad skill name"),
        ({"author": "robot"}, "bad author"),
        ({"stage": "great"}, "bad stage"),
        ({"parent": ("nothing", 1)}, "unknown parent"),
        ({"code": "import os\n\ndef stack_two(robot):\n    os.system('x')\n"}, "not allowed"),
        ({"code": "def stack_two(robot):\n    pass\n"}, "needs a description"),
    ],
)
def test_add_rejects_bad_input_and_writes_nothing(lib, kwargs, message):
    args = {"name": "stack_two", "code": STACK, **kwargs}
    with pytest.raises(SkillError, match=message):
        lib.add(args.pop("name"), args.pop("code"), **args)
    assert "stack_two" not in lib.store.names()


def test_stats_uses_and_verification(lib):
    lib.add("stack_two", STACK, verified=False)
    v = lib.record_stats("stack_two", 1, "stack", 3, 2, stage="runtime")
    v = lib.record_stats("stack_two", 1, "stack", 2, 2)
    assert (
        v.stats == {"stack": (5, 4)} and v.success_rate == {"stack": 0.8} and v.stage == "runtime"
    )
    assert not v.verified
    assert lib.set_verified("stack_two").verified
    with pytest.raises(SkillError, match="bad stats"):
        lib.record_stats("stack_two", 1, "stack", 1, 5)
    lib.record_use("stack_two")
    lib.record_use("stack_two")
    assert lib.info("stack_two").uses == 2
    with pytest.raises(SkillError, match="no skill named"):
        lib.record_use("nope")


def test_remove_deletes_versions_stats_and_index_entries(lib):
    lib.add("stack_two", STACK, stats={"stack": (2, 2)})
    lib.add("stack_two", STACK + "\n")
    assert any(n == "stack_two" for n, _, _ in lib.index.entries().values())
    assert lib.remove("stack_two") == 2
    assert "stack_two" not in lib.store.names()
    assert not any(n == "stack_two" for n, _, _ in lib.index.entries().values())
    assert lib.store._rows("SELECT * FROM skill_stats WHERE name = 'stack_two'") == []
    assert lib.store._rows("SELECT * FROM skill_versions WHERE name = 'stack_two'") == []
    with pytest.raises(SkillError, match="no skill named 'stack_two'"):
        lib.remove("stack_two")


def test_seeds_are_installed_verified_and_valid(lib):
    from skills.validate import validate

    names = {i.name for i in lib.list()}
    assert names == {n for n, _ in seed_sources()}
    assert {
        "pick_up",
        "place_on",
        "put_in",
        "push_to",
        "rotate_by",
        "move_to",
        "open_gripper",
        "close_gripper",
        "stack",
    } <= names
    assert not names & FAMILY_SOLVERS
    for info in lib.list():
        v = info.latest
        assert (v.author, v.verified, v.stage) == ("seed", True, "success")
        assert len(v.examples) >= 3 and v.description
        validate(v.code, entry=v.name)
    # a second open installs nothing again, even after a seed was removed
    lib.remove("stack")
    again = lib.backend.open(lib.home)
    assert "stack" not in again.store.names()
    again.close()


def test_index_is_filled_lazily_and_matches_sqlite(lib):
    assert lib.index.count() == 0  # opening a new home needs neither model nor index
    lib.ensure_index()
    assert lib.index.entries() == lib.expected_entries()
    assert lib.doctor().ok


def test_doctor_finds_and_repairs_missing_stale_and_orphaned(lib):
    lib.add("stack_two", STACK)
    lib.ensure_index()
    ids = sorted(lib.index.entries())
    lib.index.delete([ids[0], ids[1]])  # missing
    name, version, _ = lib.index.entries()[ids[2]]
    lib.index.upsert(
        [IndexEntry(ids[2], name, version, "stale", lib.embedder.embed(["x"])[0])]
    )  # stale
    lib.index.upsert(
        [IndexEntry("ghost::0", "ghost", 1, "h", lib.embedder.embed(["x"])[0])]
    )  # orphaned
    report = lib.doctor()
    assert (report.missing, report.stale, report.orphaned, report.repaired, report.ok) == (
        2,
        1,
        1,
        True,
        False,
    )
    assert lib.index.entries() == lib.expected_entries()
    assert lib.doctor().ok
    assert lib.doctor(repair=False).ok


def test_chroma_index_deleted_or_damaged_is_rebuilt(tmp_path):
    home = tmp_path / "home"
    lib = SkillLibrary(home, HashEmbedder(), ChromaIndex("skills-hash256", path=home / "index"))
    lib.add("stack_two", STACK)
    lib.ensure_index()
    assert lib.search("stack the red cube on the blue cube").matches[0].name == "stack_two"
    lib.close()

    shutil.rmtree(home / "index")  # deleted by hand
    lib = SkillLibrary(home, HashEmbedder(), ChromaIndex("skills-hash256", path=home / "index"))
    assert (
        lib.search("stack the red cube on the blue cube").matches[0].name == "stack_two"
    )  # auto repair
    assert lib.doctor().ok
    lib.close()

    for f in (home / "index").rglob("*"):  # damaged: every file overwritten with garbage
        if f.is_file():
            f.write_bytes(b"\0garbage" * 64)
    lib = SkillLibrary(home, HashEmbedder(), ChromaIndex("skills-hash256", path=home / "index"))
    report = lib.doctor()
    assert report.repaired and not report.ok
    assert lib.doctor().ok
    assert lib.search("stack the red cube on the blue cube").matches[0].name == "stack_two"
    lib.close()


def test_damaged_database_is_a_one_line_error(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "skillgrove.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SkillError, match="cannot be opened"):
        SkillLibrary(home, HashEmbedder(), MemoryIndex())


def test_seed_skills_succeed_on_their_families():
    """Each seed that matches a task family solves it in the sandbox (seed 1)."""
    from agent.cli.skills_cmd import families_for
    from skills.sandbox import SandboxPool

    runs = []
    with SandboxPool(workers=2) as pool:
        for name, code in seed_sources():
            params = parse_source(code, name).params
            for fam in families_for(params) if params else ():  # gripper seeds solve no family
                runs.append((name, fam, pool.run(code, name, fam, 1)))
    assert {(n, f) for n, f, _ in runs} >= {
        ("pick_up", "pick"),
        ("place_on", "place"),
        ("put_in", "put-in-bowl"),
        ("push_to", "push"),
        ("rotate_by", "rotate"),
        ("stack", "stack"),
        ("align_with", "align"),
    }
    assert [(n, f, r.reason) for n, f, r in runs if not r.success] == []
