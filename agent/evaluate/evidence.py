"""When a library skill's evidence is recent enough to reuse it without proving it again.

The rule (issue 19, finding 10). A version of a skill is reused on a key (a task family
or a goal template) without a new verification only when all of these hold:

1. it is verified on this machine (imported claims never count, see `skills.bundle`);
2. its stats on the key reach the pass bar (verifications on fresh evaluation scenes plus
   the real runs it made alone under oracle poses, see `agent.loop`);
3. its recent real runs do not contradict them: when the last `RECENT_FAILURES` (M = 2)
   runs it made alone on this machine (oracle poses, so a policy's mistakes do not count)
   all failed, it is not reused until a verification on fresh scenes *newer than those
   failures* passes. Where reuse is decided (`agent.synth.step`, `agent.plan.skills.find`)
   a doubted version is proved again first (family steps) or passed over (goal
   templates).

Evidence ages by being contradicted, not by the clock: the simulator does not drift, so
a verification on fresh scenes stays good until real runs say otherwise. Rule 3 is what
stops a skill with a long record (1000/1000 from a bundle, or from scenes it recognised)
that now fails every run: its large stats would take dozens of failures to fall below the
bar, the rule needs M.

Every verification of a library version is logged here (`verifications` table in the
data home's database, or in the library's Postgres store when it has one: key, time, episodes, successes, verdict and the evaluation seeds
used, so trusted code can reproduce it). Reading writes nothing (the table comes with
the first log), so a read-only home still decides reuse.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from skills.db import DB_NAME, Migration, guarded, migrate, missing_tables, open_db
from skills.engine import begin_write, guard, migrate_engine, server_engine, sqlite_engine

RECENT_FAILURES = 2  # M: this many failed real runs in a row put a version in doubt

SCHEMA = """
CREATE TABLE IF NOT EXISTS verifications (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    key TEXT NOT NULL,
    created REAL NOT NULL,
    episodes INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    seeds TEXT NOT NULL
)
"""
VERIFICATIONS = sa.Table(
    "verifications",
    sa.MetaData(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("episodes", sa.Integer, nullable=False),
    sa.Column("successes", sa.Integer, nullable=False),
    sa.Column("passed", sa.Integer, nullable=False),
    sa.Column("seeds", sa.Text, nullable=False),  # a JSON list
)
V = VERIFICATIONS.c
COMPONENT = "verifications"
# Append only (tests/test_upgrade.py opens old homes). Applied at the first log, so that
# deciding reuse (reading) writes nothing, and a read-only home still decides it; on a
# Postgres store (`store_url`) when the log is opened.
MIGRATIONS = (
    Migration(
        1,
        "the verification log",
        SCHEMA,
        needed_to_read=False,
        on_engine=lambda conn: VERIFICATIONS.create(conn, checkfirst=True),
    ),
)


def summary(recipe: str, verdict) -> dict:
    """A verdict as a run record keeps it: recipe, stage, rate and the seeds it ran on."""
    return {
        "recipe": recipe,
        "stage": verdict.stage,
        "success_rate": verdict.success_rate,
        "seeds": list(verdict.seeds),
    }


class Evidence:
    """The verification log and the recent real runs of library versions.

    Args:
        home: the data home (its `skillgrove.db` holds the runs, and the log by default).
        store_url: the library's Postgres store (`SkillStore.url`): the log lives there,
            beside the skills, so every machine sharing the library decides reuse on the
            same evidence. Run records stay in the home.
    """

    def __init__(self, home: str | Path, store_url: str | None = None) -> None:
        self.path = Path(home) / DB_NAME
        self.url = store_url or None
        self._db = open_db(self.path)
        try:
            with guarded(self.path):
                missing = missing_tables(self._db, frozenset({"verifications", "runs"}))
            self._runs = "runs" not in missing
            if self.url:
                self._engine = server_engine(self.url)
                migrate_engine(self._engine, self.url, COMPONENT, MIGRATIONS)
                self._log = True
            else:
                self._engine = sqlite_engine(self.path)
                self._log = "verifications" not in missing
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._engine.dispose()
        self._db.close()

    def __enter__(self) -> Evidence:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _rows(self, stmt) -> list:
        with guard(self.path, self.url), self._engine.connect() as conn:
            return list(conn.execute(stmt))

    def log(
        self,
        name: str,
        version: int,
        key: str,
        episodes: int,
        successes: int,
        passed: bool,
        seeds: Sequence[int],
    ) -> None:
        """Record one verification of a version on a key (with the seeds it ran on)."""
        if not self._log:
            with guarded(self.path):
                migrate(self._db, self.path, COMPONENT, MIGRATIONS)
            self._log = True
        row = {
            "name": name,
            "version": int(version),
            "key": key,
            "created": time.time(),
            "episodes": int(episodes),
            "successes": int(successes),
            "passed": int(passed),
            "seeds": json.dumps([int(s) for s in seeds]),
        }
        with guard(self.path, self.url), begin_write(self._engine) as tx:
            tx.execute(sa.insert(VERIFICATIONS).values(**row))

    def _of(self, name: str, version: int):
        return sa.and_(V.name == name, V.version == int(version))

    def last_passed(self, name: str, version: int) -> float | None:
        """When a verification of the version last passed (None: never)."""
        if not self._log:
            return None
        stmt = sa.select(sa.func.max(V.created)).where(self._of(name, version), V.passed != 0)
        rows = self._rows(stmt)
        return rows[0][0] if rows else None

    def verifications(self, name: str, version: int) -> list[dict]:
        """The version's logged verifications, newest first."""
        if not self._log:
            return []
        stmt = (
            sa.select(V.key, V.created, V.episodes, V.successes, V.passed, V.seeds)
            .where(self._of(name, version))
            .order_by(V.created.desc())
        )
        return [
            {
                "key": k,
                "created": c,
                "episodes": e,
                "successes": s,
                "passed": bool(p),
                "seeds": json.loads(seeds),
            }
            for k, c, e, s, p, seeds in self._rows(stmt)
        ]

    def recent_runs(self, name: str, version: int, n: int) -> list[tuple[float, bool]]:
        """(time, success) of the version's last `n` real runs alone under oracle poses."""
        if not self._runs:
            return []
        with guarded(self.path):
            rows = self._db.execute(
                "SELECT created, success FROM runs WHERE json_valid(record) "
                "AND json_extract(record, '$.skills') = ? "
                "AND json_extract(record, '$.perception') = 'oracle' "
                "ORDER BY created DESC LIMIT ?",
                (json.dumps([f"{name}@v{int(version)}"]), int(n)),
            ).fetchall()
        return [(float(c), bool(s)) for c, s in rows]

    def doubt(self, version, key: str, pass_bar: float) -> str | None:
        """Why `version` (a `skills.store.SkillVersion`) may not be reused on `key` without
        a new verification (the module's rules), or None when it may."""
        if not version.verified:
            return "it is not verified on this machine"
        episodes, successes = version.stats.get(key, (0, 0))
        if not episodes:
            return f"it has no evidence on {key}"
        if successes / episodes < pass_bar:
            return f"its success rate on {key} is {successes}/{episodes}, below the bar"
        runs = self.recent_runs(version.name, version.version, RECENT_FAILURES)
        if len(runs) == RECENT_FAILURES and not any(ok for _, ok in runs):
            since = self.last_passed(version.name, version.version)
            if since is None or since < runs[0][0]:
                return (
                    f"its last {RECENT_FAILURES} runs failed and it has not passed a "
                    "verification since"
                )
        return None


def store_url(library) -> str | None:
    """The Postgres store of a library (where its verification log lives), or None."""
    return getattr(getattr(library, "store", None), "url", None)
