"""Searcher: exact names and descriptions among near-identical skills; no shadowing of
verified versions by newer unverified ones (issue 19, finding 7)."""

from __future__ import annotations

import time

import pytest

from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from skills.local_index import LocalIndex
from skills.store import SkillVersion, content_hash

N_NEAR = 3300


@pytest.fixture(scope="module")
def near_identical(tmp_path_factory):
    """3,300 skills described "Lift object number N and hold it" (the issue's library)."""
    home = tmp_path_factory.mktemp("near")
    lib = SkillLibrary(
        home, HashEmbedder(), LocalIndex("skills-hash256", home / "index"), install_seeds=False
    )
    versions = []
    for n in range(N_NEAR):
        name, desc = f"lift_object_{n}", f"Lift object number {n} and hold it"
        code = f'def {name}(robot, obj):\n    """{desc}"""\n    robot.pick(robot.find(obj))\n'
        versions.append(
            SkillVersion(
                name,
                0,
                code,
                desc,
                (),
                (),
                "human",
                True,
                "success",
                None,
                content_hash(code, desc),
                time.time(),
            )
        )
    lib.add_many(versions)
    yield lib
    lib.close()


@pytest.mark.parametrize("n", [213, 7, 1000, 3299])
def test_exact_description_or_name_ranks_that_skill_first(near_identical, n):
    for query in (f"Lift object number {n} and hold it", f"lift_object_{n}", f"lift object {n}"):
        r = near_identical.search(query, k=20)
        assert r.matches[0].name == f"lift_object_{n}", query
    exact = near_identical.search(
        f"lift object number {n} and hold it.", k=3
    )  # case and a full stop aside
    assert exact.matches[0].score == 1.0 and exact.decision == "reuse"


def test_words_of_a_description_still_rank_by_number(near_identical):
    r = near_identical.search("please lift object number 2024 and keep holding it", k=5)
    assert r.matches[0].name == "lift_object_2024"


def stack_v2() -> str:
    """The seed `stack` with one more line: a user's edited copy, as `skills add` gets it."""
    from skills.seed import seed_sources

    return dict(seed_sources())["stack"].rstrip() + "\n    robot.open_gripper()\n"


@pytest.fixture
def lib(tmp_path):
    with SkillLibrary(tmp_path / "home", HashEmbedder(), MemoryIndex()) as library:
        yield library


def test_unverified_new_version_never_hides_the_verified_one(lib):
    before = lib.search("stack the red cube on the blue cube")
    assert before.decision == "reuse" and (before.chosen.name, before.chosen.version) == (
        "stack",
        1,
    )
    lib.add(
        "stack", stack_v2(), verified=False
    )  # what `skills add X --name stack --unverified` does
    assert lib.get("stack").version == 2 and not lib.get("stack").verified
    r = lib.search("stack the red cube on the blue cube")
    assert r.decision == "reuse" and (r.chosen.name, r.chosen.version, r.chosen.verified) == (
        "stack",
        1,
        True,
    )
    assert r.chosen.description == lib.get("stack", 1).description  # the version that runs
    lib.set_verified("stack", 2)  # once verified, the newest verified version is reused
    assert (lib.search("stack the red cube on the blue cube").chosen.version) == 2


def test_a_skill_with_no_verified_version_is_still_never_reused(lib):
    lib.add("stack", stack_v2(), verified=False)
    lib.set_verified("stack", 1, verified=False)
    r = lib.search("stack the red cube on the blue cube")
    top = next(m for m in r.matches if m.name == "stack")
    assert (top.version, top.verified) == (2, False) and (
        r.chosen is None or r.chosen.name != "stack"
    )
