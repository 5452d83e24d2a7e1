"""Continual-learning strategies, each through the one training loop (`loop.fit`).

Two tiny experiences from real rendered scenes (4 "place" scenes, then 4 "pick" scenes),
a PoseNet a few channels wide and a hashing embedder: every test checks what a strategy
is for, on numbers it can compute itself.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch

from agent.errors import AgentError
from agent.policy.loop import FitConfig, fit, supervised_loss
from agent.policy.losses import forward
from agent.policy.prepare import Prepared
from agent.policy.settings import Optim
from agent.policy.strategies import (
    STRATEGIES,
    StepContext,
    Strategy,
    TaskContext,
    make_strategies,
)
from tests.agent.policy_helpers import SPEC, tiny_encoder, tiny_model

# Hooks called outside `fit` run with torch's own thread count: one thread.
pytestmark = pytest.mark.usefixtures("one_thread")
CFG = FitConfig(steps=3, optim=Optim(batch_size=4, lr=2e-3, seed=0, threads=1))


@pytest.fixture(scope="module")
def tasks(world) -> tuple[Prepared, Prepared]:
    """Experience 0 ("place", 4 scenes) and experience 1 ("pick", 4 scenes)."""
    from agent.policy.data import make_demos, split_seeds
    from agent.policy.prepare import prepare

    enc = tiny_encoder()
    seeds = split_seeds("train", 4)
    return (
        prepare(make_demos("place", seeds, SPEC, world), SPEC, enc, task=0),
        prepare(make_demos("pick", seeds, SPEC, world), SPEC, enc, task=1),
    )


def state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def flat(d: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([v.flatten() for v in d.values()])


class Probe(Strategy):
    """Records what the loop shows a plugin (put before or after the strategy under test)."""

    def __init__(self, log: list | None = None, tag: str = "probe") -> None:
        self.log = log if log is not None else []
        self.tag = tag
        self.batches: list = []
        self.grads: list[dict[str, torch.Tensor]] = []
        self.weights: list[dict[str, torch.Tensor]] = []

    def before_task(self, ctx):
        self.log.append((self.tag, "before_task"))

    def extra_loss(self, step):
        self.log.append((self.tag, "extra_loss"))
        self.batches.append(step.batch)

    def after_backward(self, step, grads):
        self.log.append((self.tag, "after_backward"))
        self.grads.append({n: g.detach().clone() for n, g in grads.items()})
        self.weights.append(state(step.task.model))

    def after_task(self, ctx):
        self.log.append((self.tag, "after_task"))


class Spy(Strategy):
    """Wraps a strategy and records the value of each extra loss it returns."""

    def __init__(self, inner: Strategy) -> None:
        self.inner = inner
        self.extras: list[float | None] = []

    def before_task(self, ctx):
        return self.inner.before_task(ctx)

    def extra_loss(self, step):
        e = self.inner.extra_loss(step)
        self.extras.append(None if e is None else float(e.detach()))
        return e

    def after_backward(self, step, grads):
        return self.inner.after_backward(step, grads)

    def after_task(self, ctx):
        return self.inner.after_task(ctx)


def step_context(model, data: Prepared, index: int = 1, loss_fn=supervised_loss, rows=4, seed=0):
    """A StepContext for calling a hook directly, as the loop would."""
    gen = torch.Generator().manual_seed(seed)
    ctx = TaskContext(index, "t", model, data, loss_fn, rows, gen)
    batch = data.batch([i % len(data) for i in range(rows)])
    out = forward(model, batch)
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    return StepContext(ctx, batch, out, loss_fn(model, batch), params, 0)


def tiny_prepared(n: int, start: int = 0, task: int = 0) -> Prepared:
    """A Prepared set of `n` 2x2 rows whose `pick_cell` is the row's id (for buffers)."""
    z = torch.zeros
    return Prepared(
        rgb=z(n, 3, 2, 2, dtype=torch.uint8),
        height=z(n, 2, 2, dtype=torch.float16),
        orient=z(n, 2, 2, 2, dtype=torch.float16),
        emb=z(n, 3),
        pick_cell=torch.arange(start, start + n),
        pick_off=z(n, 2),
        pick_h=z(n),
        pick_rot=z(n),
        place_cell=z(n, dtype=torch.long),
        place_off=z(n, 2),
        place_h=z(n),
        place_rot=z(n),
        rot_w=z(n),
        has_place=z(n, dtype=torch.bool),
        task=torch.full((n,), task, dtype=torch.long),
        frame=z(n, dtype=torch.long),
    )


