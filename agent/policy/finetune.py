"""Fine-tuning on people's corrections: the human half of the correction loop.

    queue (or `policy correct`) -> a person corrects -> the corrected sample is stored
    -> `finetune_session`: continual fine-tuning on the new corrections -> new checkpoint
    -> re-evaluation on held-out scenes of the corrected families, before and after (a
correction of a run's step, `step_queue`, is learned from like any other; its goal
template has no held-out family scenes, so it is not in the evaluation)

`finetune_session` (what `skillgrove policy finetune` runs) takes the stored corrections
that no fine-tune has used yet (or all of them), loads a checkpoint, lets the strategy
observe the families the checkpoint already knows (their cached demonstrations, as
`feedback.run_feedback` does, so replay, LwF and EWC protect them), fine-tunes with the
one loop (`loop.fit`), executes held-out scenes of the corrected families in the
simulator before and after, and saves the result as a new checkpoint version whose
manifest names its parent and the corrections it learned from.

Which corrections a fine-tune used is kept in the `finetunes` table of the correction
store's own SQLite file (beside `corrections` and the queue's `pending`; older stores
gain the table on first use). The checkpoint is saved first and recorded second; a
crash in between is repaired on the next call from the manifests, which name their
corrections too, so no correction is counted as used without a checkpoint, or the
other way round.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import AgentError
from agent.policy.corrections import CorrectionStore, connect, store_path
from agent.policy.settings import Optim
from skills.db import Migration, guarded, migrate

SCHEMA = """
CREATE TABLE IF NOT EXISTS finetunes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    parent INTEGER,
    strategy TEXT NOT NULL,
    families TEXT NOT NULL,
    corrections TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS finetune_uses (
    finetune INTEGER NOT NULL REFERENCES finetunes(id),
    correction INTEGER NOT NULL,
    PRIMARY KEY (finetune, correction)
);
"""
COMPONENT = "finetunes"
# Append only (tests/test_upgrade.py opens old homes); applied at the first fine-tune.
MIGRATIONS = (
    Migration(1, "fine-tunes and the corrections each used", SCHEMA, needed_to_read=False),
)
KNOWN_ROWS = 200  # most demonstrations per known family the strategy observes
GOAL_KNOWN_ROWS = 600  # most goal-template demonstrations it observes (every template)


@dataclass(frozen=True)
class FinetuneConfig:
    """What one fine-tune on stored corrections does.

    Attributes:
        version: checkpoint to start from (None or "latest": the newest).
        families: only corrections of these families (empty: every family).
        strategy: continual-learning strategy ("replay", "replay+lwf", ...).
        steps: optimizer steps.
        use_all: every stored correction, not only those no fine-tune has used.
        eval_episodes: held-out scenes per corrected family executed before and after
            (0: no evaluation).
        augment: train on random table turns and shifts of each correction's image.
        optim: learning rate, batch size, seed, threads (`settings.Optim`).
    """

    version: int | str | None = None
    families: tuple[str, ...] = ()
    strategy: str = "replay"
    steps: int = 150
    use_all: bool = False
    eval_episodes: int = 20
    augment: bool = True
    optim: Optim = field(default_factory=Optim)


class FinetuneLog:
    """Which corrections each fine-tune used (tables in the correction store's file,
    created by the first `record`; reading an older store writes nothing).

    Args:
        path: the correction store's SQLite file (see `corrections.store_path`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path)

    @staticmethod
    def _exists(db: sqlite3.Connection) -> bool:
        q = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'finetune_uses'"
        return db.execute(q).fetchone() is not None

    def _read(self, sql: str) -> list[tuple]:
        """Rows of a query on the tables ([] while they do not exist)."""
        try:
            with closing(self._connect()) as db:
                return db.execute(sql).fetchall() if self._exists(db) else []
        except sqlite3.DatabaseError as exc:
            raise AgentError(f"corrections store {self.path} is unusable: {exc}") from None

    def used(self) -> set[int]:
        """Ids of the corrections some fine-tune has used."""
        return {int(r[0]) for r in self._read("SELECT DISTINCT correction FROM finetune_uses")}

    def record(
        self,
        version: int,
        sha256: str,
        parent: int | None,
        strategy: str,
        families: list[str],
        ids: list[int],
    ) -> None:
        """Note that checkpoint `version` (file hash `sha256`) learned from `ids`."""
        with closing(self._connect()) as db:
            with guarded(self.path):
                migrate(db, self.path, COMPONENT, MIGRATIONS)
            with db:
                if db.execute("SELECT 1 FROM finetunes WHERE sha256 = ?", (sha256,)).fetchone():
                    return
                cur = db.execute(
                    "INSERT INTO finetunes (created, version, sha256, parent, strategy, families, corrections)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        time.time(),
                        int(version),
                        sha256,
                        parent,
                        strategy,
                        json.dumps(families),
                        json.dumps(ids),
                    ),
                )
                db.executemany(
                    "INSERT OR IGNORE INTO finetune_uses (finetune, correction) VALUES (?, ?)",
                    [(cur.lastrowid, int(i)) for i in ids],
                )

    def reconcile(self, manifests: list[dict]) -> None:
        """Record fine-tune checkpoints whose manifest exists but whose row does not (a
        crash between saving and recording)."""
        known = {r[0] for r in self._read("SELECT sha256 FROM finetunes")}
        for m in manifests:
            if (
                m.get("kind") == "finetune"
                and m.get("sha256") not in known | {None}
                and isinstance(m.get("corrections"), list)
            ):
                self.record(
                    m["version"],
                    m["sha256"],
                    m.get("parent"),
                    str(m.get("strategy")),
                    list(m.get("families") or []),
                    [int(i) for i in m["corrections"]],
                )

    def list(self) -> list[dict]:
        """Every fine-tune, oldest first."""
        keys = ("id", "created", "version", "parent", "strategy", "families", "corrections")
        rows = self._read(f"SELECT {', '.join(keys)} FROM finetunes ORDER BY id")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for d in out:
            d["families"], d["corrections"] = (
                json.loads(d["families"]),
                json.loads(d["corrections"]),
            )
        return out


