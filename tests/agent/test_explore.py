"""`learn --explore`'s parts: the catalogue, the goal sampler, the choice rule, the store.

The sampler's checks run on real scenes (PyBullet, the goal checker and planner that
judge runs); the choice rule is tested on histories where each wrong rule (lowest
success, fewest episodes, highest success) would pick another template.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import numpy as np
import pytest

from agent.errors import AgentError
from agent.explore.catalog import catalog, roles_of
from agent.explore.competence import (
    UNREACHABLE,
    WINDOW,
    History,
    choose,
    competence,
    out_of_reach,
    windows,
)
from agent.explore.sampler import NoFill, Proposal, check, fill
from agent.explore.store import ExploreStore
from agent.explore.templates import TEMPLATES, by_id
from sim.goals import check as check_goal
from sim.goals import evaluate, read_world, start_poses
from sim.objects import SHAPES

T, F = True, False


@pytest.fixture(scope="module")
def world():
    from sim.world import World

    w = World()
    yield w
    w.close()


# -- the catalogue ----------------------------------------------------------------------
def test_roles_follow_the_geometry_of_each_kind():
    roles = {k: roles_of(s) for k, s in SHAPES.items()}
    assert {"movable", "turnable", "base"} <= roles["cube"]
    assert "movable" in roles["cylinder"] and "turnable" not in roles["cylinder"]  # round
    assert "container" in roles["bowl"] and "container" in roles["tray"]
    assert "flat" in roles["plate"] and "container" not in roles["plate"]
    assert roles["zone"] == set()  # a marking takes no room


def test_a_kind_added_to_the_simulators_catalogue_is_explored(monkeypatch):
    duck = dataclasses.replace(SHAPES["cylinder"], name="duck")
    monkeypatch.setitem(SHAPES, "duck", duck)
    cat = catalog()
    assert "duck" in cat.with_role("movable")
    # and a goal about it is proposed, once the catalogue holds nothing else to move
    only = catalog("duck, bowl")
    p = fill(by_id()["in(?a, ?b)"], only, np.random.default_rng(0), 7)
    assert p.goal.startswith("in(") and "duck" in p.goal and "bowl" in p.goal


def test_objects_narrow_the_catalogue_and_bad_words_are_refused():
    cat = catalog("red cube, bowl")
    assert cat.names == ["cube", "bowl"]
    assert cat.colors_of("cube") == ("red",) and len(cat.colors_of("bowl")) > 1
    with pytest.raises(AgentError, match="--objects"):
        catalog("red spaceship")
    # a template the narrowed catalogue cannot fill says which slot
    with pytest.raises(NoFill, match="flat"):
        fill(by_id()["on(?a, ?b)"], cat, np.random.default_rng(0), 0)


# -- the sampler ------------------------------------------------------------------------
def test_template_ids_are_unique():
    assert len(by_id()) == len(TEMPLATES)


def test_fill_gives_each_slot_its_role_and_unique_descriptions():
    cat = catalog()
    for i in range(20):
        rng = np.random.default_rng(i)
        p = fill(by_id()["all(x in ?kinds except ?c: in(x, ?b))"], cat, rng, i)
        objs = p.objects.split(", ")
        kinds = {o.split(" ", 1)[1] for o in objs[:3]}
        assert len(kinds) == 1 and len(set(objs)) == len(objs)  # one kind, three colors
        assert objs[3].split(" ", 1)[1] in cat.with_role("container")
        q = fill(by_id()["all(x in ?color things: in(x, ?b))"], cat, rng, i)
        a, a2 = q.objects.split(", ")[:2]
        assert a.split()[0] == a2.split()[0] and a != a2  # one color, two kinds
        r = fill(by_id()["on(?a, ?b) from ?a in ?c"], cat, rng, i)
        assert " in " in r.objects.split(", ")[0]  # the start state is in the object list


def test_every_template_gives_goals_that_check_and_are_false_at_the_start(world):
    cat = catalog()
    for t in TEMPLATES:
        kept = []
        for seed in range(4):
            p = fill(t, cat, np.random.default_rng([seed, 11]), 100 + seed)
            if check(p, world) is None:
                kept.append(p)
        assert kept, f"{t.id}: every proposal was dropped"
        p = kept[0]
        # the scene `run` builds for it: the goal checks there and does not hold yet
        from agent.run.setup import words_setup

        setup = words_setup(world, p.objects, p.seed, p.distractors, p.goal)
        state = read_world(world, start_poses(world))
        assert not evaluate(check_goal(setup.goal, state), state).value, t.id


@pytest.mark.parametrize(
    "goal, objects, why",
    [
        ("far_from(red cube, blue bowl, 3.0)", "red cube, blue bowl", "no placement"),
        ("in(red cube, green cube)", "red cube, green cube", "no container"),
        ("left_of(red cube, green cube)", "red cube, blue bowl", "green cube"),
    ],
)
def test_a_goal_that_cannot_be_planned_or_checked_is_dropped_with_the_reason(
    world, goal, objects, why
):
    d = check(Proposal("t", goal, "do it", objects, 3, 0), world)
    assert d is not None and why in d.reason


# -- the choice rule --------------------------------------------------------------------
def h(
    name: str, outcomes, statuses=None, drops: int = 0, last: int = 0, library: int | None = None
) -> History:
    st = tuple(statuses or ["ok"] * len(outcomes))
    reason = "no placement" if drops else ""
    return History(name, tuple(outcomes), st, drops, reason, last, library)


def test_windows_and_progress():
    assert windows([]) == (None, None)
    assert windows([T]) == (1.0, None)
    assert windows([T, T, F, F]) == (0.0, 1.0)  # halves of what there is
    assert windows([F] * 4 + [T, T, T, F]) == (0.75, 0.0)  # the last WINDOW and the one before
    assert competence(h("a", [T, T, F, F])).progress == 1.0


def test_choose_goes_where_learning_progress_is_highest():
    hs = [
        h("forgetting", [T, T, F, F]),  # progress 1.0 (absolute: getting worse counts)
        h("steady", [T, F, T, F, T, T]),  # recent 67%, progress 0
        h("few", [F, F, F]),  # fewest episodes, progress 0
        h("hopeless", [F] * 2 * WINDOW),  # lowest success: left for later
        h("mastered", [T] * 5),  # highest success: nothing to learn
        h("no skill", [F] * 2 * WINDOW, ["no-skill"] * 2 * WINDOW),
    ]
    states = {x.template: competence(x).state for x in hs}
    assert states == {
        "forgetting": "learning",
        "steady": "learning",
        "few": "learning",
        "hopeless": "hopeless",
        "mastered": "mastered",
        "no skill": "out of reach",
    }
    for seed in range(10):
        c = choose(hs, np.random.default_rng(seed), explore=0.0)
        assert c.template == "forgetting" and c.rule == "learning progress"
        assert "1.00" in c.reason


def test_untried_templates_are_counted_as_promising_and_explored():
    hs = [h("steady", [T, F, T, F, T, T]), h("new one", [])]
    c = choose(hs, np.random.default_rng(0), explore=0.0)
    assert c.template == "new one" and c.rule == "never tried"
    # with exploration always on, an untried one is taken over the best progress
    hs = [h("forgetting", [T, T, F, F]), h("new one", [])]
    assert choose(hs, np.random.default_rng(0), explore=1.0).template == "new one"
    assert choose(hs, np.random.default_rng(0), explore=0.0).template == "new one"  # fewer


def test_when_all_is_mastered_or_hopeless_the_oldest_is_revisited_and_out_of_reach_never():
    hs = [
        h("mastered late", [T] * 5, last=50),
        h("hopeless early", [F] * 2 * WINDOW, last=10),
        h("unreachable", [], drops=UNREACHABLE),
    ]
    c = choose(hs, np.random.default_rng(0), explore=0.0)
    assert c.template == "hopeless early" and c.rule == "revisit"
    assert choose([hs[2]], np.random.default_rng(0)) is None


def test_out_of_reach_is_revisited_once_the_library_has_grown_unless_unreachable():
    no_skill = h("no skill", [F] * 2 * WINDOW, ["no-skill"] * 2 * WINDOW, last=30, library=11)
    unstable = h("unstable", [T, T] + [F] * 7 + [T], last=20, library=12)
    unreachable = h("unreachable", [F], drops=UNREACHABLE, last=5, library=3)
    mastered = h("mastered", [T] * 5, last=40, library=11)
    hs = [no_skill, unstable, unreachable, mastered]
    assert {competence(x).state for x in hs[:3]} == {"out of reach"}
    rng = np.random.default_rng(0)
    # no larger than at their last episodes: only the mastered one is revisited
    assert choose(hs, rng, explore=0.0, library_size=11).template == "mastered"
    assert choose(hs[:3], rng, explore=0.0, library_size=11) is None
    assert choose(hs[:3], rng, explore=0.0) is None  # size unknown: nothing has changed
    # one skill more than at "no skill"'s last episode, none more than at "unstable"'s
    c = choose([no_skill, unstable, unreachable], rng, explore=0.0, library_size=12)
    assert c.template == "no skill" and c.rule == "revisit"
    assert "grew from 11 to 12" in c.reason and "no skill" in c.reason
    # grown past both: the one tried longest ago; an unreachable one never comes back
    c = choose(hs, rng, explore=0.0, library_size=20)
    assert c.template == "unstable" and "unstable" in c.reason
    assert choose([unreachable], rng, explore=0.0, library_size=100) is None


def test_out_of_reach_says_why():
    assert "unreachable" in out_of_reach(h("a", [T], drops=UNREACHABLE))
    assert out_of_reach(h("a", [T], drops=UNREACHABLE - 1)) is None
    assert "no skill" in out_of_reach(h("a", [F] * 8, ["no-skill"] * 8))
    assert "unstable" in out_of_reach(h("a", [T, T] + [F] * 7 + [T]))
    assert out_of_reach(h("a", [F] * 8)) is None  # never held: left for later, not unstable
    assert out_of_reach(h("a", [T, F] * 4)) is None  # half the time is learnable


# -- the store --------------------------------------------------------------------------
def _row(template: str, success: bool | None, kind: str = "episode") -> dict:
    return {
        "session": "s1",
        "kind": kind,
        "template": template,
        "goal": "g",
        "instruction": "i",
        "objects": "o",
        "seed": 1,
        "distractors": 0,
        "rule": "never tried",
        "why": "w",
        "success": success,
        "status": "ok" if kind == "episode" else "dropped",
        "reason": None if kind == "episode" else "no placement",
        "false_atoms": [] if success else [{"atom": "in(a, b)", "margin": -0.1, "detail": ""}],
        "seconds": 1.0,
        "perception": "oracle",
    }


def test_the_history_survives_reopening_and_is_migrated(tmp_path):
    s = ExploreStore(tmp_path)
    s.start_session("s1", {"episodes": 2})
    s.add(_row("a", True))
    s.add(_row("a", False))
    s.add(_row("b", None, "dropped"))
    s.close()
    again = ExploreStore(tmp_path)
    ha, hb = again.histories(["a", "b"])
    assert ha.outcomes == (T, F) and hb.trailing_drops == 1 and hb.drop_reason == "no placement"
    assert again.episodes()[1]["false_atoms"][0]["atom"] == "in(a, b)"
    again.close()
    db = sqlite3.connect(tmp_path / "skillgrove.db")
    assert db.execute("SELECT version FROM schema_version WHERE component = 'explore'").fetchone()


def test_a_session_whose_process_died_is_closed_as_killed_by_the_next(tmp_path):
    import subprocess
    import sys

    from agent.explore.store import read_home

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid now names no process
    s = ExploreStore(tmp_path)
    s.start_session("dead", {})
    s.start_session("alive", {})  # this process: still running
    s._db.execute("UPDATE explore_sessions SET pid = ? WHERE id = 'dead'", (gone.pid,))
    s._db.commit()
    assert {x["id"]: x["status"] for x in read_home(tmp_path)[0]} == {
        "dead": "killed",  # shown so before anyone closes it ...
        "alive": "running",
    }
    s.start_session("next", {})  # ... and closed so by the next session
    stored = dict(s._db.execute("SELECT id, status FROM explore_sessions").fetchall())
    assert stored == {"dead": "killed", "alive": "running", "next": "running"}
    s.close()
