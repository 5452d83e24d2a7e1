"""Per-task LoRA adapters (peft), the instruction choosing the adapter.

The first experience trains the whole network (the base). Each later experience adds a
LoRA adapter (rank-r updates of every convolution and linear layer, through `peft`) and
trains only that adapter; the base and earlier adapters stay frozen, so earlier tasks
cannot be forgotten as long as their inputs reach their own adapter. `AdapterRouter`
sends every sample to the adapter whose training instructions are nearest to its
instruction (cosine similarity of the instruction embeddings); the base's instructions
route to the base with adapters disabled.

Routing by instruction makes LoRA TASK-AWARE: the instruction tells it which experience a
sample belongs to (with one instruction template per family, routing is exact), so its
freedom from forgetting holds by construction, as long as routing is right, and at the
price of a growing model (every adapter is kept). Compare it with the task-aware
methods, not with replay or EWC; `routing_accuracy` and the total parameter count are
reported beside its scores.

An experience of a name seen before (a correction loop's rounds all carry the family's
name) continues that name's adapter instead of adding a fresh one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from agent.policy.strategies.base import Strategy, TaskContext, TaskPlan

BASE = ""
MAX_KEYS = 256


def lora_targets(model: nn.Module) -> list[str]:
    """Names of every convolution and linear layer of `model`."""
    return [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


class AdapterRouter(nn.Module):
    """A peft-wrapped network plus routing keys; behaves like the network it wraps.

    Args:
        peft_model: the `peft.PeftModel`.
        keys: (M, D) instruction embeddings that route somewhere.
        owners: (M,) adapter name of each key (`BASE` for the base network).
    """

    def __init__(self, peft_model: nn.Module, keys: torch.Tensor, owners: list[str]) -> None:
        super().__init__()
        self.peft = peft_model
        self.keys = F.normalize(keys.float(), dim=1)
        self.owners = list(owners)

    @property
    def adapters(self) -> list[str]:
        """Adapter names in the order they were added."""
        return [a for a in dict.fromkeys(self.owners) if a != BASE]

    def add_keys(self, emb: torch.Tensor, owner: str) -> None:
        """Route instructions like these (distinct rows of `emb`) to `owner`."""
        emb = torch.unique(emb.float(), dim=0)[:MAX_KEYS]
        self.keys = torch.cat([self.keys, F.normalize(emb, dim=1)])
        self.owners += [owner] * len(emb)

    def route(self, emb: torch.Tensor) -> list[str]:
        """The adapter each instruction goes to: the nearest key's; among keys as near as it
        (the same instruction, up to rounding) the newest, so an instruction trained on
        again goes to the adapter that learnt it last."""
        sims = F.normalize(emb.float(), dim=1) @ self.keys.t()
        near = sims >= sims.max(1, keepdim=True).values - 1e-6
        last = len(self.owners) - 1
        return [self.owners[last - i] for i in near.flip(1).int().argmax(1).tolist()]

    def forward(self, x, emb, pick_cell=None, place_cell=None):
        routes = self.route(emb)
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(routes):
            groups.setdefault(r, []).append(i)
        parts, order = [], []
        for name, idx in groups.items():
            ix = torch.tensor(idx)
            args = [
                x[ix],
                emb[ix],
                None if pick_cell is None else pick_cell[ix],
                None if place_cell is None else place_cell[ix],
            ]
            if name == BASE:
                with self.peft.disable_adapter():
                    parts.append(self.peft(*args))
            else:
                self.peft.set_adapter(name)
                parts.append(self.peft(*args))
            order += idx
        if len(parts) == 1:
            return parts[0]
        inv = torch.empty(len(order), dtype=torch.long)
        inv[torch.tensor(order)] = torch.arange(len(order))
        return type(parts[0])(
            *(torch.cat([p[k] for p in parts])[inv] for k in range(len(parts[0])))
        )


def wrap(model: nn.Module, name: str, r: int, alpha: int, base_keys: torch.Tensor) -> AdapterRouter:
    """Wrap a plain network with peft and a first adapter `name`; base keys route to the base."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=lora_targets(model), lora_dropout=0.0)
    peft_model = get_peft_model(model, config, adapter_name=name)
    return AdapterRouter(peft_model, base_keys, [BASE] * len(base_keys))