# -- the loop and the names ------------------------------------------------------------------
def test_loop_calls_the_hooks_in_order(tasks):
    log: list = []
    fit(
        tiny_model(),
        tasks[0],
        FitConfig(2, Optim(batch_size=4, threads=1)),
        [Probe(log, "a"), Probe(log, "b")],
    )
    step = [
        ("a", "extra_loss"),
        ("b", "extra_loss"),
        ("a", "after_backward"),
        ("b", "after_backward"),
    ]
    assert log == [
        ("a", "before_task"),
        ("b", "before_task"),
        *step,
        *step,
        ("a", "after_task"),
        ("b", "after_task"),
    ]


def test_loop_trains_on_each_steps_augmented_batch(tasks):
    seen = []

    def flip(batch, gen):  # a stand-in augmentation: zero the image, record the rows
        seen.append(len(batch))
        return dataclasses.replace(batch, x=torch.zeros_like(batch.x))

    probe = Probe()
    fit(tiny_model(), tasks[0], FitConfig(3, Optim(batch_size=4, threads=1), augment=flip), [probe])
    assert seen == [4, 4, 4]
    assert all(float(b.x.abs().sum()) == 0 for b in probe.batches)


def test_loop_refuses_empty_data_and_a_frozen_model(tasks):
    from agent.policy.strategies import TaskPlan

    with pytest.raises(AgentError, match="no training data"):
        fit(tiny_model(), tasks[0].take([]), CFG)

    class FreezeAll(Strategy):
        def before_task(self, ctx):
            return TaskPlan(trainable=())

    with pytest.raises(AgentError, match="nothing to train"):
        fit(tiny_model(), tasks[0], CFG, [FreezeAll()])


def test_strategy_names():
    assert set(STRATEGIES) == {
        "naive",
        "cumulative",
        "joint",
        "replay",
        "der",
        "lwf",
        "ewc",
        "agem",
        "spg",
        "lora",
        "ema",
    }
    for name in STRATEGIES:
        (plugin,) = make_strategies(name)
        assert plugin.name == name
    assert [p.name for p in make_strategies(" replay + lwf ")] == ["replay", "lwf"]
    assert [p.name for p in make_strategies("naive+ewc")] == ["ewc"]  # naive adds nothing
    with pytest.raises(AgentError, match="joint is the multi-task bound"):
        make_strategies("joint+ewc")


@pytest.mark.parametrize("spec", ["ewk", "replay+magic", "", "+", "REPLAY"])
def test_unknown_strategy_names_give_one_line(spec):
    with pytest.raises(AgentError) as exc:
        make_strategies(spec)
    msg = str(exc.value)
    assert "\n" not in msg and ("unknown strategy" in msg or msg == "no strategy given")
    if spec.strip("+"):
        assert "known: naive, cumulative, joint, replay" in msg


@pytest.mark.parametrize("name", [*STRATEGIES, "replay+lwf"])
def test_every_strategy_runs_two_experiences(tasks, name):
    """Every registered strategy (a new one too) trains through two experiences, ends
    with finite outputs and reports its buffer size."""
    plugins = make_strategies(name)
    model = fit(tiny_model(), tasks[0], CFG, plugins).model
    res = fit(model, tasks[1], CFG, plugins, index=1)
    assert res.steps == CFG.steps and math.isfinite(res.final_loss)
    with torch.no_grad():
        out = forward(res.model, tasks[1].batch([0, 1]))
    assert all(torch.isfinite(t).all() for t in out)
    assert all("buffer_size" in p.info() for p in plugins)


def test_naive_is_plain_fine_tuning(tasks):
    a = fit(tiny_model(), tasks[0], CFG).model
    b = fit(tiny_model(), tasks[0], CFG, make_strategies("naive")).model
    init = tiny_model()
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    assert not all(torch.equal(v, b.state_dict()[k]) for k, v in init.state_dict().items())