def select_corrections(
    home: Path, families: tuple[str, ...] = (), use_all: bool = False
) -> list[dict]:
    """The stored corrections a fine-tune would learn from: {"id", "family", "seed"}, oldest first.

    Raises:
        AgentError: no store, nothing stored (for those families), or nothing new.
    """
    from agent.policy.checkpoint import list_checkpoints

    path = store_path(home)
    hint = (
        "correct predictions first (`skillgrove policy correct`, or `policy queue` and the web UI)"
    )
    which = f" for {', '.join(families)}" if families else ""
    if not path.exists():  # do not create an empty store just to find it empty
        raise AgentError(f"no corrections stored: {hint}")
    try:  # read here, the connection closed at once: a refusal leaves no file behind
        with closing(sqlite3.connect(path, timeout=30)) as db:
            got = db.execute("SELECT id, family, seed FROM corrections ORDER BY id").fetchall()
    except sqlite3.DatabaseError as exc:
        raise AgentError(f"corrections store {path} is unusable: {exc}") from None
    rows = [{"id": int(i), "family": f, "seed": int(s)} for i, f, s in got]
    if families:
        rows = [r for r in rows if r["family"] in families]
    if not rows:
        raise AgentError(f"no corrections stored{which}: {hint}")
    if use_all:
        return rows
    log = FinetuneLog(path)
    log.reconcile(list_checkpoints(home))
    used = log.used()
    new = [r for r in rows if r["id"] not in used]
    if not new:
        raise AgentError(
            f"no new corrections{which} since the last fine-tune ({len(rows)} stored, all used): "
            f"{hint}, or pass --all to learn from them again"
        )
    return new


