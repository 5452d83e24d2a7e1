"""The pose policy on goal templates: demonstrations with held-out combinations, the
seen/unseen evaluation, `policy goals train|eval`, and an open-world `run` whose every
step asks the policy for the step's phrase."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.policy.geometry import ImageSpec
from tests.agent.policy_helpers import SPEC, invoke, tiny_encoder, tiny_model

pytestmark = pytest.mark.usefixtures("one_thread", "fast_embeddings")


@pytest.fixture(scope="module")
def train_rows(tmp_path_factory):
    from agent.policy.goal_data import load_goal_demos

    home = tmp_path_factory.mktemp("gd")
    return home, load_goal_demos(home, "train", 16, ImageSpec())


def test_training_rows_never_hold_a_held_out_combination(train_rows):
    from agent.policy.goal_data import HELD_OUT_RELATIONS, RELATIONS, held_out

    _, data = train_rows
    assert len(data) >= 12 and not data.unseen.any()
    assert not set(data.samples.family) & set(HELD_OUT_RELATIONS)
    assert len(HELD_OUT_RELATIONS) >= 2 and set(HELD_OUT_RELATIONS) <= set(RELATIONS)
    for text, rel in zip(data.samples.instruction, data.samples.family, strict=True):
        color, shape = _colour_shape(text)
        assert not held_out(color, shape, rel), text
    assert all(s % 2 == 0 for s in data.samples.seed)  # training seeds are even
    assert data.samples.has_place.all() and np.isfinite(data.samples.pick).all()


def _colour_shape(phrase: str) -> tuple[str, str]:
    from agent.policy.goal_data import COLORS, SHAPES

    words = phrase.split(" the ", 1)[1]
    color = words.split()[0]
    assert color in COLORS
    rest = words[len(color) + 1 :]
    shape = "small cube" if rest.startswith("small cube") else rest.split()[0]
    assert shape in SHAPES
    return color, shape


def test_test_rows_hold_seen_and_unseen_goals_and_the_cache_is_read_back(train_rows):
    from agent.policy import goal_data
    from agent.policy.goal_data import goal_dataset_path, load_goal_demos

    home, first = train_rows
    test = load_goal_demos(home, "test", 8, ImageSpec())
    assert test.unseen.any() and not test.unseen.all()
    assert all(s % 2 == 1 for s in test.samples.seed)
    assert goal_dataset_path(home, "train", 16, ImageSpec()).exists()
    again = goal_data.GoalSamples.load(goal_dataset_path(home, "train", 16, ImageSpec()))
    assert list(again.samples.instruction) == list(first.samples.instruction)
    assert np.array_equal(again.samples.place, first.samples.place)


def test_a_held_out_combination_is_never_drawn_for_training():
    from agent.policy.goal_data import held_out, sample_case

    rng = np.random.default_rng(0)
    cases = [sample_case(rng, False) for _ in range(200)]
    assert not any(held_out(c.color, c.shape, c.relation) for c in cases)
    unseen = [sample_case(rng, True) for _ in range(50)]
    assert all(c.unseen for c in unseen)


def _tiny_trained(home, rows):
    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.loop import FitConfig, fit
    from agent.policy.prepare import prepare
    from agent.policy.settings import Optim

    data = prepare(rows.samples, SPEC, tiny_encoder())
    res = fit(tiny_model(), data, FitConfig(3, Optim(threads=1, batch_size=4)), name="goals")
    return save_checkpoint(home, res.model, SPEC, tiny_encoder().name, {"families": []})


def test_goals_eval_reports_seen_and_unseen_apart(train_rows, tmp_path):
    home, rows = train_rows
    _tiny_trained(tmp_path, rows)
    code, out, err = invoke(tmp_path, "policy", "goals", "eval", "--episodes", "4", "--oracle")
    assert code == 0, err
    res = json.loads(out)
    assert res["seen"]["n"] + res["unseen"]["n"] == res["n"] >= 3
    assert res["seen"]["oracle_sim"] == 1.0 or res["seen"]["n"] == 0  # the plan itself works
    for group in ("seen", "unseen"):
        assert all(0.0 <= res[group][k] <= 1.0 for k in ("proxy", "sim") if res[group]["n"])


def test_an_open_world_run_asks_the_policy_every_steps_phrase(train_rows, tmp_path, scenes):
    from agent.evaluate.evaluator import Evaluator, LocalExecutor
    from agent.loop import Agent
    from agent.plan.planner import OfflinePlanner
    from agent.run.records import RunStore
    from agent.synth.synthesizer import OfflineSynthesizer
    from skills.embed import HashEmbedder
    from skills.index import MemoryIndex
    from skills.library import SkillLibrary
    from skills.poses import ProviderSpec

    _, rows = train_rows
    info = _tiny_trained(tmp_path, rows)
    log = tmp_path / "asked.txt"
    spec = ProviderSpec(
        "tests.agent.recording_provider:provider",
        {"home": str(tmp_path), "version": info.version, "log": str(log)},
    )
    library = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex(), install_seeds=True)
    runs, oracle, runner = RunStore(tmp_path), LocalExecutor(1), LocalExecutor(1, provider=spec)
    try:
        agent = Agent(
            library,
            Evaluator(oracle, episodes=1, pass_bar=1.0),
            OfflinePlanner(),
            OfflineSynthesizer(),
            runs,
            scenes,
            runner=runner,
            perception="policy",
        )
        record = agent.run(
            "put the red cube left of the blue bowl", objects="red cube, blue bowl", seed=2
        )
    finally:
        runner.close()
        oracle.close()
        runs.close()
        library.close()
    assert record.perception == "policy"
    asked = log.read_text().splitlines()
    step = asked.index("put the red cube left of the blue bowl")  # the step's phrase
    assert asked[step - 1] == "oracle grasp of the red cube"  # asked for the step it serves
    assert not any(a.startswith(("place the", "stack the")) for a in asked)  # no family's


def test_a_goal_template_checkpoint_replays_its_own_demonstrations(train_rows, tmp_path):
    """A fine-tune of a checkpoint trained on goal templates (self-supervised rows, or
    corrections) lets the strategy observe the home's cached goal demonstrations: replay
    has something to replay, and the child checkpoint says it still knows goal templates."""
    import shutil

    from agent.policy.finetune import _known_data, known_goal_samples
    from agent.policy.policy import Policy

    home, rows = train_rows
    mine = tmp_path / "home"
    shutil.copytree(home, mine)  # its cached 16-seed training set
    plain = Policy(tiny_model(), SPEC, tiny_encoder(), 1, info={"families": []})
    assert known_goal_samples(mine, plain) is None and _known_data(mine, plain, [])[0] is None
    goal = Policy(tiny_model(), SPEC, tiny_encoder(), 1, info={"goal_templates": True})
    old, _ = _known_data(mine, goal, [])
    assert old is not None and len(old) == len(rows)  # every cached row (16 seeds < 600)


@pytest.mark.parametrize("flag", ["--augment", "--no-augment"])
def test_goals_train_turns_and_shifts_rows_only_when_asked(train_rows, tmp_path, monkeypatch, flag):
    """`policy goals train --augment` trains on turned and shifted rows (`augment.Augment`,
    which keeps directions unturned); without it every batch is as rendered."""
    import shutil

    from agent.policy import loop
    from agent.policy.augment import Augment
    from agent.policy.goal_data import goal_dataset_path

    home, _ = train_rows
    src = goal_dataset_path(home, "train", 16, ImageSpec())
    dst = goal_dataset_path(tmp_path, "train", 16, ImageSpec())
    dst.parent.mkdir(parents=True)
    shutil.copy(src, dst)
    seen = []
    real_fit = loop.fit

    def spy(net, data, config, **kw):  # the tiny model: the test's embeddings are small
        seen.append(config.augment)
        return real_fit(tiny_model(), data, config, **kw)

    monkeypatch.setattr(loop, "fit", spy)
    args = ("--n-train", "16", "--steps", "2", "--n-test", "2", "--no-sim", "--threads", "1")
    code, out, err = invoke(tmp_path, "policy", "goals", "train", *args, flag)
    assert code == 0, err
    (augment,) = seen
    assert isinstance(augment, Augment) if flag == "--augment" else augment is None
    manifest = json.loads((tmp_path / "policy" / "checkpoints" / "v0001.json").read_text())
    assert manifest["augment"] is (flag == "--augment")
