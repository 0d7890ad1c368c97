"""The nightly state: `<out>/nightly.sqlite` (the standard library's sqlite3, WAL journal).

    items       one row per thing a night can build: arxiv:<id> or journal:<origin>
                status: new | building | published | failed | set-aside
                fingerprint = what was seen last (arXiv version, entry text sha256);
                published_fingerprint = what the published episode was built from
    nights      one row per run: when, what it planned, built, published, failed
    http_cache  the validators and last body of each remote journal feed (conditional GET)

Only the process holding the output root's lock writes here. Every change is one short
transaction, so kill -9 at any moment leaves the last committed state: at worst an item stays
`building`, and the next night builds it again (its finished stages come from the cache).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

STATE_NAME = "nightly.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    episode_id TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    origins TEXT NOT NULL DEFAULT '[]',
    fingerprint TEXT NOT NULL DEFAULT '',
    published_fingerprint TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'new',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_code INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    published_at REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS nights (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running',
    planned INTEGER NOT NULL DEFAULT 0,
    published INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    body BLOB,
    fetched REAL NOT NULL DEFAULT 0
);
"""


@dataclass
class Item:
    key: str
    kind: str
    episode_id: str
    label: str = ""
    origins: list[str] = field(default_factory=list)
    fingerprint: str = ""
    published_fingerprint: str = ""
    status: str = "new"
    attempts: int = 0
    last_error: str = ""
    last_code: int = 0
    next_try: float = 0.0
    first_seen: float = 0.0
    last_seen: float = 0.0
    published_at: float = 0.0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Item":
        data = dict(row)
        data["origins"] = json.loads(data.get("origins") or "[]")
        return cls(**data)


@dataclass
class Night:
    id: int
    started: float
    finished: float
    status: str
    planned: int
    published: int
    failed: int
    note: str


class State:
    def __init__(self, root: Path, *, readonly: bool = False):
        self.path = Path(root) / STATE_NAME
        try:
            self._open(readonly)
        except sqlite3.DatabaseError as exc:
            from macaw.errors import ConfigError

            raise ConfigError(f"the nightly state {self.path} cannot be read ({exc})",
                              hint="move it aside to start afresh: episodes and the feed are not in it, and finished stages come from the cache") from None

    def _open(self, readonly: bool) -> None:
        if readonly:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10.0)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row
        self.db.execute("SELECT count(*) FROM items").fetchone()

    @classmethod
    def open_if_exists(cls, root: Path) -> "State | None":
        return cls(root, readonly=True) if (Path(root) / STATE_NAME).exists() else None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "State":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- items

    def get(self, key: str) -> Item | None:
        row = self.db.execute("SELECT * FROM items WHERE key = ?", (key,)).fetchone()
        return Item.from_row(row) if row else None

    def find(self, ident: str) -> Item | None:
        """An item by key, episode id, or arXiv id / entry origin (for --retry)."""
        for sql in ("SELECT * FROM items WHERE key = ?", "SELECT * FROM items WHERE episode_id = ?",
                    "SELECT * FROM items WHERE key = 'arxiv:' || ?", "SELECT * FROM items WHERE key = 'journal:' || ?"):
            row = self.db.execute(sql, (ident,)).fetchone()
            if row:
                return Item.from_row(row)
        return None

    def items(self, status: str | None = None) -> list[Item]:
        if status:
            rows = self.db.execute("SELECT * FROM items WHERE status = ? ORDER BY last_seen DESC, key", (status,))
        else:
            rows = self.db.execute("SELECT * FROM items ORDER BY last_seen DESC, key")
        return [Item.from_row(r) for r in rows]

    def see(self, key: str, kind: str, episode_id: str, label: str, origin: str, fingerprint: str, now: float) -> Item:
        """Record that a night found this item (a new one, or again); returns its row."""
        with self.db:
            current = self.get(key)
            if current is None:
                self.db.execute(
                    "INSERT INTO items (key, kind, episode_id, label, origins, fingerprint, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?)",
                    (key, kind, episode_id, label, json.dumps([origin]), fingerprint, now, now))
            else:
                origins = current.origins + ([origin] if origin not in current.origins else [])
                self.db.execute("UPDATE items SET label = ?, origins = ?, fingerprint = ?, episode_id = ?, last_seen = ? WHERE key = ?",
                                (label, json.dumps(origins), fingerprint, episode_id, now, key))
        item = self.get(key)
        assert item is not None
        return item

    def start(self, key: str) -> None:
        """An attempt begins; it counts even if the process dies during it (a crash loop is set aside too)."""
        with self.db:
            self.db.execute("UPDATE items SET status = 'building', attempts = attempts + 1 WHERE key = ?", (key,))

    def published(self, key: str, fingerprint: str, now: float) -> None:
        with self.db:
            self.db.execute(
                "UPDATE items SET status = 'published', published_fingerprint = ?, attempts = 0, last_error = '', last_code = 0,"
                " next_try = 0, published_at = ? WHERE key = ?", (fingerprint, now, key))

    def failed(self, key: str, error: str, code: int, now: float, *, max_attempts: int, backoff_hours: float) -> Item:
        with self.db:
            item = self.get(key)
            assert item is not None
            attempts = max(1, item.attempts)
            status = "set-aside" if attempts >= max_attempts else "failed"
            wait = backoff_hours * 3600 * 2 ** (attempts - 1)
            self.db.execute("UPDATE items SET status = ?, attempts = ?, last_error = ?, last_code = ?, next_try = ? WHERE key = ?",
                            (status, attempts, error[:2000], code, now + wait, key))
        item = self.get(key)
        assert item is not None
        return item

    def set_aside(self, key: str, why: str) -> None:
        with self.db:
            self.db.execute("UPDATE items SET status = 'set-aside', last_error = ? WHERE key = ?", (why[:2000], key))

    def retry(self, key: str) -> None:
        """`--retry ID`: attempts start again and the item is due now."""
        with self.db:
            self.db.execute("UPDATE items SET status = 'failed', attempts = 0, next_try = 0 WHERE key = ?", (key,))

    # ---- nights

    def night_started(self, now: float) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO nights (started) VALUES (?)", (now,))
        return int(cur.lastrowid or 0)

    def night_finished(self, night: int, now: float, status: str, planned: int, published: int, failed: int, note: str = "") -> None:
        with self.db:
            self.db.execute("UPDATE nights SET finished = ?, status = ?, planned = ?, published = ?, failed = ?, note = ? WHERE id = ?",
                            (now, status, planned, published, failed, note[:2000], night))

    def nights(self, limit: int = 5) -> list[Night]:
        rows = self.db.execute("SELECT * FROM nights ORDER BY id DESC LIMIT ?", (limit,))
        return [Night(**dict(r)) for r in rows]

    # ---- conditional GET

    def http_validators(self, url: str) -> tuple[str, str, bytes | None]:
        row = self.db.execute("SELECT etag, last_modified, body FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row["etag"], row["last_modified"], row["body"]) if row else ("", "", None)

    def http_store(self, url: str, etag: str, last_modified: str, body: bytes, now: float) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO http_cache (url, etag, last_modified, body, fetched) VALUES (?,?,?,?,?)",
                            (url, etag, last_modified, body, now))


def now() -> float:
    return time.time()


def rows_as_dicts(items: list[Item]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield dict(item.__dict__)
