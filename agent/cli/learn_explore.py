"""`skillgrove learn --explore`: the agent proposes its own goals and practises them.

The work is `agent.explore` (see its docstring); this module checks the options, shows a
progress bar (episodes, or minutes with `--minutes` alone) and prints the session: each
episode (what was practised, why, the verdict, the false atoms), competence per goal
template, library growth and the policy's fine-tunes.

Exit status: 0 when the session ran to its budget (failed episodes are what exploration
is for), 130 when interrupted (what was learned is kept; the next session goes on from
it), 1 on an error, 2 on a usage error.
"""

from __future__ import annotations

from dataclasses import replace

import click

from agent.cli import App, emit

DEFAULT_BUDGET = 10
EXIT_INTERRUPTED = 130


def check_explore_options(explore: bool, given: dict) -> None:
    """Options of exploration without `--explore`, or `--suite` with it: a usage error."""
    if explore:
        if given.get("suite"):
            raise click.UsageError("--suite and --explore exclude each other")
        return
    extra = [
        f"--{k.replace('_', '-')}"
        for k, v in given.items()
        if k != "suite" and v not in (None, False)
    ]
    if extra:
        raise click.UsageError(f"{', '.join(extra)} need --explore")


def run_explore(
    app: App,
    opts,
    budget: int | None,
    minutes: float | None,
    objects: str | None,
    perception: str,
    seed: int,
    train_policy: bool,
    finetune_every: int | None,
    strategy: str,
    practice: bool = True,
) -> None:
    """Run one exploration session and print it (see the module docstring)."""
    from agent.explore.loop import ExploreOptions, Explorer
    from agent.factory import build_agent

    if budget is None and minutes is None:
        budget = DEFAULT_BUDGET
    train = train_policy or perception == "policy"
    if finetune_every is not None and not train:
        raise click.UsageError("--finetune-every needs --train-policy or --perception policy")
    if not practice and not train:
        raise click.UsageError("--no-practice needs --train-policy or --perception policy")
    xopts = ExploreOptions(
        episodes=budget,
        minutes=minutes,
        objects=objects,
        seed=seed,
        train_policy=train,
        finetune_every=finetune_every,
        strategy=strategy,
        practice=practice,
        perception=perception,
    )
    agent_opts = replace(opts, perception=perception)
    home = app.home
    bar = _bar(app, budget, minutes)
    # built first: bad --objects is one line, before any bar is drawn or anything written
    explorer = Explorer(home, lambda: build_agent(home, agent_opts), xopts, bar.update)
    with bar:
        try:
            summary = explorer.run()
        except KeyboardInterrupt:
            summary = explorer.interrupted
    emit(app, summary, lambda: _human(summary))
    if summary["status"] == "interrupted":
        click.get_current_context().exit(EXIT_INTERRUPTED)


class _bar:
    """A progress bar over episodes (`--budget`) or seconds (`--minutes` alone)."""

    def __init__(self, app: App, budget: int | None, minutes: float | None) -> None:
        self.by_time = budget is None
        self.total = int(minutes * 60) if self.by_time else budget
        self.quiet = app.json
        self.done = 0
        self.advance = lambda n=1: None

    def __enter__(self):
        from agent.cli.progress import progress

        label = "exploring (seconds)" if self.by_time else "exploring"
        self._cm = progress(label, self.total, quiet=self.quiet)
        self.advance = self._cm.__enter__()
        return self

    def update(self, episodes: int, seconds: float) -> None:
        now = min(self.total, int(seconds) if self.by_time else episodes)
        if now > self.done:
            self.advance(now - self.done)
            self.done = now

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _human(s: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    t = Table(
        "#", "template", "goal", "result", "how", "chosen", title=f"Exploration {s['session']}"
    )
    for i, e in enumerate(s["episodes"], 1):
        result = (
            "yes"
            if e["success"]
            else "NO: "
            + (", ".join(a["atom"] for a in e["false_atoms"]) or (e["reason"] or e["status"]))
        )
        t.add_row(
            str(i), e["template"], e["goal"], result, ", ".join(e["decisions"]) or "-", e["rule"]
        )
    con.print(t)
    c = Table("template", "episodes", "held", "recent", "progress", "state", title="Competence")
    for x in s["competence"]:
        if x["attempts"] or x["state"] != "new":
            c.add_row(
                x["template"],
                str(x["attempts"]),
                str(x["successes"]),
                "-" if x["recent"] is None else f"{x['recent']:.0%}",
                "-" if x["progress"] is None else f"{x['progress']:.2f}",
                f"{x['state']}: {x['reason']}",
            )
    con.print(c)
    lib = s["library"]
    con.print(
        f"{len(s['episodes'])} episodes ({s['success_rate']:.0%} held), {len(s['dropped'])} goals "
        f"dropped, library {lib['before']} -> {lib['after']} skills, {s['seconds']} s; "
        f"stopped: {s['stopped']}; {s['history']['episodes']} episodes in the history"
    )
    for p in s["policy"]:
        f, q = p["finetune"], p["queue"]
        con.print(
            f"policy after {p['after_episodes']} episodes: fine-tune {f['status']}"
            f"{'' if f['status'] == 'done' else ' (' + f['reason'] + ')'}, failures queued: {q['status']}"
        )
