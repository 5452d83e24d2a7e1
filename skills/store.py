"""The skill store: SQLite, the source of truth of the library.

Tables: `skills` (one row per name: usage counts, timestamps), `skill_versions` (every
version's code, description, example instructions, parameters, author, funnel stage,
verified flag, lineage and content hash), `skill_stats` (episodes and successes per
version and task family), `library_meta` (a generation counter bumped by every write,
so readers can tell their caches are stale).

The store does no locking of its own beyond SQLite's: `SkillLibrary` holds the
single-writer file lock around writes. Every write is one SQLite transaction.

Every SQLite failure of the data home's database (this store's and the run records',
`agent.run.records`) becomes one line in one place, `store_error`: the file, what is wrong
(read-only, damaged, locked, disk full) and the next step. Opening and reading write
nothing, so a read-only database still lists, shows and searches.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from skills.errors import SkillError

DB_NAME = "skillgrove.db"
DOCTOR = "`skillgrove skills doctor`"
AUTHORS = ("seed", "synthesizer", "human")  # plus "llm:<model>"
STAGES = ("unverified", "syntax", "runtime", "success")
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
# the goal template a skill is filed under: a docstring line or a comment `Goal: ...`
GOAL_LINE = re.compile(r"^\s*(?:#\s*)?Goal:\s*(.+?)\s*$", re.M)

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


def store_error(path: Path, exc: BaseException, opening: bool = False) -> SkillError:
    """The one line for an SQLite failure on the database `path`: what is wrong, next step.

    The one place where SQLite errors of the data home's database become messages (the
    skill store and the run records use it), so every command says the same thing.

    Args:
        opening: the failure came while opening the file (the message says so).
    """
    code = str(getattr(exc, "sqlite_errorname", None) or "")
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    low = detail.lower()
    if code.startswith("SQLITE_READONLY") or "readonly database" in low:
        why = "it is read-only, nothing was written"
        step = f"make it writable (chmod u+w, chattr -i), then run {DOCTOR}"
    elif code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or any(
        w in low for w in ("malformed", "not a database", "could not decode")
    ):
        why, step = f"it is damaged ({detail})", f"run {DOCTOR} to salvage what is readable"
    elif code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        why = f"another process holds it ({detail})"
        step = f"try again, and if it stays locked run {DOCTOR}"
    elif code.startswith("SQLITE_FULL") or "disk is full" in low:
        why, step = "the disk is full", f"free some space, then run {DOCTOR}"
    else:
        why, step = detail if opening else f"it cannot be used ({detail})", f"run {DOCTOR}"
    head = f"the library database {path}" + (" cannot be opened" if opening else "")
    return SkillError(f"{head}: {why}; {step}")


def damaged(detail: str) -> sqlite3.DatabaseError:
    """An SQLite-style error for damage found outside SQLite (a row that does not parse)."""
    exc = sqlite3.DatabaseError(detail)
    exc.sqlite_errorname = "SQLITE_CORRUPT"
    return exc


@contextmanager
def guarded(path: Path, opening: bool = False) -> Iterator[None]:
    """Turn SQLite errors inside the block into `store_error`'s one line."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(path, exc, opening) from None


def open_db(path: Path, schema: str, tables: frozenset[str]) -> sqlite3.Connection:
    """Connect to the data home's database in WAL mode; create `tables` from `schema` when
    some are missing. Writes nothing when they exist, so a read-only file opens (a new
    table that cannot be created is the caller's to notice, see `missing_tables`).

    Raises:
        SkillError: one line (`store_error`) when the file cannot be opened.
    """
    with guarded(path, opening=True):
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            if missing_tables(db, tables):
                db.executescript(schema)
        except BaseException:
            db.close()
            raise
    return db


def missing_tables(db: sqlite3.Connection, tables: frozenset[str]) -> set[str]:
    """Which of `tables` the database does not have."""
    have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return set(tables) - have


@dataclass(frozen=True)
class Param:
    """One parameter of a skill's entry function (after `robot`)."""

    name: str
    required: bool
    default: str | None = None  # source text of the default, when there is one


