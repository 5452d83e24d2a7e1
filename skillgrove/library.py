"""`skillgrove.Library`: a data home opened from Python, with the CLI's commands as methods.

Each method does what the matching command does (through the same functions, see
`skillgrove.ops` and `agent.policy.commands`) and returns a typed record with the fields
of that command's `--json` object. Nothing stays open between calls: every call opens the
skill library, the run store or a checkpoint and closes it before returning, as a
command does, so a `Library` needs no closing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skillgrove.records import (
    CorrectionResult,
    EvalResult,
    RunResult,
    SearchResult,
    SkillVersion,
    TrainResult,
    VerifyReport,
)

DEFAULT_FAMILIES = ("pick", "place", "stack", "put-in-bowl", "rotate", "align")


def _plain(data: dict) -> dict:
    """`data` as the CLI's JSON has it (paths as text, arrays and tuples as lists)."""

    def default(o: Any) -> Any:
        if hasattr(o, "tolist"):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"not JSON serializable: {type(o).__name__}")

    return json.loads(json.dumps(data, default=default))


class Library:
    """A skillgrove data home: its skill library, run records and policy checkpoints.

    Args:
        home: the data home (default: `$SKILLGROVE_HOME` or `~/.skillgrove`), created if
            missing.
        llm: PROVIDER:MODEL for the planner (default: the offline rules, or the data
            home's `[llm]` setting), as `--llm`.
        llm_base_url, library_url, store_url, episodes, pass_bar, retries, workers: as the
            options of `skillgrove run` of those names (`store_url`: a Postgres store).

    Raises:
        AgentError: the data home cannot be written.
    """

    def __init__(
        self,
        home: str | os.PathLike | None = None,
        *,
        llm: str | None = None,
        llm_base_url: str | None = None,
        library_url: str | None = None,
        store_url: str | None = None,
        episodes: int = 5,
        pass_bar: float = 0.8,
        retries: int = 3,
        workers: int = 2,
    ) -> None:
        from agent.factory import AgentOptions

        self.home = _writable_home(home)
        self.options = AgentOptions(
            llm=llm,
            llm_base_url=llm_base_url,
            library_url=library_url,
            store_url=store_url,
            workers=workers,
            episodes=episodes,
            pass_bar=pass_bar,
            retries=retries,
        )

    def __repr__(self) -> str:
        return f"Library({str(self.home)!r})"

    @contextmanager
    def _skills(self) -> Iterator[Any]:
        from agent.factory import open_home_library
        from agent.plan.goal_reader import read_template

        with open_home_library(self.home, self.options.library_url, self.options.store_url) as lib:
            lib.goal_reader = read_template  # the Searcher's goal channel
            yield lib

    # -- the agent -------------------------------------------------------------------------
    def run(
        self,
        instruction: str,
        *,
        objects: str | None = None,
        goal: str | None = None,
        task: str | None = None,
        seed: int = 0,
        distractors: int | None = None,
        perception: str = "oracle",
        policy_version: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Carry out `instruction`: reuse, adapt or write a skill, prove it, run it.

        Args:
            objects: the scene, e.g. "red cube, blue bowl" (default: what the text names).
            goal: the goal formula, e.g. "left_of(red cube, blue bowl)" (default: read
                from the instruction).
            task: the task family that builds and judges the scene (default: inferred).
            seed: the scene seed (0 to 2**31 - 1).
            distractors: other objects added to a scene from words (default 1).
            perception: "oracle" (sim state) or "policy" (the learned policy's poses).
            policy_version: the checkpoint for "policy" (default: the latest).
            log: called with each progress line (default: silent).

        Returns:
            the fields of `skillgrove run --json`; `success` False means the run ended but
            the goal does not hold (the CLI's exit 3).

        Raises:
            AgentError: bad input (a refused goal, an unknown family); nothing ran.
        """
        from agent.errors import AgentError
        from agent.inputs import SEED
        from skillgrove.ops import run_instruction

        SEED.check(seed)
        if distractors is not None and not 0 <= distractors <= 8:
            raise AgentError(f"distractors {distractors} is out of range: give 0 to 8")
        _, data = run_instruction(
            self.home,
            self.options,
            instruction,
            family=task,
            seed=seed,
            goal=goal,
            objects=objects,
            distractors=distractors,
            perception=perception,
            policy_version=policy_version,
            log=log,
        )
        return RunResult.from_dict(_plain(data))

    # -- skills ----------------------------------------------------------------------------
    def search(self, query: str, k: int = 5) -> SearchResult:
        """Rank the skills for `query` and decide: reuse, adapt or synthesize (`skills search`)."""
        from skillgrove.ops import search_skills

        with self._skills() as lib:
            _, data = search_skills(lib, query, k)
        return SearchResult.from_dict(_plain(data))

    def add_skill(
        self,
        name: str,
        code: str,
        *,
        description: str | None = None,
        tasks: tuple[str, ...] | list[str] = (),
        unverified: bool = False,
        author: str = "human",
    ) -> SkillVersion:
        """Add `code` (Python source whose entry function is `name`) as skill `name`.

        Verified in simulation on `tasks` (default: the families whose slots match its
        parameters) unless `unverified`; a version that fails is not stored (`skills add`).

        Raises:
            SkillError: invalid code, no family fits, or verification failed.
        """
        from skillgrove.ops import add_skill

        with self._skills() as lib:
            _, data = add_skill(lib, name, code, description, unverified, tuple(tasks), author)
        return SkillVersion.from_dict(_plain(data))

    def verify(
        self, name: str | None = None, *, episodes: int = 5, workers: int = 2
    ) -> VerifyReport:
        """Re-prove the latest version of every skill (or of `name`) on fresh scenes.

        A version that fails is marked unverified, one that passes verified (`skills
        verify`); see `report.summary.failed`.
        """
        from skillgrove.ops import verify_skills

        with self._skills() as lib:
            _, data = verify_skills(lib, name, episodes, workers)
        return VerifyReport.from_dict(_plain(data))

    # -- the pose policy -------------------------------------------------------------------
    def train_policy(
        self,
        families: tuple[str, ...] | list[str] = DEFAULT_FAMILIES,
        *,
        n_train: int = 400,
        n_test: int = 50,
        steps: int = 3000,
        seed: int | None = None,
        threads: int | None = None,
        sim_episodes: int = 0,
        log: Callable[[str], None] | None = None,
    ) -> TrainResult:
        """Train a policy on scripted-oracle demonstrations; save a new checkpoint version.

        `seed` and `threads` default to the data home's `[policy]` settings (`policy train`).
        """
        from agent.config import load_settings
        from agent.policy.train import TrainSettings, check_families, train_policy

        optim = load_settings(self.home).policy.but(seed=seed, threads=threads)
        settings = TrainSettings(
            check_families(families), n_train, n_test, steps, optim=optim, sim_episodes=sim_episodes
        )
        return TrainResult.from_dict(_plain(train_policy(self.home, settings, progress=log)))

    def evaluate_policy(
        self,
        version: str | int = "latest",
        *,
        families: list[str] | None = None,
        episodes: int = 30,
        mode: str = "sim",
        threads: int | None = None,
    ) -> EvalResult:
        """Score a checkpoint on held-out scenes (odd seeds) of each family (`policy eval`).

        Args:
            families: default: those the checkpoint was trained on.
            mode: "sim", "proxy" or "robot" (see `agent.policy.commands.evaluate_checkpoint`).
        """
        from agent.config import load_settings
        from agent.policy.commands import evaluate_checkpoint, policy_to_evaluate

        threads = threads or load_settings(self.home).policy.threads
        pol, fams = policy_to_evaluate(self.home, str(version), families, threads)
        return EvalResult.from_dict(
            _plain(evaluate_checkpoint(self.home, pol, fams, mode, episodes))
        )

    def correct(
        self,
        family: str,
        *,
        seed: int = 1,
        version: str | int = "latest",
        action: str = "pick",
        pixel: tuple[float, float] | None = None,
        angle: float | None = None,
        offsets: tuple[float, float, float, float] | None = None,
        expert: str = "human",
    ) -> CorrectionResult:
        """Store a person's correction of the policy's pose on one scene (`policy correct`).

        Args:
            pixel: the corrected point (U, V) in the scene's PNG (the top view enlarged 4x).
            angle: the corrected gripper yaw, degrees.
            offsets: (dx, dy, dz, dyaw): meters and degrees from the predicted pose.

        Raises:
            AgentError: no correction given, or a bad one; nothing is stored.
        """
        from agent.errors import AgentError
        from agent.policy.human import finish_correction, open_correction

        if pixel is None and angle is None and offsets is None:
            raise AgentError("nothing to correct: give a pixel and/or an angle, or offsets")
        px = None if pixel is None else tuple(str(v) for v in pixel)
        ang = None if angle is None else str(angle)
        pol, scene, shown = open_correction(
            self.home, family, seed, str(version), action, px, ang, offsets, expert
        )
        done = finish_correction(self.home, pol.spec, scene, action, px, ang, offsets, expert)
        res = {
            "stored": True,
            "id": done["id"],
            "diagnosis": done["diagnosis"],
            "action": action,
            **shown,
            "corrected": done["corrected"],
        }
        return CorrectionResult.from_dict(_plain(res))


def _writable_home(home: str | os.PathLike | None) -> Path:
    """The data home, created if missing (as the CLI's `--home`); AgentError if unwritable."""
    from agent.errors import AgentError

    raw = os.fspath(home) if home is not None else None
    if raw is not None and not raw.strip():
        raise AgentError("home needs a directory; it was given an empty string")
    path = Path(raw or os.environ.get("SKILLGROVE_HOME") or "~/.skillgrove").expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise AgentError(
            f"data home {str(path)!r} cannot be written: {exc.strerror or exc}"
        ) from None
    return path
