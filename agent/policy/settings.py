"""How the pose policy is optimised: one `Optim` that every training entry point shares.

Base training (`train.TrainSettings`), a stream experience (`stream.StreamConfig`), a
correction round (`feedback.FeedbackConfig`), a fine-tune on stored corrections
(`finetune.FinetuneConfig`) and the loop itself (`loop.FitConfig`) each hold an `Optim`
instead of repeating learning rate, batch size, clip, seed and threads; the defaults live
here once. `steps` stays with each config: it counts different things there (a base
training, one experience, one correction round).

The `[policy]` section of the settings tree (`agent.config.PolicySettings`, read from
flags > `SKILLGROVE_POLICY_*` > `<home>/config.toml` > these defaults) is this model, so
a config file sets the defaults of the `skillgrove policy` commands.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Optim(BaseModel):
    """Optimisation settings of the pose policy (frozen; unknown keys are refused).

    Attributes:
        lr: Adam learning rate.
        batch_size: rows per optimizer step.
        clip: gradient-norm clip.
        seed: seed of the model initialisation and of the batch sampling.
        threads: torch intra-op threads while training and predicting.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lr: float = Field(default=2e-3, gt=0, le=1)
    batch_size: int = Field(default=16, ge=1, le=4096)
    clip: float = Field(default=5.0, gt=0)
    seed: int = Field(default=0, ge=0)
    threads: int = Field(default=2, ge=1, le=64)

    def but(self, **changes: Any) -> Optim:
        """A validated copy with `changes`; a None value keeps the current setting."""
        given = {k: v for k, v in changes.items() if v is not None}
        return Optim.model_validate({**self.model_dump(), **given})
