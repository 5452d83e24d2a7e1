"""`skillgrove learn --suite NAME`: a curriculum of tasks, with a report and plots.

`skillgrove learn --explore`: the agent proposes its own goals and practises them
(`agent.cli.learn_explore`, the work in `agent.explore`)."""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.agent_opts import agent_options, run_curriculum
from agent.cli.learn_explore import DEFAULT_BUDGET, check_explore_options, run_explore
from agent.cli.run_cmd import EXIT_NOT_REACHED
from agent.inputs import SEED


@click.command()
@click.option(
    "--suite",
    default=None,
    help="Suite name (agent/suites/) or path to a suite JSON file.  [default: basic]",
)
@click.option(
    "--explore",
    is_flag=True,
    help="Propose goals from the goal language and practise them (instead of a suite).",
)
@click.option(
    "--budget",
    type=click.IntRange(1, 100_000),
    default=None,
    help=f"--explore: episodes this session (default {DEFAULT_BUDGET} unless --minutes).",
)
@click.option(
    "--minutes",
    type=click.FloatRange(0.0, 100_000.0, min_open=True),
    default=None,
    help="--explore: start no episode after this many minutes.",
)
@click.option(
    "--objects",
    metavar="TEXT",
    default=None,
    help='--explore: the object kinds (or descriptions) scenes use, e.g. "cube, duck, bowl" (default: the whole catalogue).',
)
@click.option(
    "--perception",
    type=click.Choice(["oracle", "policy"]),
    default=None,
    help="--explore: where the runs' poses come from (policy: also fine-tunes it).  [default: oracle]",
)
@click.option(
    "--seed", type=SEED.click_type(), default=None, help="--explore: seed of the goals drawn."
)
@click.option(
    "--train-policy",
    is_flag=True,
    help="--explore: fine-tune the pose policy on the successful runs (no expert label) and queue the failures for corrections.",
)
@click.option(
    "--finetune-every",
    type=click.IntRange(1, 100_000),
    default=None,
    help="--explore with policy training: fine-tune every N episodes (default: at the end).",
)
@click.option(
    "--strategy",
    default=None,
    help="--explore with policy training: the continual-learning strategy.  [default: replay]",
)
@click.option(
    "--no-practice",
    is_flag=True,
    help="--explore with policy training: learn from successful runs only (by default a "
    "failed run's steps are tried again in the simulator and train too).",
)
@agent_options
@json_option
@pass_app
def learn(
    app: App,
    suite: str | None,
    explore: bool,
    budget: int | None,
    minutes: float | None,
    objects: str | None,
    perception: str | None,
    seed: int | None,
    train_policy: bool,
    finetune_every: int | None,
    strategy: str | None,
    no_practice: bool,
    opts,
) -> None:
    """Run a curriculum: every task through the agent, pass after pass; report and plots.

    With --explore, the agent proposes its own goals (relations, regions, sets, sequences,
    start states over scenes it generates), chooses what to practise by its learning
    progress per goal template, and runs each through the agent like `run`; every
    episode is stored at once, so an interrupted session loses nothing and the next one
    goes on from the history. The budget is per session.

    \b
    Exit status:
      0  every task's goal held (--explore: the session ran to its budget)
      3  the curriculum ran, but some task's goal was not reached
      1  an error (one line on stderr)
      2  a usage error
      130  --explore was interrupted (what it learned is kept)
    """
    given = {
        "suite": suite,
        "budget": budget,
        "minutes": minutes,
        "objects": objects,
        "perception": perception,
        "seed": seed,
        "train_policy": train_policy,
        "finetune_every": finetune_every,
        "strategy": strategy,
        "no_practice": no_practice,
    }
    check_explore_options(explore, given)
    if explore:
        run_explore(
            app,
            opts,
            budget,
            minutes,
            objects,
            perception or "oracle",
            seed or 0,
            train_policy,
            finetune_every,
            strategy or "replay",
            practice=not no_practice,
        )
        return
    s, report, out, _ = run_curriculum(app, suite or "basic", opts)
    summary = {k: report[k] for k in ("suite", "passes", "success_rate", "seconds", "dir")}
    summary["tasks"] = [
        {
            k: r[k]
            for k in ("pass", "family", "seed", "success", "decisions", "llm_calls", "seconds")
        }
        for r in report["tasks"]
    ]

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table(
            "pass", "family", "seed", "success", "decisions", "s", title=f"Curriculum {s.name}"
        )
        for r in report["tasks"]:
            t.add_row(
                str(r["pass"]),
                r["family"],
                str(r["seed"]),
                "yes" if r["success"] else "NO",
                ", ".join(r["decisions"]) or "-",
                f"{r['seconds']:.1f}",
            )
        con = Console()
        con.print(t)
        for p in report["passes"]:
            con.print(
                f"pass {p['pass']}: success {p['success_rate']:.0%}, reuse without synthesis {p['reuse_rate']:.0%}, {p['synthesized']} skills synthesized"
            )
        con.print(f"report, plots: {out}")

    emit(app, summary, human)
    if not all(r["success"] for r in report["tasks"]):
        click.get_current_context().exit(EXIT_NOT_REACHED)
