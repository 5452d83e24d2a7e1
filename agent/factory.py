"""Build an `Agent` from the command line's choices (the one place that wires clients)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AgentOptions:
    """What a user can choose for the agent."""

    llm: str | None = None
    llm_base_url: str | None = None
    library_url: str | None = None
    workers: int | None = 2  # None: the executor's default
    episodes: int = 5
    pass_bar: float = 0.8
    retries: int = 3
    executor: str = "local"  # local | ray
    ray_address: str | None = None
    perception: str = "oracle"  # oracle | policy: where the run's poses come from
    policy_version: str | None = None  # checkpoint for "policy" (None: the latest)
    display: str | None = None  # run --gui: the run itself is shown on this X display
    store_url: str | None = None  # a Postgres skill store (None: settings, else the home's file)


def open_home_library(
    home: str | Path, library_url: str | None = None, store_url: str | None = None, **kw
):
    """The library of a data home where the settings put it: `library_url` (a Chroma server)
    and `store_url` (a Postgres store) as given, else $SKILLGROVE_LIBRARY_URL and
    $SKILLGROVE_STORE_URL, else `[library]` url and store_url in the home's config file,
    else the home's own files (`agent.config.library_settings`). `kw` goes to
    `skills.library.open_library`."""
    from agent.config import library_settings
    from skills.library import open_library

    where = library_settings(home, library_url, store_url)
    return open_library(home, where.url, store_url=where.store_url, **kw)


def make_executor(opts: AgentOptions, grasps=None):
    """The Evaluator's executor: a local pool of `opts.workers` sandbox workers (2 by
    default), or a pool of Ray actors (`opts.workers` of them, by default one per CPU of
    the cluster at `opts.ray_address`), each with one warm sandbox worker.

    Its workers use oracle poses (see `agent.evaluate.evaluator`); the caller closes it.
    Either sends and learns the `grasps` remembered (`skills.grasps.GraspMemory`).
    An option the chosen executor cannot honour is an AgentError (one line).
    """
    from agent.errors import AgentError
    from agent.evaluate.evaluator import LocalExecutor
    from skills.errors import SkillError

    if opts.executor == "ray":
        from agent.evaluate.ray_executor import RayExecutor

        try:
            return RayExecutor(opts.ray_address, opts.workers, grasps=grasps)
        except SkillError as exc:
            raise AgentError(str(exc)) from None
    if opts.executor != "local":
        raise AgentError(f"unknown executor {opts.executor!r} (local or ray)")
    if opts.ray_address is not None:
        raise AgentError("--ray-address needs --executor ray")
    return LocalExecutor(opts.workers or 2, grasps=grasps)


@contextmanager
def build_evaluator(opts: AgentOptions, home: str | Path | None = None):
    """Yield an `(Evaluator, Scenes)` pair for checking skills outside a run; closes both
    after. With `home`, its remembered grasps are used and taught, as in a run's checks
    (a skill exploration proved with a learned grasp is re-proved with it)."""
    from agent.evaluate.evaluator import Evaluator
    from agent.run.scenes import Scenes
    from skills.grasps import GraspMemory

    grasps = GraspMemory(home) if home is not None else None
    executor, scenes = make_executor(opts, grasps), Scenes()
    try:
        yield Evaluator(executor, opts.episodes, opts.pass_bar), scenes
    finally:
        executor.close()
        scenes.close()


@contextmanager
def build_agent(home: Path, opts: AgentOptions, log=None):
    """Yield a ready Agent; closes the sandbox workers, the library and the run store after.

    The Evaluator's workers always use oracle poses. With `perception="policy"` the run
    itself goes to one more local worker that loads the policy checkpoint (checked here
    first: a missing or corrupt one raises AgentError before anything runs); a
    `policy_version` without policy perception is an AgentError too.
    """
    from agent.errors import AgentError
    from agent.evaluate.evaluator import Evaluator, LocalExecutor
    from agent.llm.backends import make_llm
    from agent.llm.settings import resolve_llm_config
    from agent.loop import Agent
    from agent.plan.goal_reader import read_template
    from agent.plan.planner import LLMPlanner, OfflinePlanner
    from agent.run.records import RunStore
    from agent.run.scenes import Scenes
    from agent.synth.synthesizer import LLMSynthesizer, OfflineSynthesizer
    from skills.grasps import GraspMemory

    if opts.policy_version is not None and opts.perception != "policy":
        raise AgentError("--policy-version needs --perception policy")
    runner, grasps = None, GraspMemory(home)
    if opts.perception == "policy":
        from agent.policy.provider import policy_spec

        runner = LocalExecutor(
            1, provider=policy_spec(home, opts.policy_version), display=opts.display, grasps=grasps
        )
        runner.pool  # noqa: B018 - its worker loads the policy while the agent plans and verifies
    elif opts.perception != "oracle":
        raise AgentError(f"unknown perception {opts.perception!r} (oracle or policy)")
    elif opts.display:  # the run alone gets a GUI worker; verification stays headless
        runner = LocalExecutor(1, display=opts.display, grasps=grasps)
    config = resolve_llm_config(opts.llm, opts.llm_base_url, home)
    llm = None
    if config is not None:
        llm = make_llm(
            config.spec, config.base_url, timeout=config.timeout, max_retries=config.retries
        )
    executor = make_executor(opts, grasps)
    library = open_home_library(home, opts.library_url, opts.store_url)
    library.goal_reader = read_template  # the Searcher's goal channel (skills.goal_channel)
    runs = RunStore(home)
    scenes = Scenes()
    try:
        if llm is None:
            planner, synth = OfflinePlanner(), OfflineSynthesizer()
        else:
            planner, synth = LLMPlanner(llm), LLMSynthesizer(llm, opts.retries)
        evaluator = Evaluator(executor, opts.episodes, opts.pass_bar)
        yield Agent(
            library,
            evaluator,
            planner,
            synth,
            runs,
            scenes,
            llm=llm,
            log=log,
            runner=runner,
            perception=opts.perception,
        )
    finally:
        if runner is not None:
            runner.close()
        executor.close()
        scenes.close()
        runs.close()
        library.close()