class LoRA(Strategy):
    """Args: r (rank) and alpha (scale) of the adapters; lr_scale multiplies the learning
    rate while an adapter trains (low-rank updates starting from zero learn slowly)."""

    name = "lora"

    def __init__(self, r: int = 8, alpha: int = 16, lr_scale: float = 4.0) -> None:
        self.r, self.alpha, self.lr_scale = r, alpha, lr_scale
        self.base_keys: torch.Tensor | None = None
        self.targets: list[str] = []
        self.trainable = 0
        self.adapter_of: dict[str, str] = {}  # experience name -> its adapter (BASE: the base)
        self.owner_of_task: dict[int, str] = {}  # experience index -> adapter that learnt it

    def before_task(self, ctx: TaskContext) -> TaskPlan | None:
        emb = torch.unique(ctx.data.emb.float(), dim=0)[:MAX_KEYS]
        if ctx.index == 0 and not isinstance(ctx.model, AdapterRouter):
            self.base_keys = emb
            self.adapter_of[ctx.name] = self.owner_of_task[0] = BASE
            return None
        known = self.adapter_of.get(ctx.name)
        if known and isinstance(ctx.model, AdapterRouter) and known in ctx.model.adapters:
            return self._continue(ctx, ctx.model, known, emb)
        name = f"task{ctx.index}"
        if isinstance(ctx.model, AdapterRouter):
            router = ctx.model
            from peft import LoraConfig

            k = 1  # a loaded router may already hold this name (a new loop counts from 1 again)
            while name in router.peft.peft_config:
                name, k = f"task{ctx.index}_{k}", k + 1

            # A loaded router: peft wrapped every target layer, whose own Linear/Conv2d is now
            # `<target>.base_layer`.
            targets = self.targets or [
                n.removesuffix(".base_layer")
                for n in lora_targets(router.peft.get_base_model())
                if n.endswith(".base_layer")
            ]
            config = LoraConfig(
                r=self.r, lora_alpha=self.alpha, target_modules=targets, lora_dropout=0.0
            )
            router.peft.add_adapter(name, config)
        else:
            keys = self.base_keys if self.base_keys is not None else emb[:0]
            self.targets = lora_targets(ctx.model)
            router = wrap(ctx.model, name, self.r, self.alpha, keys)
        return self._continue(ctx, router, name, emb)

    def _continue(self, ctx: TaskContext, router: AdapterRouter, name: str, emb) -> TaskPlan:
        """Train adapter `name` on this experience (its instructions routed to it)."""
        router.add_keys(emb, name)
        router.peft.set_adapter(name)
        self.adapter_of[ctx.name] = self.owner_of_task[ctx.index] = name
        trainable = tuple(
            n for n, _ in router.named_parameters() if "lora_" in n and f".{name}." in n
        )
        return TaskPlan(model=router, trainable=trainable, lr_scale=self.lr_scale)

    def routing_accuracy(self, model: nn.Module, task_emb: dict[int, torch.Tensor]) -> float | None:
        """Share of instructions routed to the adapter that learnt their experience
        (`task_emb`: experience index -> (N, D) embeddings, e.g. of its test scenes);
        None before any adapter exists."""
        if not isinstance(model, AdapterRouter):
            return None
        hits = total = 0
        for i, emb in task_emb.items():
            want = self.owner_of_task.get(i)
            if want is None or not len(emb):
                continue
            hits += sum(r == want for r in model.route(emb))
            total += len(emb)
        return hits / total if total else None

    def info(self) -> dict:
        return {"buffer_size": 0}
