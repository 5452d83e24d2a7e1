"""What the `skillgrove policy` commands share: the [policy] settings as defaults, progress.

The `[policy]` settings (`<home>/config.toml`, `SKILLGROVE_POLICY_*`, see `agent.config`)
give the defaults: `threads` and `seed` those of the options of that name (click's
`default_map`, so a flag still wins and `--help` shows the configured default), and `lr`,
`batch_size` and `clip` the optimisation of every training command (`settings_optim`).
"""

from __future__ import annotations

import click

from agent.cli import App

OPTIM_KEY = "skillgrove.policy.optim"  # where the group leaves the settings' Optim (ctx.meta)
OPTION_SETTINGS = {  # command -> its options whose defaults come from the [policy] settings
    "train": ("threads", "seed"),
    "eval": ("threads",),
    "feedback": ("threads",),
    "finetune": ("threads",),
    "queue": ("threads",),
    "self-train": ("threads",),
}

strategy_option = click.option(
    "--strategy",
    default="replay",
    show_default=True,
    help="Continual-learning strategy (e.g. replay+lwf).",
)


def steps_option(help: str = "Fine-tuning steps."):
    """`--steps`: fine-tuning steps, 1 to 10,000, default 150."""
    return click.option(
        "--steps", type=click.IntRange(1, 10000), default=150, show_default=True, help=help
    )


augment_option = click.option(
    "--augment/--no-augment",
    default=True,
    show_default=True,
    help="Train on random turns and shifts of the table in each correction's image (SE(2) "
    "augmentation; a direction such as 'left of' is not turned, a place such as 'the left "
    "side' neither turned nor shifted).",
)


def use_policy_settings(ctx: click.Context) -> None:
    """Read the [policy] settings of the data home and make them the group's defaults."""
    from agent.config import load_settings

    optim = load_settings(ctx.find_object(App).home_path).policy
    ctx.meta[OPTIM_KEY] = optim
    ctx.default_map = {
        cmd: {**(ctx.default_map or {}).get(cmd, {}), **{k: getattr(optim, k) for k in keys}}
        for cmd, keys in OPTION_SETTINGS.items()
    }


def settings_optim(**flags):
    """The [policy] settings' `Optim` with the options given on the command line."""
    from agent.policy.settings import Optim

    base = click.get_current_context().meta.get(OPTIM_KEY) or Optim()
    return base.but(**flags)


def say(app: App):
    """Progress lines on stderr (none with --json)."""
    return (lambda m: None) if app.json else (lambda m: click.echo(m, err=True))
