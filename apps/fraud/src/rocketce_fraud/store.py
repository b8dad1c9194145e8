"""Per-card history in SQLite (WAL): shared by all gunicorn workers, survives restarts.

Each stream event runs one `BEGIN IMMEDIATE` transaction (read state, score, write state), so two workers that
receive events of the same card serialise on the database instead of losing an update.
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS card_state (card_key INTEGER PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS card_seen (
  card_key INTEGER NOT NULL, kind INTEGER NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (card_key, kind, value)
) WITHOUT ROWID;
"""
MERCHANT, MCC, CITY = 0, 1, 2


class HistoryStore:
    def __init__(self, path: Path, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        # One connection per process and thread: a connection must never cross a gunicorn fork.
        owner = getattr(self._local, "pid", None)
        if owner != os.getpid():
            self._local.conn = self._connect()
            self._local.pid = os.getpid()
        return self._local.conn

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def load_state(conn: sqlite3.Connection, key: int) -> CardState:
        row = conn.execute("SELECT state FROM card_state WHERE card_key = ?", (key,)).fetchone()
        return CardState() if row is None else CardState.from_dict(json.loads(row[0]))

    @staticmethod
    def save_state(conn: sqlite3.Connection, key: int, state: CardState) -> None:
        conn.execute("INSERT INTO card_state (card_key, state) VALUES (?, ?) "
                     "ON CONFLICT(card_key) DO UPDATE SET state = excluded.state",
                     (key, json.dumps(state.to_dict(), separators=(",", ":"))))

    @staticmethod
    def seen(conn: sqlite3.Connection, key: int, merchant: int, mcc: int, city: str) -> tuple[bool, bool, bool]:
        """(merchant, mcc, city) already used by the card?"""
        rows = conn.execute(
            "SELECT kind FROM card_seen WHERE card_key = ? AND ((kind = 0 AND value = ?) OR (kind = 1 AND value = ?) "
            "OR (kind = 2 AND value = ?))", (key, str(merchant), str(mcc), city)).fetchall()
        kinds = {r[0] for r in rows}
        return MERCHANT in kinds, MCC in kinds, CITY in kinds

    @staticmethod
    def add_seen(conn: sqlite3.Connection, key: int, merchant: int, mcc: int, city: str) -> None:
        conn.executemany("INSERT OR IGNORE INTO card_seen (card_key, kind, value) VALUES (?, ?, ?)",
                         [(key, MERCHANT, str(merchant)), (key, MCC, str(mcc)), (key, CITY, city)])

    def card_count(self, key: int) -> int:
        return self.load_state(self.conn, key).count

    def ping(self) -> None:
        self.conn.execute("SELECT 1 FROM card_state LIMIT 1").fetchall()