@dataclass(frozen=True)
class SkillVersion:
    """One stored version of a skill."""

    name: str
    version: int
    code: str
    description: str
    examples: tuple[str, ...]
    params: tuple[Param, ...]
    author: str
    verified: bool
    stage: str
    parent: tuple[str, int] | None
    content_hash: str
    created: float
    stats: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    @property
    def success_rate(self) -> dict[str, float]:
        """Success rate per task family or goal template (those with an episode)."""
        return {f: s / e for f, (e, s) in self.stats.items() if e}

    @property
    def goal_template(self) -> str | None:
        """The goal template the skill is filed under (`Goal: left_of(?a, ?b)`), if any."""
        m = GOAL_LINE.search(self.code)
        return m.group(1) if m else None


@dataclass(frozen=True)
class SkillInfo:
    """A skill: its latest version plus usage counts."""

    latest: SkillVersion
    versions: int
    uses: int
    created: float
    updated: float
    last_used: float | None

    @property
    def name(self) -> str:
        return self.latest.name


@dataclass(frozen=True)
class ParsedSource:
    """What `parse_source` reads from skill code."""

    params: tuple[Param, ...]
    docstring: str
    examples: tuple[str, ...]


def check_name(name: str) -> str:
    """A skill name is a lowercase Python identifier (it is also the entry function)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SkillError(
            f"bad skill name {name!r}: use lowercase letters, digits and _ (e.g. pick_up)"
        )
    return name


def check_author(author: str) -> str:
    if author in AUTHORS or (author.startswith("llm:") and len(author) > 4):
        return author
    raise SkillError(f"bad author {author!r}: one of seed, synthesizer, human, llm:<model>")


def parse_source(code: str, entry: str) -> ParsedSource:
    """Parameters, docstring and example instructions of the entry function `entry`.

    Example instructions are the indented lines under an `Examples:` heading in the
    entry function's docstring.

    Raises:
        SkillError: the code does not parse, or has no `def entry(robot, ...)`.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise SkillError(f"syntax error in skill code, line {exc.lineno}: {exc.msg}") from None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    if fn is None:
        raise SkillError(f"the skill code has no entry function 'def {entry}(robot, ...)'")
    args = fn.args
    positional = args.posonlyargs + args.args
    if not positional or positional[0].arg != "robot":
        raise SkillError(f"the entry function {entry}() must take `robot` as its first parameter")
    params: list[Param] = []
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional[1:], defaults[1:], strict=True):
        params.append(Param(a.arg, d is None, None if d is None else ast.unparse(d)))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(Param(a.arg, d is None, None if d is None else ast.unparse(d)))
    doc = ast.get_docstring(fn) or ""
    return ParsedSource(tuple(params), doc, tuple(_examples(doc)))


def _examples(doc: str) -> list[str]:
    out, inside = [], False
    for line in doc.splitlines():
        if line.strip().lower() in ("examples:", "example instructions:"):
            inside = True
        elif inside and line.startswith((" ", "\t")) and line.strip():
            out.append(line.strip().lstrip("-* ").strip())
        elif inside and line.strip():
            break
    return out


def summary(doc: str) -> str:
    """First paragraph of a docstring, on one line."""
    return " ".join(doc.strip().split("\n\n")[0].split())


