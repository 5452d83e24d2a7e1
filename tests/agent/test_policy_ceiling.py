"""What raised the pose policy's ceiling on goal templates: step phrases split into their
roles (the relation word kept where it tells places apart), match queries that read those
roles (an option), and a cosine learning-rate schedule; old checkpoints keep their
architecture."""

from __future__ import annotations

import math

import pytest
import torch

from agent.errors import AgentError
from tests.agent.policy_helpers import TINY_DIM, tiny_encoder

# Every family's instruction splits as it did before the goal templates' words were added.
FAMILY_SPLITS = {
    "stack the red cube on the blue cube": ("stack the red cube", "the blue cube"),
    "rotate the red cube by 45 degrees": ("rotate the red cube", "45 degrees"),
    "put the red cube in the blue bowl": ("put the red cube", "the blue bowl"),
    "push the red cube into the blue zone": ("push the red cube", "the blue zone"),
    "align the red cube with the blue cube": ("align the red cube", "the blue cube"),
    "pick up the red cube": ("pick up the red cube", ""),
    "line up the red cube, the green cube and the blue cube from left to right": (
        "line up the red cube, the green cube and the blue cube from left",
        "right",
    ),
    "build a tower with the red cube at the bottom, then the blue cube, then the green cube": (
        "build a tower",
        "the red cube at the bottom, then the blue cube, then the green cube",
    ),
}


@pytest.mark.parametrize("text", sorted(FAMILY_SPLITS))
def test_family_instructions_split_as_before(text):
    from agent.policy.embed import split_instruction

    assert split_instruction(text)[1:] == FAMILY_SPLITS[text]


@pytest.mark.parametrize(
    ("text", "what", "where"),
    [
        ("put the red cube left of the blue bowl", "put the red cube", "left of the blue bowl"),
        ("put the red cube right of the blue bowl", "put the red cube", "right of the blue bowl"),
        ("put the red cube behind the blue cube", "put the red cube", "behind the blue cube"),
        ("put the red cube next to the blue cube", "put the red cube", "next to the blue cube"),
        (
            "put the red cube at least 20 cm from the blue plate",
            "put the red cube",
            "at least 20 cm from the blue plate",
        ),
        (
            "put the red cube at the front of the table",
            "put the red cube",
            "at the front of the table",
        ),
        ("rotate the red cube -30 degrees", "rotate the red cube", "-30 degrees"),
        (
            "put the red cube in front of the blue cube",
            "put the red cube",
            "front of the blue cube",
        ),
    ],
)
def test_goal_step_phrases_split_into_what_and_where(text, what, where):
    from agent.policy.embed import split_instruction

    assert split_instruction(text) == (text, what, where)


def test_left_and_right_of_differ_in_the_where_part_not_the_object_part():
    enc = tiny_encoder()
    a, b = enc(
        ["put the red cube left of the blue bowl", "put the red cube right of the blue bowl"]
    )
    d = enc.part_dim
    assert (a[d : 2 * d] == b[d : 2 * d]).all()  # the object: the same
    assert not (a[2 * d :] == b[2 * d :]).all()  # where to: not


def test_role_queries_read_the_object_part_for_the_pick_and_the_where_part_for_the_place():
    from agent.policy.model import ModelConfig, PoseNet

    torch.manual_seed(0)
    net = PoseNet(
        ModelConfig(text_dim=3 * TINY_DIM, film_dim=8, channels=(8, 8, 8), role_queries=True)
    )
    with torch.no_grad():  # only the role layers left: each query sees its own part only
        net.pick_text.weight.zero_()
        net.place_text.weight.zero_()
    emb = torch.randn(2, 3 * TINY_DIM)
    other_where = emb.clone()
    other_where[:, 2 * TINY_DIM :] = torch.randn(2, TINY_DIM)
    other_what = emb.clone()
    other_what[:, TINY_DIM : 2 * TINY_DIM] = torch.randn(2, TINY_DIM)
    pick, place = net._queries(emb)
    p2, q2 = net._queries(other_where)
    assert torch.equal(pick, p2) and not torch.allclose(place, q2)
    p3, q3 = net._queries(other_what)
    assert not torch.allclose(pick, p3) and torch.equal(place, q3)


def test_a_config_saved_before_role_queries_builds_the_old_network_and_loads_its_weights():
    from agent.policy.model import ModelConfig, PoseNet

    cfg = ModelConfig(text_dim=3 * TINY_DIM, film_dim=8, channels=(8, 8, 8), role_queries=True)
    assert not ModelConfig().role_queries
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    old_dict = {k: v for k, v in cfg.to_dict().items() if k != "role_queries"}
    old_cfg = ModelConfig.from_dict(old_dict)
    assert not old_cfg.role_queries
    old = PoseNet(old_cfg)
    assert not any(n.startswith(("pick_what", "place_where")) for n, _ in old.named_parameters())
    again = PoseNet(ModelConfig.from_dict(old_dict))
    again.load_state_dict(old.state_dict())  # strict: the same layers, nothing new
    with pytest.raises(RuntimeError):
        PoseNet(cfg).load_state_dict(old.state_dict())


def test_cosine_schedule_warms_up_then_decays_to_zero():
    from agent.policy.loop import lr_factor

    f = lr_factor("cosine", 100)
    assert f(0) == pytest.approx(0.2 * 0.5 * (1 + math.cos(0)))
    assert f(4) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.04)))
    assert f(50) == pytest.approx(0.5)
    assert f(99) < 0.01
    assert all(f(s) >= f(s + 1) for s in range(5, 99))
    assert lr_factor("constant", 100)(99) == 1.0
    with pytest.raises(AgentError, match="schedule"):
        lr_factor("linear", 100)


def test_fit_follows_the_schedule_and_takes_zero_steps():
    from agent.policy.loop import FitConfig, fit, lr_factor
    from agent.policy.settings import Optim
    from tests.agent.policy_helpers import tiny_model

    seen: list[float] = []
    torch.manual_seed(0)
    model = tiny_model()
    data = _tiny_data()
    optim = Optim(lr=1e-3, batch_size=2, threads=1)
    fit(model, data, FitConfig(0, optim, schedule="cosine"))  # observing: no division by zero
    orig = torch.optim.Adam.step

    def spy(self, *a, **k):
        seen.append(self.param_groups[0]["lr"])
        return orig(self, *a, **k)

    torch.optim.Adam.step = spy
    try:
        fit(model, data, FitConfig(4, optim, schedule="cosine"))
    finally:
        torch.optim.Adam.step = orig
    f = lr_factor("cosine", 4)
    assert seen == pytest.approx([1e-3 * f(s) for s in range(4)])
    assert seen[-1] < 0.2 * seen[0]


def _tiny_data():
    from agent.policy.data import make_demos
    from agent.policy.geometry import ImageSpec
    from agent.policy.prepare import prepare

    spec = ImageSpec()
    return prepare(make_demos("place", [0, 2], spec), spec, tiny_encoder())
