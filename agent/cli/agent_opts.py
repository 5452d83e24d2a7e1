"""Options shared by the commands that run the agent (`run`, `learn`, `demo`)."""

from __future__ import annotations

import functools

import click


def agent_options(f):
    """Add the agent's options; the command receives them as one `AgentOptions` (`opts`)."""

    @click.option(
        "--llm",
        metavar="SPEC",
        help="PROVIDER:MODEL (openai:, ollama:, any langchain provider) or hf:/local/model/dir (default: offline rules; also $SKILLGROVE_LLM or [llm] model in <home>/config.toml).",
    )
    @click.option(
        "--llm-base-url", metavar="URL", help="Base URL of an OpenAI-compatible or Ollama server."
    )
    @click.option(
        "--library-url",
        metavar="URL",
        help="A Chroma server for the library index (also $SKILLGROVE_LIBRARY_URL or [library] url in <home>/config.toml).",
    )
    @click.option(
        "--store-url",
        metavar="URL",
        help="A Postgres skill store shared by machines, postgresql+psycopg://... (also $SKILLGROVE_STORE_URL or [library] store_url; default: the data home's SQLite file).",
    )
    @click.option(
        "--episodes",
        type=click.IntRange(1, 100),
        default=5,
        show_default=True,
        help="Evaluation episodes per candidate skill.",
    )
    @click.option(
        "--pass-bar",
        type=click.FloatRange(0.01, 1.0),
        default=0.8,
        show_default=True,
        help="Success rate a candidate needs.",
    )
    @click.option(
        "--retries",
        type=click.IntRange(0, 20),
        default=3,
        show_default=True,
        help="Synthesis retries with feedback (LLM).",
    )
    @click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=None,
        help="Sandbox worker processes (default: 2; with --executor ray, one per CPU of the cluster).",
    )
    @click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
        help="Where evaluation episodes run.",
    )
    @click.option(
        "--ray-address",
        metavar="ADDR",
        help="The Ray cluster's head, HOST:PORT (with --executor ray; default: a Ray started here).",
    )
    @functools.wraps(f)
    def wrapper(
        *args,
        llm,
        llm_base_url,
        library_url,
        store_url,
        episodes,
        pass_bar,
        retries,
        workers,
        executor,
        ray_address,
        **kw,
    ):
        from agent.factory import AgentOptions

        check_ray_address(executor, ray_address)
        opts = AgentOptions(
            llm,
            llm_base_url,
            library_url,
            workers,
            episodes,
            pass_bar,
            retries,
            executor,
            ray_address,
            store_url=store_url,
        )
        return f(*args, opts=opts, **kw)

    return wrapper


def check_ray_address(executor: str, ray_address: str | None) -> None:
    """`--ray-address` without `--executor ray` is a usage error (exit 2), never ignored."""
    if ray_address is not None and executor != "ray":
        raise click.UsageError("--ray-address needs --executor ray")


def perception_options(f):
    """Add `--perception oracle|policy` and `--policy-version N` (passed on as
    `perception`, `policy_version`)."""
    f = click.option(
        "--policy-version",
        metavar="N",
        default=None,
        help="Policy checkpoint for --perception policy (default: the latest).",
    )(f)
    return click.option(
        "--perception",
        type=click.Choice(["oracle", "policy"]),
        default="oracle",
        show_default=True,
        help="Where grasp and place poses come from: privileged sim state, or the learned policy.",
    )(f)


def executor_options(f):
    """Add `--executor` and `--ray-address` (passed on as `executor`, `ray_address`) to a
    command that evaluates skills outside the agent (`skills verify`)."""

    command = f

    @functools.wraps(command)
    def checked(*args, executor, ray_address, **kw):
        check_ray_address(executor, ray_address)
        return command(*args, executor=executor, ray_address=ray_address, **kw)

    f = click.option(
        "--ray-address",
        metavar="ADDR",
        help="The Ray cluster's head, HOST:PORT (with --executor ray; default: a Ray started here).",
    )(checked)
    return click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
        help="Where evaluation episodes run.",
    )(f)


def run_curriculum(app, suite: str, opts):
    """Load a suite and run it through a fresh-built agent with a progress bar.

    Returns (suite, report, output directory, library size).
    """
    import time

    from agent.cli.progress import progress
    from agent.factory import build_agent
    from agent.run.curriculum import load_suite, run_suite

    s = load_suite(suite)
    out = app.home / "learn" / f"{s.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    total = len(s.tasks) * s.passes
    with (
        build_agent(app.home, opts) as agent,
        progress(f"{s.name} curriculum", total, quiet=app.json) as advance,
    ):
        report = run_suite(agent, s, out, advance)
        size = len(agent.library.list())
    return s, report, out, size
