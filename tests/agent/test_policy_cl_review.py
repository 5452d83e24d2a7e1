"""The continual-learning review's findings (issue 18), each checked on a small model:
A-GEM's applied updates, SPG's importance, LwF's inputs, DER++'s budget, EWC's Fisher,
the memory of the correction loop, LoRA's adapter per family and routing, the joint
bound, the scene ranges, and the paired comparison of the benchmark's table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent.errors import AgentError
from agent.policy.loop import FitConfig, fit, supervised_loss
from agent.policy.prepare import Prepared
from agent.policy.settings import Optim
from agent.policy.strategies import Strategy
from tests.agent.policy_helpers import SPEC, tiny_encoder, tiny_model
from tests.agent.test_policy_strategies import Probe, flat, state, step_context

pytestmark = pytest.mark.usefixtures("one_thread")
ONE = Optim(batch_size=4, threads=1)


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


def _dot(a: dict, b: dict) -> float:
    return float(sum((a[n] * b[n]).sum() for n in b if n in a))


# -- 1. A-GEM --------------------------------------------------------------------------------
def test_agem_no_applied_update_raises_the_memory_loss(tasks):
    """The update Adam actually applies (new - old weights) never has a positive dot
    product with the memory's gradient (a descent direction opposing it), beyond float
    tolerance; projecting the gradient alone left some that did."""
    from agent.policy.strategies.agem import AGEM

    agem = AGEM(capacity=4, rows=4)
    model = fit(tiny_model(), tasks[0], FitConfig(2, ONE), [agem]).model
    refs, before = [], []

    class Ref(Strategy):
        def after_backward(self, step, grads):
            refs.append(dict(agem.last_ref))
            before.append(state(step.task.model))

    res = fit(model, tasks[1], FitConfig(10, ONE.but(lr=0.05)), [agem, Ref()], index=1)
    after = [*before[1:], state(res.model)]
    assert len(refs) == 10 and all(refs)
    for w0, w1, ref in zip(before, after, refs, strict=True):
        d = {n: w1[n] - w0[n] for n in ref}
        tol = 1e-5 * float(flat(ref).norm() * flat(d).norm())
        assert _dot(d, ref) <= tol
    assert agem.info()["projected_updates"] >= 1  # the update projection did act


def test_agem_update_projection_by_hand():
    from agent.policy.strategies.agem import project

    ref = {"a": torch.tensor([1.0, 0.0])}
    up = {"a": torch.tensor([1.0, 1.0])}  # raises the memory loss: d . ref > 0
    new, changed = project(up, ref, sign=-1.0)
    assert changed and torch.equal(new["a"], torch.tensor([0.0, 1.0]))
    down = {"a": torch.tensor([-1.0, 1.0])}
    same, changed = project(down, ref, sign=-1.0)
    assert not changed and same is down


# -- 2. SPG ----------------------------------------------------------------------------------
def test_spg_importance_is_abs_tanh_of_the_standardised_signed_gradient(tasks):
    from agent.policy.strategies.spg import SPG

    spg = SPG(samples=4, rows=2)
    model = fit(tiny_model(), tasks[0], FitConfig(2, ONE), [spg]).model
    params = dict(model.named_parameters())
    loss = supervised_loss(model, tasks[0].batch(range(4))).mean()  # every row: n = 4
    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
    n_zero = n_all = 0
    for (name, p), g in zip(params.items(), grads, strict=True):
        g = torch.zeros_like(p) if g is None else g
        if g.abs().max() < 1e-6:  # a gradient at float noise (a bias a softmax ignores)
            continue
        z = (g - g.mean()) / (g.std(unbiased=False) + 1e-8) if g.numel() > 1 else torch.sign(g)
        torch.testing.assert_close(spg.importance[name], torch.tanh(z).abs(), rtol=1e-3, atol=1e-4)
        n_zero += int((spg.importance[name] == 0).sum())
        n_all += g.numel()
    assert n_zero / n_all < 0.01  # not clamped to zero for most weights


def test_spg_importance_ignores_the_gradients_sign():
    from agent.policy.strategies.spg import importance

    g = torch.tensor([3.0, -3.0, 0.0, 0.0])
    imp = importance(g)
    assert imp[0] == pytest.approx(imp[1].item())  # the sign of a large gradient does not matter
    assert imp[0] > 0.7 and imp[2] < imp[0]


# -- 3. LwF ----------------------------------------------------------------------------------
def test_lwf_distils_on_current_images_with_the_old_instructions(tasks):
    from agent.policy.strategies.lwf import LwF

    old, new = tasks
    lwf = LwF(weight=1.0)
    model = fit(tiny_model(), old, FitConfig(1, ONE), [lwf]).model
    fit(model, new, FitConfig(1, ONE), [lwf], index=1)
    seen = []
    handle = lwf.teacher.register_forward_pre_hook(lambda m, args: seen.append(args))
    step = step_context(model, new, rows=8)
    assert float(lwf.extra_loss(step).detach()) >= 0
    handle.remove()
    ((x, emb),) = seen
    assert torch.equal(x, step.batch.x)  # today's images
    old_set = {tuple(r) for r in old.emb.float().tolist()}
    new_set = {tuple(r) for r in new.emb.float().tolist()}
    got = {tuple(r) for r in emb.float().tolist()}
    assert got <= old_set and not got & new_set  # earlier experiences' instructions only


def test_lwf_without_old_instructions_distils_nothing(tasks):
    """An experience that repeats the earlier instructions (nothing else to keep) adds no
    distillation term."""
    from agent.policy.strategies.lwf import LwF

    lwf = LwF(weight=1.0)
    model = fit(tiny_model(), tasks[0], FitConfig(1, ONE), [lwf]).model
    fit(model, tasks[0], FitConfig(1, ONE), [lwf], index=1)
    assert lwf.teacher is None


# -- 4. DER++ --------------------------------------------------------------------------------
def test_der_replays_replays_budget_in_two_independent_draws(tasks):
    from agent.policy.strategies.der import DER
    from agent.policy.strategies.replay import Replay

    der = DER(capacity=8)
    model = fit(tiny_model(), tasks[0], FitConfig(1, ONE), [der]).model
    fit(model, tasks[1], FitConfig(1, ONE), [der], index=1)  # the buffer holds 8 rows
    out_rows, lab_rows = [], []
    handle = model.register_forward_pre_hook(lambda m, args: out_rows.append(len(args[0])))

    def labels(m, batch):
        lab_rows.append(batch.index)
        return torch.ones(len(batch))

    same = 0
    for seed in range(30):
        out_rows.clear()
        lab_rows.clear()
        step = step_context(model, tasks[1], loss_fn=labels, rows=16, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        want = Replay(mix=der.mix).replay_rows(16, gen)
        # step_context ran the model once on the batch itself: the draws come after
        out_rows.clear()
        lab_rows.clear()
        der.extra_loss(step)
        assert sum(out_rows) + sum(len(i) for i in lab_rows) == want == 4
        assert out_rows == [2] and len(lab_rows[0]) == 2
    handle.remove()
    # independent draws: the output draw's rows are not the label draw's
    idx_out, idx_lab = [], []
    for seed in range(30):
        gen = torch.Generator().manual_seed(seed)
        n_out, n_lab = der.split(16, gen)
        a, _ = der.buffer.sample(n_out, gen)
        b, _ = der.buffer.sample(n_lab, gen)
        idx_out.append(a.index.tolist())
        idx_lab.append(b.index.tolist())
        same += a.index.tolist() == b.index.tolist()
    assert same < 10


# -- 5. EWC ----------------------------------------------------------------------------------
def test_ewc_fisher_is_the_mean_of_per_sample_squared_gradients(tasks):
    from agent.policy.strategies.ewc import OnlineEWC

    ewc = OnlineEWC(samples=4)
    model = fit(tiny_model(), tasks[0], FitConfig(2, ONE), [ewc]).model
    params = dict(model.named_parameters())
    want = {n: torch.zeros_like(p) for n, p in params.items()}
    for i in range(4):
        loss = supervised_loss(model, tasks[0].batch([i])).sum()
        for (n, _), g in zip(
            params.items(),
            torch.autograd.grad(loss, list(params.values()), allow_unused=True),
            strict=True,
        ):
            if g is not None:
                want[n] += g**2 / 4
    for n in params:
        torch.testing.assert_close(ewc.fisher[n], want[n], rtol=1e-4, atol=1e-10)
    # a row's gradient inside a batch is its gradient alone (per-sample normalisation)
    b = tasks[0].batch(range(4))
    per = supervised_loss(model, b)
    g0 = torch.autograd.grad(per[0], [params["text.weight"]])[0]
    g1 = torch.autograd.grad(
        supervised_loss(model, tasks[0].batch([0])).sum(), [params["text.weight"]]
    )[0]
    torch.testing.assert_close(g0, g1, rtol=1e-4, atol=1e-7)


# -- 6. the correction loop's memory ---------------------------------------------------------
def test_fit_offers_only_the_new_rows_to_memories(tasks):
    from agent.policy.strategies.cumulative import Cumulative
    from agent.policy.strategies.replay import Replay

    replay, cumulative, probe = Replay(capacity=100), Cumulative(), Probe()
    plugins = [replay, cumulative, probe]
    old, new = tasks
    fit(tiny_model(), old, FitConfig(0, ONE), plugins)
    rounds = [new.take([0, 1]), new.take([2, 3])]
    so_far = rounds[0]
    model = tiny_model()
    for r, fresh in enumerate(rounds, 1):
        so_far = fresh if r == 1 else Prepared.cat([so_far, fresh])
        fit(model, so_far, FitConfig(2, ONE), plugins, index=r, new_data=fresh)
    assert replay.buffer.seen == len(old) + len(new) == 8  # each row offered once
    assert len(Prepared.cat(cumulative.seen)) == 8  # and trained on once per step's draw


def test_feedback_offers_each_round_only_its_new_rows(world, tmp_path, monkeypatch):
    import agent.policy.evaluate as evaluate
    from agent.policy.corrections import CorrectionStore
    from agent.policy.feedback import FeedbackConfig, SimulatedExpert, run_feedback
    from agent.policy.policy import Policy

    monkeypatch.setattr(evaluate, "evaluate_sim", lambda *a, **k: _sim(0.0))  # never stops
    policy = Policy(tiny_model(5), SPEC, tiny_encoder(), threads=1)
    cfg = FeedbackConfig(
        "pick", rounds=3, attempts=2, eval_episodes=1, steps=1, optim=Optim(batch_size=2, threads=1)
    )
    rep = run_feedback(
        policy, CorrectionStore(tmp_path / "c.sqlite"), cfg, SimulatedExpert(), world=world
    )
    new = [r["new_rows"] for r in rep["rounds"]]
    assert len(new) == 3 and sum(new) == 6  # untrained: every attempt corrected
    assert rep["strategy_info"]["offered"] == 6  # not 2 + 4 + 6


class _Sim:
    def __init__(self, success: float) -> None:
        self.success = success


def _sim(success: float) -> _Sim:
    return _Sim(success)


# -- 9. validation scenes --------------------------------------------------------------------
def test_scene_ranges_are_disjoint_and_drawn_from_their_range():
    from agent.policy.data import split_seeds
    from agent.policy.splits import SCENE_RANGES, scene_seeds

    sets = {k: set(r) for k, r in SCENE_RANGES.items()}
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not sets[a] & sets[b], (a, b)
    for use, r in SCENE_RANGES.items():
        seeds = scene_seeds(use, 5) + scene_seeds(use, 3, start=len(r) - 3)
        assert all(s in sets[use] for s in seeds), use
    assert scene_seeds("test", 4) == split_seeds("test", 4)  # the reported scenes as before
    assert scene_seeds("train", 4) == split_seeds("train", 4)
    with pytest.raises(AgentError, match="outside its range"):
        scene_seeds("valid", 2, start=len(SCENE_RANGES["valid"]) - 1)
    with pytest.raises(AgentError, match="unknown scene range"):
        scene_seeds("dev", 1)


def test_feedback_stops_on_validation_and_reports_test(world, tmp_path, monkeypatch):
    """Validation scenes at 1.0 and test scenes at 0.0: the loop stops after the first
    round (validation reached the target) and reports the test success."""
    import agent.policy.evaluate as evaluate
    from agent.policy.corrections import CorrectionStore
    from agent.policy.feedback import FeedbackConfig, SimulatedExpert, run_feedback
    from agent.policy.policy import Policy
    from agent.policy.splits import SCENE_RANGES

    asked = []

    def fake(policy, family, seeds, world=None, **kw):
        kind = "valid" if all(s in SCENE_RANGES["valid"] for s in seeds) else "test"
        assert all(s in SCENE_RANGES[kind] for s in seeds)
        asked.append(kind)
        return _sim(1.0 if kind == "valid" else 0.0)

    monkeypatch.setattr(evaluate, "evaluate_sim", fake)
    policy = Policy(tiny_model(5), SPEC, tiny_encoder(), threads=1)
    cfg = FeedbackConfig(
        "pick", rounds=3, attempts=1, eval_episodes=2, steps=1, optim=Optim(batch_size=2, threads=1)
    )
    rep = run_feedback(
        policy, CorrectionStore(tmp_path / "c.sqlite"), cfg, SimulatedExpert(), world=world
    )
    assert len(rep["rounds"]) == 1 and rep["reached_target_round"] == 1
    assert rep["final_success"] == 0.0 and rep["rounds"][0]["valid_success"] == 1.0
    assert asked == ["test", "valid", "test", "valid"]


# -- 7. LoRA ---------------------------------------------------------------------------------
def test_lora_continues_the_familys_adapter_and_reports_routing(tasks):
    from agent.policy.strategies.lora import LoRA

    old, new = tasks
    lora = LoRA()
    model = fit(tiny_model(), old, FitConfig(1, ONE), [lora], name="place").model
    router = fit(model, new, FitConfig(2, ONE), [lora], index=1, name="pick").model
    round1 = state(router)
    res = fit(router, new, FitConfig(2, ONE), [lora], index=2, name="pick")  # a second round
    assert res.model is router and router.adapters == ["task1"]  # no fresh adapter
    after = state(router)
    moved = [k for k in after if ".task1." in k and not torch.equal(after[k], round1[k])]
    assert moved and all("lora_" in k for k in moved)  # round 2 went on training task1
    assert lora.routing_accuracy(router, {0: old.emb, 1: new.emb}) == 1.0
    assert lora.routing_accuracy(router, {0: new.emb}) == 0.0  # pick's sent to its adapter
    assert lora.routing_accuracy(tiny_model(), {0: old.emb}) is None  # no router


def test_lora_total_parameters_grow_with_adapters(tasks):
    from agent.policy.model import count_parameters
    from agent.policy.strategies.lora import LoRA

    old, new = tasks
    lora = LoRA()
    model = fit(tiny_model(), old, FitConfig(1, ONE), [lora], name="a").model
    base = count_parameters(model, trainable_only=False)
    r1 = fit(model, new, FitConfig(1, ONE), [lora], index=1, name="b").model
    one = count_parameters(r1, trainable_only=False)
    fit(r1, old, FitConfig(1, ONE), [lora], index=2, name="c")
    assert base < one < count_parameters(r1, trainable_only=False)


# -- 8. cumulative and the joint bound -------------------------------------------------------
def test_joint_trains_once_on_every_experience_with_the_streams_budget(tasks, monkeypatch):
    import agent.policy.loop as loop
    from agent.policy.stream import StreamConfig, StreamData, train_joint

    calls = []
    real = loop.fit

    def spy(model, data, config, *a, **k):
        calls.append((len(data), sorted(set(data.task.tolist())), config.steps))
        return real(model, data, config, *a, **k)

    monkeypatch.setattr(loop, "fit", spy)
    cfg = StreamConfig(families=("place", "pick", "place"), steps=2, optim=ONE)
    third = Prepared.cat([tasks[0]]).take(range(4))
    third = Prepared(**{**third.__dict__, "task": torch.full((4,), 2)})
    base = tiny_model()
    start = state(base)
    res = train_joint(base, StreamData([tasks[0], tasks[1], third], []), cfg)
    assert calls == [(12, [0, 1, 2], 4)]  # all three experiences, (T - 1) x steps
    assert res.steps == 4 and any(not torch.equal(v, start[k]) for k, v in state(res.model).items())


# -- 10. the table ---------------------------------------------------------------------------
def _run(strategy, seed, acc_final, order="A", joint=False):
    t = 3
    r = np.full((t, t), 0.5)
    r[-1] = acc_final
    err = np.ones((t, t))
    rows = (lambda m: m[-1:].tolist()) if joint else (lambda m: m.tolist())
    return {
        "strategy": strategy,
        "order": order,
        "seed": seed,
        "families": ["a", "b", "c"],
        "success": rows(r),
        "pos_cm": rows(err),
        "rot_deg": rows(err),
        "baseline": {"success": [0.0] * t, "pos_cm": [9.0] * t, "rot_deg": [9.0] * t},
        "seconds": 1.0,
        "train_seconds": [1.0],
        "trainable_params": 10,
        "buffer_size": 0,
        "sim": {},
        "valid_success": rows(r),
        "total_params": 10,
        "routing_accuracy": None,
    }


def test_report_pairs_runs_by_order_and_seed_with_t_intervals():
    from scipy.stats import t

    from bench.continual_report import ABOVE, SAME, aggregate, markdown, ranking

    naive = [0.30, 0.50, 0.40, 0.20]
    good = [0.40, 0.61, 0.49, 0.32]  # +0.10, +0.11, +0.09, +0.12: a tight positive interval
    noisy = [0.70, 0.30, 0.80, 0.10]  # mean +0.125, interval covering 0; higher mean ACC
    runs = []
    for s in range(4):
        runs += [_run("naive", s, naive[s]), _run("good", s, good[s]), _run("noisy", s, noisy[s])]
        runs.append(_run("joint", s, 0.9, joint=True))
    agg = aggregate(runs)
    d = np.array(good) - np.array(naive)
    half = t.ppf(0.975, 3) * d.std(ddof=1) / 2
    got = agg["good"]["vs_naive"]["acc"]
    assert got["n"] == 4 and got["mean"] == pytest.approx(d.mean())
    assert got["ci"] == pytest.approx([d.mean() - half, d.mean() + half])
    assert agg["good"]["verdict"] == ABOVE and agg["noisy"]["verdict"] == SAME
    assert agg["noisy"]["acc"] > agg["good"]["acc"]
    # the noisy one is not ranked above naive although its mean ACC is higher
    assert ranking(agg) == ["joint", "good", "naive", "noisy"]
    assert agg["good"]["vs_joint"]["acc"]["mean"] == pytest.approx(np.mean(good) - 0.9)
    assert agg["joint"]["acc"] == pytest.approx(0.9) and agg["joint"]["bwt"] is None
    assert agg["naive"]["acc_ci"] == pytest.approx(
        [
            np.mean(naive) - t.ppf(0.975, 3) * np.std(naive, ddof=1) / 2,
            np.mean(naive) + t.ppf(0.975, 3) * np.std(naive, ddof=1) / 2,
        ]
    )
    settings = {
        "families": ["a", "b", "c"],
        "orders": ["A"],
        "seeds": [0, 1, 2, 3],
        "n_train": 1,
        "base_steps": 1,
        "steps": 1,
        "n_test": 1,
        "sim_episodes": 0,
    }
    table = markdown(agg, settings, None)
    lines = [x.split(" | ")[0].strip("| ") for x in table.splitlines() if x.startswith("| ")]
    assert lines[1:] == ["joint", "good", "naive", "noisy"]
    assert "not distinguishable from naive" in table


def test_report_pairs_only_matching_runs_and_needs_two_for_an_interval():
    from bench.continual_report import SAME, aggregate

    runs = [_run("naive", 0, 0.2), _run("x", 0, 0.9), _run("x", 1, 0.9, order="B")]
    agg = aggregate(runs)
    vs = agg["x"]["vs_naive"]["acc"]
    assert vs["n"] == 1 and vs["ci"] is None and agg["x"]["verdict"] == SAME