def content_hash(*parts: str) -> str:
    """sha256 (hex, 16 chars) over the parts, order-sensitive."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


class SkillStore:
    """SQLite access to the skill tables of the data home.

    Args:
        path: the database file (created with its tables if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = open_db(self.path, SCHEMA, TABLES)
        self._mutex = threading.RLock()

    def close(self) -> None:
        self._db.close()

    # -- transactions --------------------------------------------------------------------
    @contextmanager
    def transaction(self, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolls back on error.

        Args:
            bump: increment the generation counter (what is searched has changed).
        """
        with self._mutex, guarded(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                if bump:
                    self._db.execute(
                        "INSERT INTO library_meta(key, value) VALUES('generation', '1') "
                        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                    )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT may have rolled back already
                    self._db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, args: tuple = ()) -> list[dict]:
        with self._mutex, guarded(self.path):
            cur = self._db.execute(sql, args)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def integrity(self) -> str | None:
        """None when SQLite's quick check passes, else its first complaint."""
        try:
            with self._mutex:
                rows = self._db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        first = rows[0][0] if rows else "ok"
        return None if first == "ok" else str(first)

    def generation(self) -> int:
        """A counter bumped by every committed write (from any process)."""
        rows = self._rows("SELECT value FROM library_meta WHERE key = 'generation'")
        return int(rows[0]["value"]) if rows else 0

    def meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM library_meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def library_id(self) -> str:
        """A random id given to this library when first asked (names its index collection)."""
        found = self.meta("library_id")
        if found is not None:  # read first: a read-only database has one already
            return found
        with self._mutex, guarded(self.path):
            self._db.execute(
                "INSERT OR IGNORE INTO library_meta(key, value) VALUES('library_id', ?)",
                (uuid.uuid4().hex[:12],),
            )
        return str(self.meta("library_id"))

    @staticmethod
    def set_meta(tx: sqlite3.Connection, key: str, value: str) -> None:
        tx.execute("INSERT OR REPLACE INTO library_meta(key, value) VALUES(?, ?)", (key, value))

    # -- writes (call inside `transaction()`) --------------------------------------------
    @staticmethod
    def insert_version(tx: sqlite3.Connection, v: SkillVersion, uses: int = 0) -> None:
        """Insert `v` (its skill row too, when new)."""
        tx.execute(
            "INSERT INTO skills(name, created, updated, uses) VALUES(?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET updated = excluded.updated",
            (v.name, v.created, v.created, uses),
        )
        tx.execute(
            "INSERT INTO skill_versions VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                v.name,
                v.version,
                v.code,
                v.description,
                json.dumps(list(v.examples)),
                json.dumps([p.__dict__ for p in v.params]),
                v.author,
                int(v.verified),
                v.stage,
                v.parent[0] if v.parent else None,
                v.parent[1] if v.parent else None,
                v.content_hash,
                v.created,
            ),
        )
        for fam, (episodes, successes) in v.stats.items():
            SkillStore.put_stats(tx, v.name, v.version, fam, episodes, successes)

    @staticmethod
    def put_stats(
        tx: sqlite3.Connection, name: str, version: int, family: str, episodes: int, successes: int
    ) -> None:
        if not 0 <= successes <= episodes:
            raise SkillError(f"bad stats for {name} v{version} on {family}: {successes}/{episodes}")
        tx.execute(
            "INSERT OR REPLACE INTO skill_stats VALUES(?, ?, ?, ?, ?, ?)",
            (name, version, family, int(episodes), int(successes), time.time()),
        )

    # -- reads ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [r["name"] for r in self._rows("SELECT name FROM skills ORDER BY name")]

    def next_version(self, name: str) -> int:
        rows = self._rows("SELECT MAX(version) AS v FROM skill_versions WHERE name = ?", (name,))
        return int(rows[0]["v"] or 0) + 1

    def version(self, name: str, version: int | None = None) -> SkillVersion | None:
        """One version (the latest when `version` is None), or None."""
        if version is None:
            rows = self._rows(
                "SELECT * FROM skill_versions WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
            )
        else:
            rows = self._rows(
                "SELECT * FROM skill_versions WHERE name = ? AND version = ?", (name, version)
            )
        return self._version(rows[0]) if rows else None

    def versions(self, name: str) -> list[SkillVersion]:
        rows = self._rows("SELECT * FROM skill_versions WHERE name = ? ORDER BY version", (name,))
        return [self._version(r) for r in rows]

    def latest_versions(
        self, names: list[str] | None = None, with_stats: bool = True
    ) -> list[SkillVersion]:
        """The latest version of every skill (without stats), or of `names`, by name."""
        if names is not None:  # a primary-key lookup per name: fast at any library size
            sql = (
                f"SELECT * FROM skill_versions v WHERE name IN ({','.join('?' * len(names))}) AND version = "
                "(SELECT MAX(version) FROM skill_versions w WHERE w.name = v.name) ORDER BY name"
            )
            return [self._version(r, with_stats) for r in self._rows(sql, tuple(names))]
        sql = (
            "SELECT v.* FROM skill_versions v JOIN (SELECT name, MAX(version) AS mv FROM skill_versions "
            "GROUP BY name) m ON v.name = m.name AND v.version = m.mv ORDER BY v.name"
        )
        return [self._version(r, with_stats=False) for r in self._rows(sql)]

    def entry_count(self) -> int:
        """How many index entries the latest versions imply (1 + examples each)."""
        sql = (
            "SELECT COALESCE(SUM(json_array_length(v.examples) + 1), 0) AS n FROM skill_versions v JOIN "
            "(SELECT name, MAX(version) AS mv FROM skill_versions GROUP BY name) m "
            "ON v.name = m.name AND v.version = m.mv"
        )
        return int(self._rows(sql)[0]["n"])

    def info(self, name: str) -> SkillInfo | None:
        rows = self._rows("SELECT * FROM skills WHERE name = ?", (name,))
        latest = self.version(name)
        if not rows or latest is None:
            return None
        r = rows[0]
        n = self._rows("SELECT COUNT(*) AS n FROM skill_versions WHERE name = ?", (name,))[0]["n"]
        return SkillInfo(latest, n, r["uses"], r["created"], r["updated"], r["last_used"])

    def infos(self) -> list[SkillInfo]:
        skills = {r["name"]: r for r in self._rows("SELECT * FROM skills")}
        counts = {
            r["name"]: r["n"]
            for r in self._rows("SELECT name, COUNT(*) AS n FROM skill_versions GROUP BY name")
        }
        out = []
        for v in self.latest_versions():
            r = skills[v.name]
            out.append(
                SkillInfo(v, counts[v.name], r["uses"], r["created"], r["updated"], r["last_used"])
            )
        return out

    def _version(self, r: dict, with_stats: bool = True) -> SkillVersion:
        stats = {}
        if with_stats:
            for s in self._rows(
                "SELECT family, episodes, successes FROM skill_stats WHERE name = ? AND version = ?",
                (r["name"], r["version"]),
            ):
                stats[s["family"]] = (s["episodes"], s["successes"])
        parent = (r["parent_name"], r["parent_version"]) if r["parent_name"] else None
        try:
            return SkillVersion(
                r["name"],
                r["version"],
                r["code"],
                r["description"],
                tuple(json.loads(r["examples"])),
                tuple(Param(**p) for p in json.loads(r["params"])),
                r["author"],
                bool(r["verified"]),
                r["stage"],
                parent,
                r["content_hash"],
                r["created"],
                stats,
            )
        except (TypeError, ValueError) as exc:  # a row whose bytes were damaged on disk
            what = f"{r.get('name')!r} v{r.get('version')} cannot be read: {type(exc).__name__}"
            raise store_error(self.path, damaged(what)) from None


# -- a damaged database ----------------------------------------------------------------------
def check_file(path: Path) -> str | None:
    """SQLite's quick check of the database file at `path`, read-only: None when it passes
    (or there is no file), else its first complaint."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    first = rows[0][0] if rows else "ok"
    return None if first == "ok" else " ".join(str(first).split())[:200]


def salvage(path: Path) -> dict:
    """Copy every readable row of the damaged database `path` into a fresh file, put that
    in its place and keep the damaged one beside it (`<name>.damaged-<time>`, with its
    `-wal`). Rows on damaged pages are skipped; a skill whose versions survived but whose
    `skills` row did not gets that row back (uses 0); stats of a lost version are dropped.

    The caller holds the library's write lock and has closed its connections.

    Returns:
        {"kept": {table: rows copied}, "unreadable_rows": {table: rows whose reading
        failed (rows on a page damaged past recognition are not counted)}, "lost_skills": names of skills none of whose versions could be
        read, "damaged_copy": path of the kept damaged file}.

    Raises:
        SkillError: the schema itself cannot be read (nothing can be salvaged; nothing
            was changed).
    """
    path = Path(path)
    fresh = path.with_name(path.name + ".salvage")
    for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        leftover.unlink(missing_ok=True)
    kept: dict[str, int] = {}
    gaps: dict[str, int] = {}
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as src:
        try:
            schema = src.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'"
            ).fetchall()
        except sqlite3.Error as exc:
            raise SkillError(
                f"the library database {path} is damaged beyond salvage ({exc}): it is left as it "
                "is; restore it from a copy, or import a bundle exported earlier (`skillgrove skills import`)"
            ) from None
        with closing(sqlite3.connect(fresh, isolation_level=None)) as dst:
            dst.execute("BEGIN")
            for _, _, sql in schema:
                dst.execute(sql)
            tables = [name for kind, name, _ in schema if kind == "table"]
            for name in tables:
                kept[name], gaps[name] = _copy_rows(src, dst, name)
            lost = _reconcile(dst) if set(tables) >= TABLES else []
            dst.execute("COMMIT")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    path.replace(aside)
    # the damaged file's journal must not pair with the new file: it goes with the damaged
    # one (its -shm is only an index of it, rebuilt on open)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if wal.exists():
        wal.replace(Path(f"{aside}-wal"))
    shm.unlink(missing_ok=True)
    fresh.replace(path)
    return {
        "kept": kept,
        "unreadable_rows": gaps,
        "lost_skills": lost,
        "damaged_copy": str(aside),
    }


SALVAGE_MAX_ROWID = 10_000_000  # row-by-row salvage looks this far at most


def _copy_rows(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> tuple[int, int]:
    """Copy `table`: in one scan when it reads through, else row by row by rowid (a scan
    stops at the first damaged page; a lookup by rowid reaches the rows beyond it).

    Returns (rows copied, rows whose reading failed)."""
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        rows = src.execute(f"SELECT * FROM {quoted} ORDER BY rowid").fetchall()
    except sqlite3.Error:
        rows = None
    if rows is not None:
        for row in rows:
            dst.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({','.join('?' * len(row))})", row)
        return len(rows), 0
    try:
        top = src.execute(f"SELECT MAX(rowid) FROM {quoted}").fetchone()[0]
    except sqlite3.Error:
        top = None
    kept = failed = 0
    for rowid in range(1, min(top or SALVAGE_MAX_ROWID, SALVAGE_MAX_ROWID) + 1):
        try:
            row = src.execute(f"SELECT * FROM {quoted} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.Error:
            failed += 1
            continue
        if row is not None:
            dst.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({','.join('?' * len(row))})", row)
            kept += 1
    return kept, failed


def _reconcile(db: sqlite3.Connection) -> list[str]:
    """Make salvaged skill tables agree: skills rows for surviving versions, no orphan stats.

    Returns the skills none of whose versions could be read (they are dropped)."""
    lost = [
        r[0]
        for r in db.execute(
            "SELECT name FROM skills WHERE name NOT IN (SELECT name FROM skill_versions) ORDER BY name"
        )
    ]
    db.execute(
        "INSERT INTO skills(name, created, updated, uses) SELECT name, MIN(created), MAX(created), 0 "
        "FROM skill_versions WHERE name NOT IN (SELECT name FROM skills) GROUP BY name"
    )
    db.execute("DELETE FROM skills WHERE name NOT IN (SELECT name FROM skill_versions)")
    db.execute(
        "DELETE FROM skill_stats WHERE NOT EXISTS (SELECT 1 FROM skill_versions v "
        "WHERE v.name = skill_stats.name AND v.version = skill_stats.version)"
    )
    db.execute(
        "INSERT INTO library_meta(key, value) VALUES('generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )
    db.execute("INSERT OR IGNORE INTO library_meta(key, value) VALUES('seeded', 'salvaged')")
    db.execute("INSERT OR REPLACE INTO library_meta(key, value) VALUES('index_stale', 'salvaged')")
    return lost
