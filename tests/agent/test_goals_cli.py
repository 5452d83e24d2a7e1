"""`goals check`, `goals list`, `run --json` with a goal and a scene from words, and
`bench open`: JSON shapes, explanations with numbers, one-line refusals."""

from __future__ import annotations

import json

from tests.agent.test_cli import cli


def test_goals_check_explains_each_atom(tmp_path):
    res = cli(
        "goals",
        "check",
        "left_of(red cube, blue cube) and upright(red cube)",
        "--objects",
        "red cube right of blue cube, blue cube",
        "--seed",
        "1",
        "--json",
        home=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["value"] is False
    left = next(a for a in data["atoms"] if a["atom"] == "left_of(red cube, blue cube)")
    assert left["value"] is False and left["margin"] < 0 and left["unit"] == "m"
    assert "right of blue cube" in left["detail"] and "needs >= 3.0 cm left" in left["detail"]
    assert {o["description"] for o in data["objects"]} == {"red cube", "blue cube"}
    human = cli(
        "goals",
        "check",
        "left_of(red cube, blue cube)",
        "--objects",
        "red cube right of blue cube, blue cube",
        home=tmp_path,
    )
    assert "left_of(red cube, blue cube): false, red cube is" in human.stdout


def test_goals_check_refuses_in_one_line(tmp_path):
    for goal, words in [
        ("on(red cube, red cube)", "twice"),
        ("left_of(red cube, pink cube)", "no 'pink cube'"),
        ("left_of(red cube, blue cube) and left_of(blue cube, red cube)", "contradicts"),
        ("left_of(red cube", "cannot read the goal"),
    ]:
        res = cli(
            "goals", "check", goal, "--objects", "red cube, blue cube", "--json", home=tmp_path
        )
        assert res.returncode != 0 and words in json.loads(res.stdout)["error"], (goal, res.stdout)
        assert len(res.stderr.strip().splitlines()) == 1


def test_goals_list_names_every_predicate(tmp_path):
    data = json.loads(cli("goals", "list", "--json", home=tmp_path).stdout)
    names = {p["name"] for p in data["predicates"]}
    assert {
        "on",
        "in",
        "left_of",
        "between",
        "far_from",
        "rotated_by",
        "in_row",
        "stacked",
    } <= names


def test_run_json_has_goal_atoms_and_objects(tmp_path):
    res = cli(
        "run",
        "put the blue cube behind the red bowl",
        "--objects",
        "blue cube, red bowl",
        "--distractors",
        "1",
        "--seed",
        "2",
        "--json",
        home=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["goal"] == "behind(blue cube, red bowl)"
    assert data["success"] == all(a["value"] for a in data["atoms"])
    assert {"atom", "value", "margin"} <= set(data["atoms"][0])
    assert len(data["objects"]) == 3
    for o in data["objects"]:
        assert set(o) == {"description", "start", "end", "size"}
        assert len(o["start"]) == 4 and len(o["end"]) == 4 and len(o["size"]) == 3
    assert data["success"], data["reason"]


def test_run_refuses_text_it_cannot_read(tmp_path):
    res = cli("run", "juggle the red cube", "--json", home=tmp_path)
    assert res.returncode != 0
    msg = json.loads(res.stdout)["error"]
    assert "understood" in msg and "juggle" in msg


def test_bench_open_counts_false_successes(tmp_path):
    suite = tmp_path / "suite.json"
    suite.write_text(
        json.dumps(
            {
                "tasks": [
                    {
                        "instruction": "put the red cube to the right of the blue cube",
                        "expect": "right_of(red cube, blue cube)",
                    },
                    {"instruction": "put the red cube on itself", "refuse": True},
                ]
            }
        )
    )
    res = cli("bench", "open", "--suite", str(suite), "--json", home=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["tasks"] == 2 and data["false_successes"] == 0 and data["refused"] == 1
    assert [r["outcome"] for r in data["rows"]] == ["success", "refused"]
