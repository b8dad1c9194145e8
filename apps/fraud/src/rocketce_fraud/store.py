"""Per-card history stores: SQLite (WAL, one instance, the default) or PostgreSQL (shared by several instances).

Both run the same SQL through one `Session` API; each stream event is one transaction on its card:

* SQLite: `BEGIN IMMEDIATE` (the whole database, so the gunicorn workers of one host serialise on it);
* PostgreSQL: the card's row in `card_state` is locked with `SELECT ... FOR UPDATE` (created first when the card is
  new), so instances on different hosts serialise per card and cards never wait for each other.

Inside that transaction the scorer checks the event's order (409), scores on the locked history, appends, commits.
Any failure to reach the store raises `StoreUnavailable` (the service answers 503 with the reason; it never scores
on a history it could not read). PostgreSQL connections are opened lazily, per process and thread, and reopened
after a failure, so a store that comes back is used again without a restart.

Selection (environment, never argv): `ROCKETCE_FRAUD_STORE=sqlite` (default, `<state dir>/history.sqlite3`) or
`postgresql` with `ROCKETCE_FRAUD_STORE_DSN_FILE` naming a file that holds a libpq conninfo string (host, port,
dbname, user, password, sslmode, sslrootcert...). The password is only ever read from that file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .features import CardState

STORE_ENV, DSN_FILE_ENV = "ROCKETCE_FRAUD_STORE", "ROCKETCE_FRAUD_STORE_DSN_FILE"
MERCHANT, MCC, CITY = 0, 1, 2
# Portable SQL (SQLite >= 3.24 and PostgreSQL both have ON CONFLICT); `?` becomes `%s` for psycopg.
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS card_state (card_key BIGINT PRIMARY KEY, state TEXT)",
    "CREATE TABLE IF NOT EXISTS card_seen (card_key BIGINT NOT NULL, kind SMALLINT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (card_key, kind, value))",
    "CREATE TABLE IF NOT EXISTS card_event (card_key BIGINT NOT NULL, event_id TEXT NOT NULL, answer TEXT NOT NULL, "
    "PRIMARY KEY (card_key, event_id))",
]

SELECT = "SELECT state FROM card_state WHERE card_key = ?"
SELECT_LOCKED = SELECT + " FOR UPDATE"


class StoreUnavailable(RuntimeError):
    """The history store cannot be reached or did not answer in time (503, with this message as the reason)."""


class Session:
    """One transaction's view of the store (the same SQL for both backends)."""

    def __init__(self, cursor, placeholder: str = "?", row_locks: bool = False):
        self.cur, self.ph, self.row_locks = cursor, placeholder, row_locks

    def _run(self, sql: str, params: tuple = ()):
        self.cur.execute(sql.replace("?", self.ph), params)
        return self.cur

    def load_state(self, key: int, *, for_update: bool = False) -> CardState:
        locked = for_update and self.row_locks
        row = self._run(SELECT_LOCKED if locked else SELECT, (key,)).fetchone()
        if row is None and locked:
            # A new card: create its row so that the next event of the card (from any instance) waits on it.
            self._run("INSERT INTO card_state (card_key, state) VALUES (?, NULL) ON CONFLICT DO NOTHING", (key,))
            row = self._run(SELECT_LOCKED, (key,)).fetchone()
        return CardState() if row is None or row[0] is None else CardState.from_dict(json.loads(row[0]))

    def save_state(self, key: int, state: CardState) -> None:
        self._run("INSERT INTO card_state (card_key, state) VALUES (?, ?) "
                  "ON CONFLICT (card_key) DO UPDATE SET state = excluded.state",
                  (key, json.dumps(state.to_dict(), separators=(",", ":"))))

    def seen(self, key: int, merchant: int, mcc: int, city: str) -> tuple[bool, bool, bool]:
        """(merchant, mcc, city) already used by the card?"""
        rows = self._run(
            "SELECT kind FROM card_seen WHERE card_key = ? AND ((kind = 0 AND value = ?) OR (kind = 1 AND value = ?) "
            "OR (kind = 2 AND value = ?))", (key, str(merchant), str(mcc), city)).fetchall()
        kinds = {r[0] for r in rows}
        return MERCHANT in kinds, MCC in kinds, CITY in kinds

    def add_seen(self, key: int, merchant: int, mcc: int, city: str) -> None:
        self._run("INSERT INTO card_seen (card_key, kind, value) VALUES (?, 0, ?), (?, 1, ?), (?, 2, ?) "
                  "ON CONFLICT DO NOTHING", (key, str(merchant), key, str(mcc), key, city))

    def find_event(self, key: int, event_id: str) -> dict | None:
        row = self._run("SELECT answer FROM card_event WHERE card_key = ? AND event_id = ?", (key, event_id)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_event(self, key: int, event_id: str, answer: dict) -> None:
        self._run("INSERT INTO card_event (card_key, event_id, answer) VALUES (?, ?, ?)",
                  (key, event_id, json.dumps(answer, separators=(",", ":"))))


class _PerThread:
    """One connection per process and thread: a connection must never cross a gunicorn fork or a thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _get(self):
        if getattr(self._local, "pid", None) != os.getpid():
            self._local.conn, self._local.pid = None, os.getpid()
        return self._local.conn

    def _set(self, conn) -> None:
        self._local.conn, self._local.pid = conn, os.getpid()


class SQLiteStore(_PerThread):
    """The embedded default: one file in the state directory, shared by the gunicorn workers of one host."""

    kind = "sqlite"

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000):
        super().__init__()
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self.conn
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:   # INTEGER PRIMARY KEY: the rowid itself, as before
            conn.execute(statement.replace("BIGINT PRIMARY KEY", "INTEGER PRIMARY KEY"))

    @property
    def conn(self) -> sqlite3.Connection:
        conn = self._get()
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._set(conn)
        return conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Session]:
        conn = self.conn
        try:
            conn.execute(begin)
        except sqlite3.OperationalError as exc:   # "database is locked" after busy_timeout
            raise StoreUnavailable(f"sqlite {self.path}: {exc}") from exc
        try:
            yield Session(conn.cursor())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def card(self, key: int):
        """A write transaction for one card's event (SQLite locks the whole database)."""
        return self._transaction("BEGIN IMMEDIATE")

    def reader(self):
        return self._transaction("BEGIN")

    def ping(self) -> None:
        self.conn.execute("SELECT 1 FROM card_state LIMIT 1").fetchall()

    def describe(self) -> str:
        return f"sqlite {self.path}"


class PostgresStore(_PerThread):
    """PostgreSQL through psycopg 3: per-card row locks, durable commits (synchronous_commit as the server sets)."""

    kind = "postgresql"

    def __init__(self, conninfo: str, *, connect_timeout: int = 3, lock_timeout_ms: int = 5000,
                 statement_timeout_ms: int = 5000):
        super().__init__()
        import psycopg  # optional dependency: pip install 'rocketce-fraud[postgresql]'
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        self._psycopg = psycopg
        params = conninfo_to_dict(conninfo)
        self.target = " ".join(f"{k}={params[k]}" for k in ("host", "port", "dbname", "user", "sslmode") if k in params)
        # Bounded waits: a lost store, a hung network or a stuck lock turns into a 503, never a hung worker.
        self.conninfo = make_conninfo(conninfo, connect_timeout=connect_timeout, application_name="rocketce-fraud",
                                      options=f"-c lock_timeout={lock_timeout_ms} "
                                              f"-c statement_timeout={statement_timeout_ms}",
                                      keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=2,
                                      tcp_user_timeout=statement_timeout_ms)
        self._schema_ready = False

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        conn = self._get()
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001,S110 - the connection is being dropped anyway
                pass
            self._set(None)
        text = " ".join(str(exc).split()) or type(exc).__name__
        return StoreUnavailable(f"postgresql {self.target}: {text}")

    def _connection(self):
        conn = self._get()
        if conn is None or conn.closed or conn.broken:
            conn = self._psycopg.connect(self.conninfo, autocommit=True)   # explicit BEGIN/COMMIT below
            self._set(conn)
            if not self._schema_ready:
                conn.execute("BEGIN")
                conn.execute("SELECT pg_advisory_xact_lock(4242001)")   # instances starting together
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
                self._schema_ready = True
        return conn

    @contextmanager
    def _transaction(self, read_only: bool) -> Iterator[Session]:
        psycopg = self._psycopg
        try:
            conn = self._connection()
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if read_only else "BEGIN")
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        try:
            yield Session(conn.cursor(), "%s", row_locks=True)
        except BaseException as exc:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                pass   # the connection is gone; _unavailable drops it
            if isinstance(exc, psycopg.Error):
                raise self._unavailable(exc) from exc
            raise
        try:
            conn.execute("COMMIT")   # an error here: not acknowledged (the client may retry with its event_id)
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc

    def card(self, key: int):
        """A write transaction holding the card's row lock until commit."""
        return self._transaction(read_only=False)

    def reader(self):
        """A consistent read-only snapshot for batch scoring."""
        return self._transaction(read_only=True)

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT 1").fetchall()
        except self._psycopg.Error as exc:
            raise self._unavailable(exc) from exc

    def describe(self) -> str:
        return f"postgresql {self.target}"


HistoryStore = SQLiteStore | PostgresStore


def open_store(state_dir: str | Path, env: dict | None = None) -> HistoryStore:
    """The store the environment selects (see the module doc); ValueError for an unknown kind or no DSN file."""
    env = os.environ if env is None else env
    kind = env.get(STORE_ENV, "sqlite") or "sqlite"
    if kind == "sqlite":
        return SQLiteStore(Path(state_dir) / "history.sqlite3")
    if kind == "postgresql":
        path = env.get(DSN_FILE_ENV)
        if not path:
            raise ValueError(f"{STORE_ENV}=postgresql needs {DSN_FILE_ENV} (a file holding the libpq conninfo)")
        return PostgresStore(Path(path).read_text().strip())
    raise ValueError(f"{STORE_ENV} must be sqlite or postgresql, got {kind!r}")
