"""Prompt files and builders: the API reference follows the Robot class, prompts carry what the LLM needs."""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from agent.errors import AgentError
from agent.llm.goal_prompts import (
    goal_code_prompt,
    goal_feedback,
    goal_writing_prompt,
    predicate_reference,
    scene_table,
)
from agent.llm.prompts import (
    PLACE_ACCURACY,
    PUSH_ACCURACY,
    Example,
    Prompt,
    adapt_prompt,
    api_reference,
    load_prompt,
    plan_prompt,
    retry_prompt,
    robot_methods,
    skill_errors,
    synthesis_prompt,
)
from sim.geometry import WORKSPACE
from sim.goals import FRAME, Body, State, check, evaluate, load, parse
from sim.objects import SHAPES
from skills.robot import MAX_MOTIONS, TABLE, Robot
from skills.sandbox import SandboxResult

PUBLIC = [n for n, m in vars(Robot).items() if inspect.isfunction(m) and not n.startswith("_")]
PICK_UP = (
    'def pick_up(robot, obj):\n    """Pick up one object."""\n    robot.pick(robot.find(obj))\n'
)


def test_api_reference_lists_every_public_method_with_its_parameters():
    ref = api_reference()
    assert len(PUBLIC) >= 11
    for name in PUBLIC:
        params = list(inspect.signature(getattr(Robot, name)).parameters)[1:]
        m = re.search(rf"^robot\.{name}\((.*)\)", ref, re.MULTILINE)
        assert m, f"robot.{name} missing from the API reference"
        assert [p.split(":")[0].split("=")[0].strip() for p in m.group(1).split(",") if p] == params
        first_doc_line = inspect.getdoc(getattr(Robot, name)).splitlines()[0]
        assert first_doc_line in ref
    assert [m.name for m in robot_methods()] == PUBLIC


def test_api_reference_renders_types_defaults_and_hides_internals():
    ref = api_reference()
    assert "robot.find(description: str) -> Obj" in ref
    assert (
        "robot.place_at(obj: Obj, position, yaw: float | None = None, phrase: str | None = None)"
        " -> None" in ref
    )
    assert "robot.free_spot(clearance: float = 0.03) -> tuple[float, float]" in ref
    assert "robot._" not in ref and "_sim" not in ref and not re.search(r"\bself\b", ref)
    assert "counter-clockwise" in ref  # the frame conventions from the module docstring


def test_system_prompt_states_the_rules_and_includes_the_api():
    p = synthesis_prompt("pick up the red cube", ["red cube", "blue bowl"])
    assert isinstance(p, Prompt) and p.messages[0] == ("system", p.system)
    for rule in (
        "def <name>(robot",
        "`math` and `numpy`",
        "only through `robot`",
        "starting with `_`",
    ):
        assert rule in p.system
    assert api_reference() in p.system
    assert "$" not in p.system + p.user  # every placeholder filled


def test_synthesis_prompt_has_task_scene_call_and_examples():
    p = synthesis_prompt(
        "put the red cube in the blue bowl",
        ["red cube", "blue bowl"],
        [("pick_up", PICK_UP, "Pick up one object.")],
        name="put_in_bowl",
        params={"obj": "red cube", "bowl": "blue bowl"},
    )
    assert "Task: put the red cube in the blue bowl" in p.user
    assert "Objects in the scene: red cube, blue bowl" in p.user
    assert "put_in_bowl(robot, obj='red cube', bowl='blue bowl')" in p.user
    assert PICK_UP.strip() in p.user and "pick_up: Pick up one object." in p.user


def test_synthesis_prompt_takes_a_custom_api_text():
    p = synthesis_prompt("pick up the red cube", [], api="robot.wave()")
    assert "robot.wave()" in p.system and "robot.place_on(" not in p.system


def test_adapt_prompt_lists_retrieved_skills_in_order():
    skills = [
        Example("place_on", "def place_on(robot, obj, target):\n    pass\n", "Place on a target."),
        Example("pick_up", PICK_UP, "Pick up one object."),
    ]
    p = adapt_prompt("place the red cube on the green pad", ["red cube", "green pad"], skills)
    assert p.user.index("1. place_on") < p.user.index("2. pick_up")
    assert PICK_UP.strip() in p.user
    with pytest.raises(AgentError):
        adapt_prompt("x", [], [])


def test_retry_prompt_contains_previous_code_error_and_observation():
    code = (
        "import math\n\n\ndef stack(robot, top, base):\n    upper = robot.find(top)\n\n\n"
        "    robot.place_on(upper, robot.find('blue block'))\n"
    )
    error = (
        "SkillError: nothing in the scene matches 'blue block' (the scene has: red cube, blue cube)"
    )
    seen = "red cube at (0.52, 0.10, 0.00); blue cube at (0.45, -0.12, 0.00)"
    p = retry_prompt(
        code,
        error,
        seen,
        task_instruction="stack the red cube on the blue cube",
        scene_objects=["red cube", "blue cube"],
        name="stack",
    )
    assert code.strip() in p.user  # verbatim, blank lines included
    assert error in p.user and seen in p.user
    assert "stack the red cube on the blue cube" in p.user
    assert "robot.find(" in p.system
    assert p.user.index(code.strip()) < p.user.index(error)