def held_out_seeds(n: int, avoid: set[int]) -> list[int]:
    """The first `n` evaluation seeds (odd, as `policy eval`) that are not in `avoid`:
    a scene a person corrected (the queue draws them from these seeds) is not held out."""
    from agent.policy.data import split_seeds

    seeds = split_seeds("test", n + len(avoid))
    return [s for s in seeds if s not in avoid][:n]


def _known_data(home: Path, policy, families: list[str]):
    """What the checkpoint already knows, prepared, for the strategy to observe (None if
    nothing): demonstrations of its families (the cached training set of its base
    training when there is one, at most KNOWN_ROWS each) and, for a checkpoint trained on
    goal templates, up to GOAL_KNOWN_ROWS of its goal-template demonstrations
    (`known_goal_samples`). Returns (prepared or None, demonstrations per family)."""
    from agent.policy.data import dataset_path, load_demos
    from agent.policy.prepare import Prepared, prepare

    n = int(policy.info.get("n_known") or policy.info.get("n_train") or KNOWN_ROWS)
    parts = []
    for f in families:
        cached = dataset_path(home, f, "train", n, policy.spec).exists()
        s = load_demos(home, f, "train", n if cached else min(n, KNOWN_ROWS), policy.spec)
        parts.append(
            prepare(s.take(range(min(len(s), KNOWN_ROWS))), policy.spec, policy.encoder, 0)
        )
    goals = known_goal_samples(home, policy)
    if goals is not None:
        parts.append(prepare(goals, policy.spec, policy.encoder, 0))
    if not parts:
        return None, 0
    return Prepared.cat(parts), (n if families else 0)


def known_goal_samples(home: Path, policy):
    """A goal-template checkpoint's own training demonstrations (the largest cached
    training set of the home, else GOAL_KNOWN_ROWS rendered now), at most GOAL_KNOWN_ROWS
    rows; None for a checkpoint not trained on goal templates."""
    from agent.policy.goal_data import largest_cached, load_goal_demos

    if not policy.info.get("goal_templates"):
        return None
    spec = policy.spec
    n = largest_cached(home, "train", spec) or GOAL_KNOWN_ROWS
    s = load_goal_demos(home, "train", n, spec).samples
    return s.take(range(min(len(s), GOAL_KNOWN_ROWS)))


def _evaluate(policy, seeds: dict[str, list[int]], world) -> dict:
    from agent.policy.evaluate import evaluate_sim

    return {f: evaluate_sim(policy, f, s, world).to_dict() for f, s in seeds.items() if s}