# -- reservoir and replay --------------------------------------------------------------------
def test_reservoir_keeps_a_uniform_sample_within_capacity():
    from agent.policy.strategies.buffer import Reservoir

    chunks, size, capacity, trials = 4, 50, 20, 300
    held = np.zeros(chunks * size)
    for seed in range(trials):
        r = Reservoir(capacity, seed)
        for c in range(chunks):
            rows = tiny_prepared(size, c * size)
            r.offer(rows, {"id": rows.pick_cell * 10})
            assert len(r) == min(capacity, (c + 1) * size) and r.seen == (c + 1) * size
        ids = r.data.pick_cell
        assert len(set(ids.tolist())) == capacity  # no row twice
        assert torch.equal(r.extra["id"], ids * 10)  # extra tensors stay with their rows
        held[ids.numpy()] += 1
    # Every row seen was kept with probability capacity / seen = 0.1, early or late.
    share = held.reshape(chunks, size).mean(1) / trials
    np.testing.assert_allclose(share, capacity / (chunks * size), atol=0.012)


def test_reservoir_errors():
    from agent.policy.strategies.buffer import Reservoir

    with pytest.raises(AgentError, match="capacity must be >= 1"):
        Reservoir(0)
    with pytest.raises(AgentError, match="empty"):
        Reservoir(3).sample(2, torch.Generator())


@pytest.mark.parametrize("mix", [0.0, 0.009, 0.21, 0.5, 1.0])
def test_replay_refuses_a_mix_outside_1_to_20_percent(mix):
    from agent.policy.strategies.replay import Replay

    with pytest.raises(AgentError) as exc:
        Replay(mix=mix)
    assert "between 0.01 and 0.2" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("mix", [0.01, 0.05, 0.2])
def test_replay_mixes_the_configured_share_of_old_rows(mix):
    from agent.policy.strategies.replay import Replay

    replay, rows = Replay(mix=mix), 16
    gen = torch.Generator().manual_seed(0)
    k = np.array([replay.replay_rows(rows, gen) for _ in range(20000)])
    x = mix * rows / (1 - mix)  # replayed rows per step for a share of `mix`
    assert set(k.tolist()) <= {math.floor(x), math.floor(x) + 1}
    assert k.sum() / (k.sum() + rows * len(k)) == pytest.approx(mix, rel=0.05)


def test_replay_replays_only_after_the_first_experience(tasks):
    from agent.policy.strategies.replay import Replay

    spy = Spy(Replay(mix=0.2))
    model = fit(tiny_model(), tasks[0], CFG, [spy]).model
    assert spy.extras == [None] * CFG.steps  # nothing to replay yet
    # With a loss of 1 per row, the extra loss is (replayed rows) / (rows of the step):
    # 4 buffer rows (all from experience 0) beside 16 new ones make 20%.
    seen = []

    def ones(m, batch):
        seen.append(batch.task)
        return torch.ones(len(batch))

    step = step_context(model, tasks[1], loss_fn=ones, rows=16)
    seen.clear()
    assert spy.inner.extra_loss(step) == pytest.approx(4 / 16)
    assert torch.cat(seen).tolist() == [0] * 4
    fit(model, tasks[1], CFG, [spy], index=1)
    assert all(e is not None and e > 0 for e in spy.extras[CFG.steps :])
    assert sorted(spy.inner.buffer.data.task.tolist()) == [0] * 4 + [1] * 4
    assert spy.inner.info() == {"buffer_size": 8, "offered": 8}