def test_retry_prompt_without_observation_or_message():
    p = retry_prompt("def f(robot):\n    pass\n", "")
    assert "success check failed" in p.user and "observed" not in p.user


def test_plan_prompt_asks_for_a_json_list():
    p = plan_prompt(
        "build a tower",
        ["red cube", "blue cube", "green cube"],
        ["stack: stack one block on another"],
    )
    assert "JSON list of strings" in p.user
    assert "Instruction: build a tower" in p.user and "red cube, blue cube, green cube" in p.user
    assert "- stack: stack one block on another" in p.user
    assert "place_on(obj: Obj, target: Obj, phrase: str | None = None)" in p.system


def test_prompt_files_load_by_name():
    for name in (
        "system",
        "synthesize",
        "adapt",
        "retry",
        "plan",
        "plan_system",
        "api_facts",
        "goal_code",
        "goal_write",
        "goal_write_system",
    ):
        assert load_prompt(name).strip()
    with pytest.raises(AgentError, match="no prompt named"):
        load_prompt("nope")
    with pytest.raises(AgentError):
        load_prompt("../errors")


# -- goals: scene, API facts, skill code for a goal template, feedback, goal writing -------

STATE = State(
    (
        Body("red cube", "red", "cube", (0.52, -0.10, 0.0, math.radians(30))),
        Body("blue bowl", "blue", "bowl", (0.45, 0.15, 0.0, 0.0)),
        Body("green cube", "green", "cube", (0.60, 0.05, 0.0, 0.0)),
        Body("yellow plate", "yellow", "plate", (0.40, -0.20, 0.0, 0.0)),
        Body("cyan small cube", "cyan", "small cube", (0.40, -0.20, 0.012, math.radians(-45))),
        Body("pink cylinder", "pink", "cylinder", (0.55, 0.01, 0.10, 0.0), held=True),
    )
)
ROWS = [
    "| red cube | 0.520 | -0.100 | 0.000 | 30.0 | 0.040 x 0.040 x 0.040 | movable |",
    "| blue bowl | 0.450 | 0.150 | 0.000 | - | 0.150 x 0.150 x 0.050 | fixed, round |",
    "| green cube | 0.600 | 0.050 | 0.000 | 0.0 | 0.040 x 0.040 x 0.040 | movable |",
    "| yellow plate | 0.400 | -0.200 | 0.000 | - | 0.150 x 0.150 x 0.012 | fixed, round |",
    "| cyan small cube | 0.400 | -0.200 | 0.012 | -45.0 | 0.025 x 0.025 x 0.025 | movable |",
    "| pink cylinder | 0.550 | 0.010 | 0.100 | - | 0.040 x 0.040 x 0.050 | movable, round, in the gripper |",
]
PLACE_ON = (
    'def place_on(robot, obj, target):\n    """Put obj on target.\n\n    Goal: on(?obj, ?target)\n    """\n'
    "    robot.place_on(robot.find(obj), robot.find(target))\n"
)
GOAL = "right_of(red cube, blue bowl) and on(green cube, yellow plate) and far_from(red cube, green cube, 0.05)"


@dataclass(frozen=True)
class StoredSkill:
    """What a library version looks like to the prompt (skills.store.SkillVersion's fields)."""

    name: str
    code: str
    description: str
    goal_template: str | None = None


def atoms_of(goal: str) -> tuple[dict, ...]:
    return tuple(a.to_json() for a in evaluate(check(goal, STATE), STATE).atoms)


def test_scene_table_has_every_object_with_pose_size_and_notes():
    table = scene_table(STATE)
    for row in ROWS:
        assert row in table
    assert table.splitlines()[0].startswith("| object | x (m) | y (m) | z (m) | yaw (deg) |")
    assert scene_table(STATE.to_json()) == table  # the JSON form reads the same
    tipped = State((Body("red cube", "red", "cube", (0.5, 0.0, 0.0, 0.0), tilt=math.radians(80)),))
    assert "tipped over (80 deg)" in scene_table(tipped)


