"""An application module that knows nothing about interleave: it just calls sqlite3.connect.

Used by tests/sqlite/test_sqlite_explore.py to show that unmodified code is explored.
"""

from __future__ import annotations

import sqlite3


class DatabaseManager:
    """Registers users by name; ``add_user`` checks, then inserts (a race: no constraint)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def add_user(self, name: str) -> None:
        conn = sqlite3.connect(self.path)
        try:
            (count,) = conn.execute("SELECT count(*) FROM users WHERE name = ?", (name,)).fetchone()
            if count == 0:
                conn.execute("INSERT INTO users(name) VALUES (?)", (name,))
                conn.commit()
        finally:
            conn.close()

    def count(self, name: str) -> int:
        conn = sqlite3.connect(self.path)
        try:
            (count,) = conn.execute("SELECT count(*) FROM users WHERE name = ?", (name,)).fetchone()
            return int(count)
        finally:
            conn.close()
