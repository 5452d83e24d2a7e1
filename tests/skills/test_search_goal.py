"""The Searcher's goal channel: skills whose goal template fits the request rank higher.

Uses the product's goal reader (`agent.plan.goal_reader`, wired by the agent) and the
real packaged MiniLM, on two of the description-only skills that MiniLM confused.
"""

from __future__ import annotations

import pytest

from agent.plan.goal_reader import read_template
from skills.embed import default_embedder
from skills.goal_channel import SUB, fit, shape
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from skills.local_index import LocalIndex
from skills.search import Searcher

SKILLS = {
    "place_beside": "Place an object right beside another object, almost touching it.",
    "move_behind": "Move an object so that it ends up behind a reference object, closer to the robot.",
    "drop_into": "Drop an object into a container such as a bowl.",
    "stack_on": "Stack one block on top of another block.",
}


def _code(name: str, description: str) -> str:
    return f'def {name}(robot, obj, ref):\n    """{description}"""\n    robot.pick(obj)\n'


@pytest.fixture(scope="module")
def embedder():
    return default_embedder()


@pytest.fixture
def lib(tmp_path, embedder):
    with SkillLibrary(tmp_path / "home", embedder, MemoryIndex(), install_seeds=False) as library:
        library.add_many(library.prepare(n, _code(n, d), d) for n, d in SKILLS.items())
        yield library


def test_reader_types_requests_and_reads_descriptions_through_placeholders():
    assert read_template("place the cube behind the tray") == "behind(?movable, ?surface)"
    assert read_template("put the red block on the blue block") == "on(?movable, ?movable)"
    assert read_template(SKILLS["move_behind"], description=True) == "behind(?any, ?any)"
    assert read_template(SKILLS["drop_into"], description=True) == "in(?any, ?container)"
    assert read_template(SKILLS["stack_on"], description=True) == "on(?movable, ?movable)"
    # a request is read whole: no prefix of it, no reading of what the reader refuses
    assert read_template("pour milk into the cup") is None
    assert read_template("place the cube behind the tray and wash it") is None


def test_fit_compares_goal_shape_and_object_kinds():
    q = shape("on(?movable, ?surface)")
    assert fit(q, shape("on(?a, ?b)")) == 1.0  # a Goal: line has no kinds: any
    assert fit(q, shape("on(?any, ?surface)")) == 1.0
    assert fit(q, shape("on(?movable, ?movable)")) == 0.0  # stacking, not setting down
    assert fit(q, shape("in(?any, ?container)")) == 0.0
    assert fit(shape("far_from(?movable, ?container, ?n)"), shape("far_from(?a, ?b)")) == 1.0
    assert fit(q, shape("on(?a, ?b) and left_of(?a, ?c)")) == SUB


def test_goal_channel_ranks_the_relation_over_the_shared_verb(lib):
    query = "place the cube behind the tray"
    plain = Searcher(lib, goal_reader=None).search(query)
    assert plain.matches[0].name == "place_beside"  # MiniLM follows the shared verb
    got = Searcher(lib, goal_reader=read_template).search(query)
    assert got.matches[0].name == "move_behind"
    stack = Searcher(lib, goal_reader=read_template).search("place the blue cube on the red cube")
    assert stack.matches[0].name == "stack_on"


def test_unread_request_keeps_its_scores_and_the_library_attribute_wires_the_reader(lib):
    novel = "pour milk into the cup"
    plain = Searcher(lib, goal_reader=None).search(novel)
    lib.goal_reader = read_template
    wired = Searcher(lib)
    assert wired.goal_reader is read_template
    assert [(m.name, m.score) for m in wired.search(novel).matches] == [
        (m.name, m.score) for m in plain.matches
    ]


def test_descriptions_are_read_once_and_cached_by_the_index(lib):
    calls: list[tuple[str, bool]] = []

    def reader(text: str, description: bool = False) -> str | None:
        calls.append((text, description))
        return read_template(text, description)

    reader.version = "test"
    Searcher(lib, goal_reader=reader).search("put the cube behind the bowl")
    assert sum(d for _, d in calls) == len(SKILLS)
    calls.clear()
    Searcher(lib, goal_reader=reader).search("put the cube behind the bowl")
    assert calls == [("put the cube behind the bowl", False)]  # only the query is read


def test_local_index_keeps_goal_readings_across_processes(tmp_path):
    LocalIndex("c", tmp_path).put_goal_readings({"k1": "on(?any, ?surface)", "k2": None})
    again = LocalIndex("c", tmp_path)
    assert again.goal_readings({"k1", "k2", "k3"}) == {"k1": "on(?any, ?surface)", "k2": None}