def test_api_reference_states_frame_sizes_limits_accuracy_and_exceptions():
    ref = api_reference()
    assert FRAME in ref
    for shape in SHAPES.values():
        w, d = (2 * f for f in shape.footprint)
        assert f"- {shape.name}: {w:.3f} x {d:.3f} x {shape.height:.3f}" in ref
    (tx, ty), (wx, wy) = TABLE, WORKSPACE
    assert f"x {tx[0]:.2f}..{tx[1]:.2f}, y {ty[0]:.2f}..{ty[1]:.2f}" in ref
    assert f"x {wx[0]:.2f}..{wx[1]:.2f}, y {wy[0]:.2f}..{wy[1]:.2f}" in ref
    assert f"At most {MAX_MOTIONS} arm motions" in ref
    for acc in (PLACE_ACCURACY, PUSH_ACCURACY):
        assert f"{100 * acc.mean:.2f} cm" in ref and f"95% within {100 * acc.p95:.2f} cm" in ref
    assert "SkillError" in ref and "except SkillError" in ref and "ends the run" in ref
    # every SkillError the robot module raises is listed, in words
    source = inspect.getsource(inspect.getmodule(Robot))
    assert len(skill_errors()) == len(
        set(re.findall(r"raise SkillError\(\s*(f?[\"'][^\n]*)", source))
    )
    for message in (
        "could not grasp the <description>",
        "is off the reachable table area",
        f"too many arm motions (more than {MAX_MOTIONS})",
        "pose out of reach",
    ):
        assert message in ref
    assert "0.005 <= z <= 0.6" in source  # the move_to range the facts state
    assert "z 0.005..0.6 m" in ref


def test_goal_code_prompt_carries_goal_scene_predicates_api_and_skills():
    skills = [
        StoredSkill(
            "put_left_of",
            "def put_left_of(robot, a, b):\n    pass\n",
            "Put a left of b.",
            goal_template="left_of(?a, ?b)",
        ),
        ("place_on", PLACE_ON, "Put obj on target."),
    ]
    p = goal_code_prompt(
        "put_right_of",
        "right_of(?a, ?b)",
        {"a": "red cube", "b": "blue bowl"},
        "right_of(red cube, blue bowl)",
        STATE,
        skills,
    )
    user = p.user
    assert "Goal template: right_of(?a, ?b)" in user
    assert "right_of(red cube, blue bowl)" in user
    assert "`put_right_of(robot, a='red cube', b='blue bowl')`" in user
    assert "def put_right_of(robot, a, b)" in user and "Goal: right_of(?a, ?b)" in user
    assert "other scenes" in user and "never write" in user  # any objects, not this scene
    assert "- right_of(a, b): a stands right of b (>= 3 cm, within 45 deg)" in user
    assert "at least 3 cm beyond b's center" in user  # its tolerance, from its module
    assert "left_side(a)" not in user  # only the goal's predicates
    assert FRAME in user
    for row in ROWS:
        assert row in user
    assert "1. put_left_of(robot, a, b)\n   Goal: left_of(?a, ?b)\n   Put a left of b." in user
    assert "2. place_on(robot, obj, target)\n   Goal: on(?obj, ?target)" in user
    assert PLACE_ON.strip() in user
    assert api_reference() in p.system and "$" not in p.system + user
    assert "previous attempt" not in user


def test_goal_code_prompt_takes_template_slot_pairs_numbers_and_colors():
    p = goal_code_prompt(
        "turn_by",
        "rotated_by(?a, ?n)",
        (("a", "red cube"), ("n", 45.0)),
        "rotated_by(red cube, 45)",
        STATE,
        [],
    )
    assert "`turn_by(robot, a='red cube', n=45.0)`" in p.user and "`n`: a number" in p.user
    p = goal_code_prompt(
        "all_on_table",
        "all(x in ?color things: on_table(x))",
        {"color": "red"},
        "all(x in red things: on_table(x))",
        STATE,
        [],
    )
    assert "`color`: a color word, here 'red'" in p.user and "on_table(a)" in p.user
    with pytest.raises(AgentError, match="not a name"):
        goal_code_prompt("f", "on(?a, ?b)", {"a b": "red cube"}, "on(red cube, blue bowl)", STATE)
    with pytest.raises(AgentError, match="snake_case"):
        goal_code_prompt(
            "Put It", "on(?a, ?b)", {"a": "red cube"}, "on(red cube, blue bowl)", STATE
        )