# -- DER -------------------------------------------------------------------------------------
def test_der_stores_outputs_and_pulls_towards_them(tasks):
    from agent.policy.strategies.der import DER, _flat

    der = DER(capacity=3, alpha=1.0, beta=0.0)
    model = fit(tiny_model(), tasks[0], CFG, [der]).model
    assert len(der.buffer) == 3 and der.info() == {"buffer_size": 3, "offered": 4}
    with torch.no_grad():
        now = _flat(forward(model, der.buffer.data.batch(range(3))))
    stored = der.buffer.extra["outputs"].float()
    assert stored.shape == now.shape
    torch.testing.assert_close(stored, now, rtol=2e-3, atol=2e-3)  # kept as float16
    step = step_context(model, tasks[1], rows=16)  # 4 replayed rows: 2 per draw
    assert float(der.extra_loss(step).detach()) < 1e-5  # same weights: outputs match
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    assert float(der.extra_loss(step).detach()) > 1e-3
    # beta weighs the supervised loss on the label draw (the second, independent one).
    der.alpha, der.beta = 0.0, 1.0
    loss = float(der.extra_loss(step_context(model, tasks[1], rows=16, seed=5)).detach())
    gen = torch.Generator().manual_seed(5)
    n_out, n_lab = der.split(16, gen)
    assert (n_out, n_lab) == (2, 2)
    der.buffer.sample(n_out, gen)
    batch, _ = der.buffer.sample(n_lab, gen)
    assert loss == pytest.approx(float(supervised_loss(model, batch).mean().detach()), rel=1e-5)


# -- LwF -------------------------------------------------------------------------------------
def test_lwf_distils_from_a_frozen_copy_of_the_previous_model(tasks):
    from agent.policy.strategies.lwf import LwF

    lwf = Spy(LwF(weight=1.0))
    model = fit(tiny_model(), tasks[0], CFG, [lwf]).model
    assert lwf.inner.teacher is None and lwf.extras == [None] * CFG.steps
    after0 = state(model)
    fit(model, tasks[1], CFG, [lwf], index=1)
    teacher = lwf.inner.teacher
    assert teacher is not model and not any(p.requires_grad for p in teacher.parameters())
    assert all(torch.equal(v, after0[k]) for k, v in teacher.state_dict().items())
    extras = lwf.extras[CFG.steps :]
    assert extras[0] == pytest.approx(0.0, abs=1e-9)  # at the teacher's weights
    assert all(e > 0 for e in extras[1:])  # the student has moved
    # Directly: zero at the teacher's weights, positive after a perturbation.
    student = copy.deepcopy(teacher).requires_grad_(True)
    assert float(lwf.inner.extra_loss(step_context(student, tasks[1])).detach()) == pytest.approx(
        0, abs=1e-9
    )
    with torch.no_grad():
        student.pick_head.bias.add_(torch.tensor([3.0, 0.5, 0.5, 0.0]))
    assert float(lwf.inner.extra_loss(step_context(student, tasks[1])).detach()) > 1e-4


# -- EWC -------------------------------------------------------------------------------------
def test_ewc_penalty_is_quadratic_and_weighted_by_fisher():
    from agent.policy.strategies.ewc import OnlineEWC

    ewc = OnlineEWC(lam=2.0)
    ewc.anchor = {"w": torch.zeros(2), "v": torch.ones(1)}
    ewc.fisher = {"w": torch.tensor([1.0, 3.0]), "v": torch.tensor([5.0])}
    at = {"w": torch.zeros(2), "v": torch.ones(1), "free": torch.full((3,), 9.0)}
    assert float(ewc.penalty(at)) == 0.0  # no Fisher for "free": never penalised
    # lambda / 2 * (1 * 1^2 + 3 * 2^2) = 13
    assert float(ewc.penalty({"w": torch.tensor([1.0, 2.0]), "v": torch.ones(1)})) == 13.0
    assert float(ewc.penalty({"w": torch.tensor([2.0, 4.0]), "v": torch.ones(1)})) == 52.0
    # The same distance costs more where the Fisher information is larger.
    assert float(ewc.penalty({"w": torch.tensor([0.0, 1.0]), "v": torch.ones(1)})) > float(
        ewc.penalty({"w": torch.tensor([1.0, 0.0]), "v": torch.ones(1)})
    )


