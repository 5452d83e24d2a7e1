"""The skill tables of `skillgrove.db` and their versioned migrations (`skills.db`).

Tables: `skills` (one row per name: usage counts, timestamps), `skill_versions` (every
version's code, description, example instructions, parameters, author, funnel stage,
verified flag, lineage and content hash), `skill_stats` (episodes and successes per
version and task family), `library_meta` (a generation counter bumped by every write,
so readers can tell their caches are stale).

A schema change is a new `Migration` at the end of `MIGRATIONS`, never an edit of one
that shipped; `tests/test_upgrade.py` opens a home of an earlier release with it.
"""

from __future__ import annotations

from skills.db import Migration

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
    Migration(1, "the skill tables as the first release wrote them", SCHEMA, needed_to_read=False),
)