def finetune_session(
    home: Path, config: FinetuneConfig, embedder=None, progress: Callable[[str], None] | None = None
) -> dict:
    """Fine-tune a checkpoint on stored corrections, save it as a new version, report.

    Args:
        home: the data home.
        config: what to do.
        embedder: the instruction embedder (the packaged MiniLM by default).
        progress: callable(str) for progress lines.

    Returns:
        {"version", "parent", "checkpoint", "strategy", "families", "corrected_families",
         "corrections", "steps", "train_seconds", "first_loss", "final_loss", "seconds",
         "eval_seeds": {family: [seeds]},
         "eval": {family: {"before": EvalResult dict, "after": ...}},
         "logdir": the run's TensorBoard directory}

    Raises:
        AgentError: unknown family or strategy, no (new) corrections, a missing or
            corrupt checkpoint, corrections made with another image size. Nothing is
            written before these checks pass.
    """
    from agent.policy.data import SINGLE_ACTION
    from agent.policy.strategies import make_strategies
    from agent.policy.train import check_families, load_policy

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    families = check_families(config.families) if config.families else ()
    make_strategies(config.strategy)  # an unknown strategy fails before any work
    threads = config.optim.threads
    policy = load_policy(home, config.version, embedder, threads=threads)  # hash-checked
    rows = select_corrections(home, families, config.use_all)
    ids = [int(r["id"]) for r in rows]
    store = CorrectionStore(store_path(home))
    corrections = store.get(ids)
    bad = [c for c in corrections if c.rgb.shape[:2] != policy.spec.shape]
    if bad:
        (h, w), (sh, sw) = bad[0].rgb.shape[:2], policy.spec.shape
        raise AgentError(
            f"correction #{bad[0].id} was made on a {w}x{h} image, not this checkpoint's {sw}x{sh}"
        )
    corrected = list(dict.fromkeys(c.family for c in corrections))
    # the families whose demonstrations the strategy observes (goal templates have none cached)
    had = [f for f in policy.info.get("families") or [] if isinstance(f, str)]
    known = [f for f in had if f in SINGLE_ACTION]
    parent = policy.info.get("version")
    name = f"v{parent:04d}" if isinstance(parent, int) else "the checkpoint"
    say(
        f"fine-tuning {name} on {len(ids)} corrections of {', '.join(corrected)} with {config.strategy}"
    )

    from agent.policy.augment import Augment
    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.curves import Curves
    from agent.policy.loop import FitConfig, fit, observe
    from agent.policy.prepare import prepare
    from sim.world import World

    plugins = make_strategies(config.strategy)
    old_data, n_known = _known_data(home, policy, known)
    # held-out scenes exist for task families; a run step's goal template has none here
    scored = [f for f in corrected if f in SINGLE_ACTION]
    every = {f: {r["seed"] for r in store.list(f)} for f in scored}
    seeds = {f: held_out_seeds(config.eval_episodes, every[f]) for f in scored}
    world = World(image_size=(policy.spec.render, policy.spec.render))
    try:
        before = _evaluate(policy, seeds, world)
        if before:
            say("before: " + ", ".join(f"{f} {r['success']:.2f}" for f, r in before.items()))
        if old_data is not None:  # the strategy observes what the checkpoint knows
            observe(policy.model, old_data, plugins, config.optim.threads)
        data = prepare(store.samples(ids), policy.spec, policy.encoder, task=1)
        fc = FitConfig(
            config.steps, config.optim, augment=Augment(policy.spec) if config.augment else None
        )
        curves = Curves.open(home, "finetune")
        res = fit(
            policy.model, data, fc, plugins, index=1, name="+".join(corrected), log=curves.loss()
        )
        policy.model = res.model
        say(
            f"{config.steps} steps in {res.seconds:.1f} s, loss {res.first_loss:.3f} -> {res.final_loss:.3f}"
        )
        after = _evaluate(policy, seeds, world)
        if after:
            say("after:  " + ", ".join(f"{f} {r['success']:.2f}" for f, r in after.items()))
    finally:
        world.close()
    evals = {f: {"before": before[f], "after": after[f]} for f in before}
    curves.scalar("corrections/used", len(ids), 1)
    for f, e in evals.items():  # step 0: before the fine-tune, step 1: after it
        curves.scalar(f"success/{f}", e["before"]["success"], 0)
        curves.scalar(f"success/{f}", e["after"]["success"], 1)
    curves.close()
    meta = {
        "kind": "finetune",
        "parent": parent,
        "corrections": ids,
        "strategy": config.strategy,
        "families": list(dict.fromkeys([*had, *corrected])),
        "corrected_families": corrected,
        "steps": config.steps,
        "augment": config.augment,
        "seed": config.optim.seed,
        "n_known": n_known or None,
        "goal_templates": bool(policy.info.get("goal_templates")),
        "eval": evals,
        "eval_seeds": seeds,
    }
    info = save_checkpoint(home, policy.model, policy.spec, policy.encoder.name, meta)
    FinetuneLog(store_path(home)).record(
        info.version, info.sha256, parent, config.strategy, meta["families"], ids
    )
    return {
        "version": info.version,
        "parent": parent,
        "checkpoint": str(info.path),
        "strategy": config.strategy,
        "families": meta["families"],
        "corrected_families": corrected,
        "corrections": ids,
        "steps": config.steps,
        "augment": config.augment,
        "train_seconds": res.seconds,
        "first_loss": res.first_loss,
        "final_loss": res.final_loss,
        "seconds": time.perf_counter() - t0,
        "eval_seeds": seeds,
        "eval": evals,
        "logdir": str(curves.logdir),
    }