def test_ewc_anchors_after_each_experience_and_pulls_back(tasks):
    from agent.policy.strategies.ewc import OnlineEWC

    ewc = Spy(OnlineEWC(lam=50.0, gamma=0.5, samples=4))
    model = fit(tiny_model(), tasks[0], CFG, [ewc]).model
    e = ewc.inner
    params = dict(model.named_parameters())
    assert set(e.fisher) == set(params) and ewc.extras == [None] * CFG.steps
    assert all((f >= 0).all() for f in e.fisher.values()) and flat(e.fisher).sum() > 0
    assert all(torch.equal(e.anchor[n], p.detach()) for n, p in params.items())
    assert float(e.penalty(params).detach()) == 0.0
    fisher0 = {n: f.clone() for n, f in e.fisher.items()}
    fit(model, tasks[1], CFG, [ewc], index=1)
    extras = ewc.extras[CFG.steps :]
    assert extras[0] == 0.0 and all(x > 0 for x in extras[1:])  # away from the anchor
    # Online: the new estimate adds to the decayed old one.
    grown = flat({n: e.fisher[n] - 0.5 * fisher0[n] for n in fisher0})
    assert (grown >= -1e-12).all() and grown.sum() > 0
    assert all(torch.equal(e.anchor[n], p.detach()) for n, p in model.named_parameters())


