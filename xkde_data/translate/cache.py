"""Content-addressed SQLite (WAL) store of validated translations.

Keyed on :func:`~xkde_data.translate.contract.cache_key` (model, base URL,
prompt hash, parameters, source fields, languages). Validated replies are
committed as soon as the event loop is free, all replies of one burst in one
transaction (:meth:`put_many`), so a killed run loses only the replies in
flight; ``INSERT OR IGNORE`` keeps two processes sharing one file correct.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from ..errors import XkdeError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    target_lang TEXT NOT NULL,
    fields TEXT NOT NULL,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
)
"""


class TranslationCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=60000")
            self._setup()
        except sqlite3.DatabaseError as err:
            raise XkdeError(f"cannot open the translation cache: {err}", file=str(self.path)) from None
        self._lock = threading.Lock()

    def _setup(self, attempts: int = 50) -> None:
        """WAL mode and the table. Two processes creating the same new file can get SQLITE_BUSY
        at once (SQLite skips the busy handler where waiting could deadlock), so retry briefly."""
        for attempt in range(attempts):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, dict[str, str]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, fields in self._db.execute(
                        f"SELECT key, fields FROM translations WHERE key IN ({marks})", chunk):
                    found[key] = json.loads(fields)
        return found

    def put(self, key: str, target_lang: str, fields: dict[str, str], tokens_in: int = 0, tokens_out: int = 0) -> None:
        """Store one validated translation (first writer wins)."""
        self.put_many([(key, target_lang, fields, tokens_in, tokens_out)])

    def put_many(self, entries: Iterable[tuple[str, str, dict[str, str], int, int]]) -> None:
        """Store validated translations ``(key, target_lang, fields, tokens_in, tokens_out)`` in one transaction."""
        now = time.time()
        rows = [(key, lang, json.dumps(fields, ensure_ascii=False), t_in, t_out, now)
                for key, lang, fields, t_in, t_out in entries]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO translations (key, target_lang, fields, tokens_in, tokens_out, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
