"""On-disk journal of received films: idempotency by SOPInstanceUID and resumable work.

One SQLite table keyed by the *hashed* SOPInstanceUID (no identifier is stored). A film is
``queued`` once its file is safely on disk and before the sender hears success, and becomes
``done`` (or ``failed``) when its results are written; ``scored`` counts completed scorings so a
benchmark can prove that no film was scored twice. SQLite (standard library) gives atomic
commits that survive a kill; one connection is shared under a lock by the network and worker
threads.
"""
import sqlite3
import threading
import time
from typing import List, Optional

STATES = ('queued', 'done', 'failed')


class Journal:
    """The journal file.

    Args:
        path (str): SQLite file (created when missing).
    """

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute('PRAGMA journal_mode=WAL')
            self._db.execute('PRAGMA synchronous=FULL')
            self._db.execute(
                'CREATE TABLE IF NOT EXISTS films (key TEXT PRIMARY KEY, state TEXT NOT NULL, '
                'received REAL NOT NULL, finished REAL, scored INTEGER NOT NULL DEFAULT 0, '
                'reason TEXT)')

    def state(self, key: str) -> Optional[str]:
        """The film's state, or None when it was never accepted."""
        with self._lock:
            row = self._db.execute('SELECT state FROM films WHERE key=?', (key, )).fetchone()
        return row[0] if row else None

    def add(self, key: str) -> bool:
        """Record a newly accepted film as ``queued``; False when the key is already known."""
        with self._lock:
            cur = self._db.execute(
                'INSERT OR IGNORE INTO films (key, state, received) VALUES (?, ?, ?)',
                (key, 'queued', time.time()))
        return cur.rowcount == 1

    def finish(self, key: str, ok: bool, reason: str = '') -> None:
        """Mark a film ``done`` (one more scoring) or ``failed`` with a PHI-free reason."""
        with self._lock:
            self._db.execute(
                'UPDATE films SET state=?, finished=?, scored=scored+?, reason=? WHERE key=?',
                ('done' if ok else 'failed', time.time(), int(ok), reason, key))

    def pending(self) -> List[str]:
        """Keys still ``queued`` (to resume after a restart), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM films WHERE state='queued' ORDER BY received").fetchall()
        return [r[0] for r in rows]

    def counts(self) -> dict:
        """Number of films per state and the total number of scorings."""
        with self._lock:
            rows = self._db.execute('SELECT state, COUNT(*), SUM(scored) FROM films '
                                    'GROUP BY state').fetchall()
        out = {s: 0 for s in STATES}
        out['scorings'] = 0
        for state, count, scored in rows:
            out[state] = count
            out['scorings'] += int(scored or 0)
        return out

    def rows(self) -> List[tuple]:
        """All rows ``(key, state, received, finished, scored)`` (for benchmarks and tests)."""
        with self._lock:
            return self._db.execute(
                'SELECT key, state, received, finished, scored FROM films').fetchall()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