# -- A-GEM -----------------------------------------------------------------------------------
def test_agem_projection_by_hand():
    from agent.policy.strategies.agem import project

    g = {"a": torch.tensor([1.0, 0.0]), "b": torch.tensor([2.0])}
    ref = {"a": torch.tensor([-1.0, 1.0]), "b": torch.tensor([0.0])}
    new, changed = project(g, ref)  # g . ref = -1 < 0: g - (-1 / 2) ref
    assert changed
    torch.testing.assert_close(new["a"], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(new["b"], torch.tensor([2.0]))
    assert float(sum((new[n] * ref[n]).sum() for n in ref)) == pytest.approx(0.0, abs=1e-7)
    same, changed = project(g, {"a": torch.tensor([1.0, 5.0]), "b": torch.tensor([-0.1])})
    assert not changed and same is g  # already agrees with the reference: untouched


def test_agem_gradients_never_oppose_the_memory(tasks):
    from agent.policy.strategies.agem import AGEM

    agem = AGEM(capacity=4, rows=4)
    model = fit(tiny_model(), tasks[0], FitConfig(2, Optim(batch_size=4, threads=1)), [agem]).model
    assert len(agem.buffer) == 4 and agem.projected == 0  # nothing to protect yet
    raw, out, refs = Probe(), Probe(), []

    class Ref(Strategy):
        def after_backward(self, step, grads):
            refs.append(dict(agem.last_ref))

    fit(
        model,
        tasks[1],
        FitConfig(6, Optim(batch_size=4, lr=0.05, threads=1)),
        [raw, agem, Ref(), out],
        index=1,
    )
    assert len(refs) == 6 and all(refs)
    for g0, g1, ref in zip(raw.grads, out.grads, refs, strict=True):
        d0 = float(sum((g0[n] * ref[n]).sum() for n in ref))
        d1 = float(sum((g1[n] * ref[n]).sum() for n in ref))
        assert d1 >= -1e-6 * float(flat(ref).norm() * flat(g1).norm())
        if d0 >= 0:  # unchanged
            assert all(torch.equal(g0[n], g1[n]) for n in g0)
        else:
            assert d1 == pytest.approx(0.0, abs=1e-5 * abs(d0))
    assert 1 <= agem.projected < 6  # both branches above were taken
    assert agem.projected == sum(
        float(sum((g0[n] * r[n]).sum() for n in r)) < 0
        for g0, r in zip(raw.grads, refs, strict=True)
    )
    assert agem.info()["buffer_size"] == 4


# -- SPG -------------------------------------------------------------------------------------
def test_spg_scales_gradients_and_updates_down_by_importance(tasks):
    from agent.policy.strategies.spg import SPG

    spg = SPG(samples=4, rows=2)
    model = fit(tiny_model(), tasks[0], CFG, [spg]).model
    imp = {n: v.clone() for n, v in spg.importance.items()}  # after_task will update it
    assert set(imp) == {n for n, _ in model.named_parameters()}
    every = flat(imp)
    assert (every >= 0).all() and (every <= 1).all()  # tanh: 1.0 in float32 far out
    assert (every < 0.01).any() and (every > 0.5).any()  # some free, some protected
    # Gradients are masked by (1 - importance) ...
    raw, out = Probe(), Probe()
    once = copy.deepcopy(spg)  # after_task raises the importances: keep spg's for below
    fit(
        copy.deepcopy(model),
        tasks[1],
        FitConfig(2, Optim(batch_size=4, threads=1)),
        [raw, once, out],
        index=1,
    )
    for g0, g1 in zip(raw.grads, out.grads, strict=True):
        for n, g in g0.items():
            torch.testing.assert_close(g1[n], g * (1 - imp[n]))
    # ... and so are the updates (Adam would normalise a gradient factor away): one step
    # from the same weights on the same batch, with and without SPG. Adam's first step is
    # lr * g / (|g| + eps) after clipping: compared where the clipped gradient dwarfs eps.
    start = state(model)
    plain, masked = copy.deepcopy(model), copy.deepcopy(model)
    one = FitConfig(1, Optim(batch_size=4, lr=0.01, clip=5.0, threads=1))
    fit(plain, tasks[1], one, index=1)
    fit(masked, tasks[1], one, [spg], index=1)
    clip = min(1.0, 5.0 / float(flat(raw.grads[0]).norm()))
    free = protected = 0
    for n, p in masked.named_parameters():
        step, plain_step = p.detach() - start[n], plain.state_dict()[n] - start[n]
        big = raw.grads[0][n].abs() * clip > 1e-5
        bound = (1 - imp[n]) * plain_step.abs() * 1.01 + 1e-7
        assert (step.abs() <= bound)[big].all(), n  # at most (1 - importance) of the step
        same = big & (imp[n] < 1e-3)  # a free weight takes (nearly) the plain step
        torch.testing.assert_close(step[same], plain_step[same], rtol=2e-3, atol=1e-7)
        free += int(same.sum())
        protected += int((big & (imp[n] > 0.5)).sum())
    assert free > 10 and protected > 100
    # Importance accumulates by element-wise max: nothing becomes less important.
    spg2 = SPG(samples=4, rows=2)
    spg2.importance = {n: torch.full_like(v, 0.99) for n, v in imp.items()}
    fit(model, tasks[1], FitConfig(1, Optim(batch_size=4, threads=1)), [spg2], index=2)
    assert all((v >= 0.99).all() for v in spg2.importance.values())


def test_spg_protects_what_the_first_task_needed(tasks):
    """Over several Adam steps the important weights move much less than without SPG
    (scaling their gradients instead would not: Adam normalises it away)."""
    from agent.policy.strategies.spg import SPG

    spg = SPG(samples=4, rows=2)
    model = fit(tiny_model(), tasks[0], CFG, [spg]).model
    start = state(model)
    important = {n: v > 0.9 for n, v in spg.importance.items()}
    plain, masked = copy.deepcopy(model), copy.deepcopy(model)
    cfg = FitConfig(5, Optim(batch_size=4, lr=0.01, threads=1))
    fit(plain, tasks[1], cfg, index=1)
    fit(masked, tasks[1], cfg, [spg], index=1)

    def moved(m):
        sd = m.state_dict()
        return flat({n: (sd[n] - start[n]).abs()[important[n]] for n in important})

    assert moved(masked).mean() < 0.3 * moved(plain).mean()


# -- LoRA ------------------------------------------------------------------------------------
def _base_name(name: str) -> str:
    return name.removeprefix("peft.base_model.model.").replace(".base_layer", "")


def test_lora_trains_only_the_new_adapter_and_routes_by_instruction(tasks):
    from agent.policy.strategies.lora import BASE, AdapterRouter, LoRA

    old, new = tasks
    lora = LoRA()
    base = fit(tiny_model(), old, CFG, [lora]).model  # experience 0 trains the whole net
    assert not isinstance(base, AdapterRouter)
    base_weights = state(base)
    reference = copy.deepcopy(base)
    res = fit(base, new, CFG, [lora], index=1)
    router = res.model
    assert isinstance(router, AdapterRouter) and router.adapters == ["task1"]
    adapter = {n: p for n, p in router.named_parameters() if ".task1." in n}
    assert adapter and all("lora_" in n for n in adapter)
    assert res.trainable_params == sum(p.numel() for p in adapter.values())
    # The base weights are bit-identical; the adapter learnt something.
    for n, p in router.named_parameters():
        if "lora_" not in n:
            assert torch.equal(p, base_weights[_base_name(n)]), n
    assert any(p.abs().sum() > 0 for n, p in adapter.items() if "lora_B" in n)
    # The instruction picks the adapter: old instructions go to the untouched base.
    assert router.route(old.emb) == [BASE] * len(old)
    assert router.route(new.emb) == ["task1"] * len(new)
    mixed = Prepared.cat([old.take([0, 1]), new.take([0, 1])]).batch(range(4))
    with torch.no_grad():
        got = forward(router, mixed)
        want = forward(reference, mixed)
        with router.peft.disable_adapter():
            plain = forward(router.peft, mixed)
    for g, w, p in zip(got, want, plain, strict=True):
        torch.testing.assert_close(g[:2], w[:2], rtol=0, atol=1e-5)  # no forgetting
        torch.testing.assert_close(p, w, rtol=0, atol=1e-5)
        assert not torch.allclose(g[2:], w[2:])  # the adapter changed the new task's outputs


def test_lora_relearning_an_instruction_routes_to_the_newest_adapter(tasks):
    """Training a second adapter (an experience of another name) on instructions seen
    before must train that adapter and send those instructions to it."""
    from agent.policy.strategies.lora import LoRA

    old, new = tasks
    lora = LoRA()
    model = fit(tiny_model(), old, FitConfig(1, Optim(batch_size=4, threads=1)), [lora]).model
    router = fit(model, new, FitConfig(1, Optim(batch_size=4, threads=1)), [lora], index=1).model
    task1 = state(router)
    res = fit(
        router, new, FitConfig(2, Optim(batch_size=4, threads=1)), [lora], index=2, name="other"
    )
    assert router.adapters == ["task1", "task2"] and router.route(new.emb) == ["task2"] * len(new)
    after = state(router)
    assert all(torch.equal(after[k], v) for k, v in task1.items())  # task1 frozen
    assert any(after[k].abs().sum() > 0 for k in after if ".task2." in k and "lora_B" in k)
    assert res.trainable_params > 0


def test_lora_checkpoint_round_trip_and_resume(tasks, tmp_path):
    from agent.policy.checkpoint import load_checkpoint, save_checkpoint
    from agent.policy.strategies.lora import AdapterRouter, LoRA

    old, new = tasks
    lora = LoRA()
    model = fit(tiny_model(), old, FitConfig(1, Optim(batch_size=4, threads=1)), [lora]).model
    router = fit(model, new, FitConfig(1, Optim(batch_size=4, threads=1)), [lora], index=1).model
    save_checkpoint(tmp_path, router, SPEC, "hash16-x3")
    loaded, _, payload = load_checkpoint(tmp_path)
    assert isinstance(loaded, AdapterRouter) and payload["lora"]["adapters"] == ["task1"]
    assert loaded.owners == router.owners  # the routes too
    mixed = Prepared.cat([old.take([0, 1]), new.take([0, 1])]).batch(range(4))
    with torch.no_grad():
        for a, b in zip(router(mixed.x, mixed.emb), loaded(mixed.x, mixed.emb), strict=True):
            assert torch.equal(a, b)
    # A new loop on the loaded router (a fresh LoRA plugin, counting from 1 again).
    res = fit(loaded, old, FitConfig(1, Optim(batch_size=4, threads=1)), [LoRA()], index=1)
    assert loaded.adapters == ["task1", "task1_1"] and res.trainable_params > 0
    assert loaded.route(old.emb) == ["task1_1"] * len(old)


# -- EMA, cumulative, combinations ----------------------------------------------------------------
def test_ema_weights_are_the_analytic_average(tasks):
    from agent.policy.strategies.ema import EMA

    d, steps = 0.5, 3
    model = tiny_model()
    w0 = state(model)
    probe = Probe()
    res = fit(
        model, tasks[0], FitConfig(steps, Optim(batch_size=4, threads=1)), [probe, EMA(decay=d)]
    )
    seen = probe.weights  # the weights at each step, before the optimizer moves them
    assert len(seen) == steps and all(torch.equal(seen[0][k], v) for k, v in w0.items())
    final = state(res.model)
    for k in w0:
        # shadow = d^T w0 + (1 - d) sum_t d^(T-1-t) w_t
        want = d**steps * w0[k] + sum(
            (1 - d) * d ** (steps - 1 - t) * seen[t][k] for t in range(steps)
        )
        torch.testing.assert_close(final[k], want, rtol=1e-5, atol=1e-7)
    last = {k: v for k, v in seen[-1].items()}
    assert not all(torch.equal(final[k], last[k]) for k in final)


def test_ema_keeps_averaging_across_experiences(tasks):
    from agent.policy.strategies.ema import EMA

    ema = EMA(decay=0.9)
    model = fit(tiny_model(), tasks[0], FitConfig(2, Optim(batch_size=4, threads=1)), [ema]).model
    shadow0 = {k: v.clone() for k, v in ema.shadow.items()}
    assert all(torch.equal(model.state_dict()[k], v) for k, v in shadow0.items())
    probe = Probe()
    fit(model, tasks[1], FitConfig(1, Optim(batch_size=4, threads=1)), [probe, ema], index=1)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, 0.9 * shadow0[k] + 0.1 * probe.weights[0][k])


