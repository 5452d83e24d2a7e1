"""The one training loop: base training and every continual fine-tuning round.

    plan = strategies.before_task(ctx)          model / data / trainable parameters
    repeat `steps` times:
        batch from the plan's data; loss = supervised + sum(strategies.extra_loss(step))
        backward; grads = strategies.after_backward(step, grads), chained in order
        clip, optimizer step (scaled per parameter by the plan's update_scale)
        update = strategies.after_step(step, new - old weights), chained; applied
    outcome = strategies.after_task(ctx)        weights to keep (EMA)

Strategies combine by listing several (e.g. replay + LwF): extra losses add up, gradient
transforms chain, a later plan's fields override an earlier one's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from agent.errors import AgentError
from agent.policy.losses import forward, pose_loss
from agent.policy.prepare import Batch, Prepared
from agent.policy.settings import Optim
from agent.policy.strategies.base import StepContext, Strategy, TaskContext, TaskPlan


@dataclass(frozen=True)
class FitConfig:
    """Optimisation settings of one experience (or one correction round).

    Attributes:
        steps: optimizer steps.
        optim: learning rate, batch size, clip, seed of the batch sampling, and torch
            intra-op threads while training (restored afterwards).
        augment: a callable(batch, generator) -> batch applied to every step's batch
            (`augment.Augment`: random table turns and shifts), or None.
        schedule: "constant" learning rate, or "cosine": a linear warm-up over the first
            5% of the steps, then a cosine decay to zero (`lr_factor`).
    """

    steps: int = 300
    optim: Optim = field(default_factory=Optim)
    augment: Callable[[Batch, torch.Generator], Batch] | None = None
    schedule: str = "constant"


def lr_factor(schedule: str, steps: int) -> Callable[[int], float]:
    """The learning rate's factor at each step of a schedule (see `FitConfig`)."""
    if schedule == "constant":
        return lambda _step: 1.0
    if schedule != "cosine":
        raise AgentError(f"unknown learning-rate schedule {schedule!r} (constant or cosine)")
    warm = max(1, steps // 20)
    return lambda step: (
        min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * step / max(1, steps)))
    )


@dataclass(frozen=True)
class FitResult:
    """What one call of `fit` did."""

    model: nn.Module
    seconds: float
    steps: int
    first_loss: float
    final_loss: float
    trainable_params: int


def supervised_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """(B,) supervised pose loss of `model` on `batch` (teacher-forced place map)."""
    return pose_loss(forward(model, batch), batch)


def _merge(plans: list[TaskPlan | None]) -> TaskPlan:
    out = TaskPlan()
    for p in plans:
        if p is None:
            continue
        out = TaskPlan(
            model=p.model if p.model is not None else out.model,
            data=p.data if p.data is not None else out.data,
            trainable=p.trainable if p.trainable is not None else out.trainable,
            lr_scale=p.lr_scale if p.lr_scale is not None else out.lr_scale,
            update_scale=p.update_scale if p.update_scale is not None else out.update_scale,
        )
    return out


def fit(
    model: nn.Module,
    data: Prepared,
    config: FitConfig,
    strategies: list[Strategy] | None = None,
    index: int = 0,
    name: str = "task",
    log: Callable[[int, float], None] | None = None,
    new_data: Prepared | None = None,
) -> FitResult:
    """Train `model` on one experience's `data` with strategy plugins.

    Args:
        model: the network (may be replaced by a strategy's plan, e.g. LoRA).
        data: the experience's training data.
        config: optimisation settings.
        strategies: plugins, applied in order; none is plain fine-tuning.
        index: the experience's position in the stream.
        name: the experience's name.
        log: callable(step, supervised loss) after every step (`curves.Curves.loss`).
        new_data: the rows of `data` not offered to the strategies before (None: all);
            memories take only these (`TaskContext.fresh`).

    Returns:
        The trained model (the plan's, if a strategy replaced it) and timings.
    """
    if len(data) == 0:
        raise AgentError("no training data")
    strategies = list(strategies or [])
    optim = config.optim
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, optim.threads))
    t0 = time.perf_counter()
    try:
        gen = torch.Generator().manual_seed(optim.seed)
        ctx = TaskContext(
            index, name, model, data, supervised_loss, optim.batch_size, gen, new_data
        )
        plan = _merge([s.before_task(ctx) for s in strategies])
        model = plan.model if plan.model is not None else model
        ctx = replace(ctx, model=model)
        train_data = plan.data if plan.data is not None else data
        named = dict(model.named_parameters())
        if plan.trainable is not None:
            wanted = set(plan.trainable)
            for n, p in named.items():
                p.requires_grad_(n in wanted)
        params = {n: p for n, p in named.items() if p.requires_grad}
        if not params:
            raise AgentError("nothing to train: every parameter is frozen")
        opt = torch.optim.Adam(params.values(), lr=optim.lr * (plan.lr_scale or 1.0))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(config.schedule, config.steps))
        scaled = {n: s for n, s in (plan.update_scale or {}).items() if n in params}
        steppers = [s for s in strategies if type(s).after_step is not Strategy.after_step]
        model.train()
        first = last = float("nan")
        for step in range(config.steps):
            batch = train_data.sample(optim.batch_size, gen)
            if config.augment is not None:
                batch = config.augment(batch, gen)
            outputs = forward(model, batch)
            per_sample = pose_loss(outputs, batch)
            loss = per_sample.mean()
            sctx = StepContext(ctx, batch, outputs, per_sample, params, step)
            for s in strategies:
                extra = s.extra_loss(sctx)
                if extra is not None:
                    loss = loss + extra
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grads = {n: p.grad for n, p in params.items() if p.grad is not None}
            for s in strategies:
                new = s.after_backward(sctx, grads)
                if new is not None:
                    grads = new
            for n, p in params.items():
                p.grad = grads.get(n)
            torch.nn.utils.clip_grad_norm_(
                [p for p in params.values() if p.grad is not None], optim.clip
            )
            old = {n: params[n].detach().clone() for n in (params if steppers else scaled)}
            opt.step()
            sched.step()
            with torch.no_grad():
                for n, f in scaled.items():
                    params[n].copy_(old[n] + f * (params[n] - old[n]))
                if steppers:
                    update = {n: params[n] - old[n] for n in params}
                    for s in steppers:
                        new = s.after_step(sctx, update)
                        if new is not None:
                            update = new
                    for n, p in params.items():
                        p.copy_(old[n] + update[n])
            last = float(per_sample.detach().mean())
            first = last if step == 0 else first
            if log is not None:
                log(step, last)
        model.eval()
        for s in strategies:
            outcome = s.after_task(ctx)
            if outcome is not None and outcome.state_dict is not None:
                model.load_state_dict(outcome.state_dict)
        n_train = sum(p.numel() for p in params.values())
        return FitResult(model, time.perf_counter() - t0, config.steps, first, last, n_train)
    finally:
        torch.set_num_threads(before)


def observe(
    model: nn.Module,
    data: Prepared,
    strategies: list[Strategy],
    threads: int = 1,
    name: str = "known",
) -> None:
    """Let the strategies see an experience without training on it (experience 0).

    Their hooks run with zero steps: replay buffers fill, EWC measures the Fisher, SPG the
    importance, LwF and LoRA take the model as it is as their reference.
    """
    fit(model, data, FitConfig(0, Optim(threads=threads)), strategies, index=0, name=name)