def test_retry_prompt_names_each_false_atom_with_its_numbers_the_error_and_the_calls():
    atoms = atoms_of(GOAL)
    false = [a for a in atoms if not a["value"]]
    assert len(false) == 2
    result = SandboxResult(
        "error",
        "SkillError: could not grasp the green cube (line 5)",
        False,
        1.0,
        goal=GOAL,
        atoms=atoms,
        objects=tuple(STATE.to_json()),
    )
    feedback = goal_feedback(result)
    code = "def put_right_of(robot, a, b):\n    robot.pick(robot.find(a))\n"
    p = goal_code_prompt(
        "put_right_of",
        "right_of(?a, ?b)",
        {"a": "red cube", "b": "blue bowl"},
        "right_of(red cube, blue bowl)",
        STATE,
        [],
        feedback=feedback,
        previous_code=code,
    )
    assert "previous attempt did not work" in p.user and code.strip() in p.user
    assert "SkillError: could not grasp the green cube (line 5)" in p.user
    for a in false:
        line = f"- {a['atom']}: {a['detail']} (off by {100 * -a['margin']:.1f} cm)"
        assert line in p.user
    assert re.search(r"25\.0 cm left of blue bowl, needs >= 3\.0 cm right", p.user)
    assert "True at the end: far_from(red cube, green cube, 0.05)" in p.user
    assert "- red cube: [0.52, -0.1, 0.0, 30.0] -> [0.52, -0.1, 0.0, 30.0]" in p.user
    # the robot's calls, when the result carries them
    logged = SimpleNamespace(
        **vars(result)
        | {
            "calls": [
                "find('red cube')",
                {"method": "pick", "args": ["<red cube>"], "error": "could not grasp the red cube"},
                {
                    "method": "place_at",
                    "args": {"obj": "<red cube>", "position": (0.5, 0.2)},
                    "result": None,
                },
            ]
        }
    )
    text = goal_feedback(logged)
    assert (
        "Robot calls the skill made:\n- find('red cube')\n- pick('<red cube>') -> raised could not grasp the red cube\n"
        in text
    )
    assert "- place_at(obj='<red cube>', position=(0.5, 0.2))" in text


def test_feedback_over_several_episodes_gives_the_first_in_full_and_counts_the_rest():
    atoms = atoms_of(GOAL)
    bad = SandboxResult("ok", None, False, 1.0, goal=GOAL, atoms=atoms)
    crash = SandboxResult("error", "SkillError: no free spot left on the table", False, 1.0)
    good = SandboxResult("ok", None, True, 1.0, goal=GOAL)
    text = goal_feedback([good, bad, crash, bad])
    assert text.startswith("3 of 4 episodes failed; the first:")
    assert text.count("right_of(red cube, blue bowl): red cube is 25.0 cm left") == 1
    assert "- 1 episode: error, SkillError: no free spot left on the table" in text
    assert "- 1 episode: right_of false" in text and "- 1 episode: on false" in text
    assert goal_feedback([good, good]) == "" and goal_feedback(good) == ""
    live = SimpleNamespace(
        status="ok",
        success=False,
        goal=GOAL,
        reason=None,
        atoms=evaluate(check(GOAL, STATE), STATE).atoms,
    )  # AtomResults
    assert (
        "- on(green cube, yellow plate): green cube's center is 25.5 cm outside"
        in goal_feedback(live)
    )
    rejected = goal_feedback(SandboxResult("rejected", "line 2: open() is not allowed", False, 0.0))
    assert rejected == "The code was rejected before it ran: line 2: open() is not allowed"


def test_goal_writing_prompt_has_grammar_predicates_frame_scene_and_examples():
    p = goal_writing_prompt("put the red cube to the right of the bowl", STATE)
    for pred in load().values():
        assert f"- {pred.signature()}: {pred.doc}" in p.system
    assert "all(x in SET: formula)" in p.system and "cubes except red cube" in p.system
    assert FRAME in p.system and "contradicts itself" in p.system
    assert "Instruction: put the red cube to the right of the bowl" in p.user
    for row in ROWS:
        assert row in p.user
    assert "```goal" in p.user and "refused" not in p.user
    examples = re.findall(r'^"[^"]+" -> (.+)$', p.system, re.M)
    assert len(examples) >= 6
    for formula in examples:
        parse(formula)  # every example is a formula of the language
    retry = goal_writing_prompt(
        "put the red cube right of the bowl",
        STATE,
        "no 'bowl' in the scene (it has: red cube, ...)",
        previous="right_of(red cube, bowl)",
    )
    assert "Your previous answer: right_of(red cube, bowl)" in retry.user
    assert "It was refused: no 'bowl' in the scene (it has: red cube, ...)" in retry.user


def test_predicate_reference_takes_tolerances_from_the_predicate_modules():
    text = predicate_reference(["on", "on"], tolerances=True)
    assert text.startswith("- on(a, b): ")
    assert "- on(a, block): a's center within 2 cm of the block's" in text
    assert "\n- on(a, tray | plate | pad): " in text
    assert "in_row" not in text


def test_the_accuracy_script_runs_and_agrees_with_the_stated_figures():
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "measure_accuracy.py"
    out = subprocess.run(
        [sys.executable, str(script), "--places", "2", "--pushes", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["place"]["trials"] == 2 and data["push"]["trials"] == 1
    assert data["place"]["max_m"] <= 2 * PLACE_ACCURACY.worst  # same seeds, same simulator
    assert data["push"]["max_m"] <= 2 * PUSH_ACCURACY.worst