def test_ema_averages_lora_adapters(tasks):
    """lora+ema: the average follows the adapters LoRA adds; the base stays untouched."""
    from agent.policy.strategies.ema import EMA
    from agent.policy.strategies.lora import AdapterRouter, LoRA

    old, new = tasks
    model = fit(
        tiny_model(), old, FitConfig(2, Optim(batch_size=4, threads=1)), [LoRA(), EMA(decay=0.5)]
    ).model
    lora_only = fit(
        copy.deepcopy(model), new, FitConfig(3, Optim(batch_size=4, threads=1)), [LoRA()], index=1
    ).model
    both = fit(
        copy.deepcopy(model),
        new,
        FitConfig(3, Optim(batch_size=4, threads=1)),
        [LoRA(), EMA(decay=0.5)],
        index=1,
    ).model
    assert isinstance(both, AdapterRouter)
    a, b = state(lora_only), state(both)
    assert a.keys() == b.keys()
    for k in a:
        if ".task1." not in k:
            assert torch.equal(a[k], b[k]), k  # the frozen base is the same
    assert any(not torch.equal(a[k], b[k]) for k in a if ".task1." in k and "lora_B" in k)


def test_cumulative_trains_on_the_union_of_tasks(tasks):
    from agent.policy.strategies.cumulative import Cumulative

    joint, probe = Cumulative(), Probe()
    model = fit(tiny_model(), tasks[0], CFG, [joint, probe]).model
    assert {int(t) for b in probe.batches for t in b.task} == {0}
    probe.batches.clear()
    fit(model, tasks[1], FitConfig(4, Optim(batch_size=6, threads=1)), [joint, probe], index=1)
    drawn = torch.cat([b.task for b in probe.batches])
    assert set(drawn.tolist()) == {0, 1}  # both experiences in the batches
    assert joint.info() == {"buffer_size": 8}


def test_replay_plus_lwf_combines_both(tasks):
    from agent.policy.strategies.lwf import LwF
    from agent.policy.strategies.replay import Replay

    replay, lwf = make_strategies("replay+lwf")
    assert isinstance(replay, Replay) and isinstance(lwf, LwF)
    spies = [Spy(replay), Spy(lwf)]
    model = fit(tiny_model(), tasks[0], CFG, spies).model
    assert spies[0].extras == spies[1].extras == [None] * CFG.steps
    after0 = state(model)
    fit(model, tasks[1], CFG, spies, index=1)
    r, w = spies[0].extras[CFG.steps :], spies[1].extras[CFG.steps :]
    assert all(x is not None and x > 0 for x in r)  # replayed rows (20% of 4: one a step)
    assert w[0] == pytest.approx(0.0, abs=1e-9) and all(x > 0 for x in w[1:])
    assert all(torch.equal(v, after0[k]) for k, v in lwf.teacher.state_dict().items())
    assert sorted(replay.buffer.data.task.tolist()) == [0] * 4 + [1] * 4
    assert math.isfinite(sum(r) + sum(w))
