"""The skill tables of `skillgrove.db` and their versioned migrations (`skills.db`).

Tables: `skills` (one row per name: usage counts, timestamps), `skill_versions` (every
version's code, description, example instructions, parameters, author, funnel stage,
verified flag, lineage and content hash), `skill_stats` (episodes and successes per
version and task family), `library_meta` (a generation counter bumped by every write,
so readers can tell their caches are stale).

The same tables are `sqlalchemy.Table`s (`METADATA`), what the store's queries are
written with on both backends. On SQLite the tables are the `SCHEMA` the first release
wrote (old homes are opened as they are); on Postgres migration 1 creates them from the
metadata (`Double` is double precision there: time stamps keep their full precision).

A schema change is a new `Migration` at the end of `MIGRATIONS`, never an edit of one
that shipped, with its SQLite `sql` and its server `on_engine`; `tests/test_upgrade.py`
opens a home of an earlier release with it.
"""

from __future__ import annotations

import sqlalchemy as sa

from skills.db import Migration

METADATA = sa.MetaData()
SKILLS = sa.Table(
    "skills",
    METADATA,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("updated", sa.Double, nullable=False),
    sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_used", sa.Double),
)
VERSIONS = sa.Table(
    "skill_versions",
    METADATA,
    sa.Column("name", sa.Text, sa.ForeignKey("skills.name", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("examples", sa.Text, nullable=False),  # a JSON list
    sa.Column("params", sa.Text, nullable=False),  # a JSON list
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("verified", sa.Integer, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("parent_name", sa.Text),
    sa.Column("parent_version", sa.Integer),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("created", sa.Double, nullable=False),
    sa.PrimaryKeyConstraint("name", "version"),
)
STATS = sa.Table(
    "skill_stats",
    METADATA,
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("family", sa.Text, nullable=False),
    sa.Column("episodes", sa.Integer, nullable=False),
    sa.Column("successes", sa.Integer, nullable=False),
    sa.Column("updated", sa.Double, nullable=False),
    sa.PrimaryKeyConstraint("name", "version", "family"),
    sa.ForeignKeyConstraint(
        ["name", "version"],
        ["skill_versions.name", "skill_versions.version"],
        ondelete="CASCADE",
    ),
)
META = sa.Table(
    "library_meta",
    METADATA,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

COMPONENT = "skills"
SCHEMA = """
CREATE TABLE IF NOT EXISTS skills (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    last_used REAL
);
CREATE TABLE IF NOT EXISTS skill_versions (
    name TEXT NOT NULL REFERENCES skills(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    examples TEXT NOT NULL,
    params TEXT NOT NULL,
    author TEXT NOT NULL,
    verified INTEGER NOT NULL,
    stage TEXT NOT NULL,
    parent_name TEXT,
    parent_version INTEGER,
    content_hash TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS skill_stats (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    family TEXT NOT NULL,
    episodes INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (name, version, family),
    FOREIGN KEY (name, version) REFERENCES skill_versions(name, version) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS library_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
TABLES = frozenset({"skills", "skill_versions", "skill_stats", "library_meta"})

MIGRATIONS = (
    Migration(
        1,
        "the skill tables as the first release wrote them",
        SCHEMA,
        needed_to_read=False,
        on_engine=lambda conn: METADATA.create_all(conn),
    ),
)
