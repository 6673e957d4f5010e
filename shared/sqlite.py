"""eventsourcing's SQLite process recorder with the service's outbox table beside its log.

The envelopes of a commit's public events go into the outbox in the same transaction as the
events, each at its event's notification id (see shared/outbox.py). Once a commit that recorded
events is done, the store's doorbell rings (shared/doorbell.py).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder

from shared.doorbell import SocketBell, SocketRinger
from shared.eventstore import positions
from shared.outbox import OutboxRow
from shared.slices import Slice

_LAST = 2**63 - 1


class OutboxSQLiteProcessRecorder(SQLiteProcessRecorder):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        pool = self.datastore.pool
        self._ringer = None if pool.is_sqlite_memory_mode else SocketRinger(pool.db_name)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        if stored_events and self._ringer:
            self._ringer.ring()
        return ids

    def bell(self) -> SocketBell | None:
        """A bell this store's commits ring (None for a store in memory: nobody else can read it)."""
        pool = self.datastore.pool
        return None if pool.is_sqlite_memory_mode else SocketBell(pool.db_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS outbox (position INTEGER PRIMARY KEY, slot INTEGER NOT NULL, "
            "envelope BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracked = positions(kwargs.pop("tracking", None))
        ids = super()._insert_events(c, stored_events, **kwargs)
        for position in tracked:
            self._insert_tracking(c, position)
        rows: Sequence[OutboxRow] = kwargs.get("outbox") or ()
        if rows:
            at = {(s.originator_id, s.originator_version): id_ for s, id_ in zip(stored_events, ids)}
            c.executemany(
                "INSERT INTO outbox VALUES (?, ?, ?)",
                [(at[r.originator_id, r.originator_version], r.slot, r.envelope) for r in rows],
            )
        return ids

    def select_window(
        self, after: int, scan: int, topics: Sequence[str], slice_: Slice
    ) -> tuple[int, list[Notification]]:
        """As PostgreSQL's recorder reads it (shared/postgres.py): the next `scan` positions of the log after
        `after`, the last of them, and the events of those topics and of the slice's aggregates among them
        (the state of those only comes along)."""
        marks = ",".join("?" * len(topics))
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, CASE WHEN topic IN ({marks}) THEN state END "
                f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (*topics, after, scan),
            )
            rows = c.fetchall()
        ours = [
            Notification(id=row[0], originator_id=id_, originator_version=row[2], topic=row[3], state=row[4])
            for row in rows
            if row[4] is not None and slice_.takes(id_ := self.convert_originator_id(row[1]))
        ]
        return (rows[-1][0] if rows else after), ours

    def select_log(self, after: int, limit: int, topics: Sequence[str]) -> Sequence[Notification]:
        """The next `limit` rows of the log after `after` (as PostgreSQL's recorder reads them; in process,
        every row's state comes along)."""
        return self.select_notifications(start=after, limit=limit, inclusive_of_start=False)

    def insert_outbox(self, rows: Sequence[tuple[int, OutboxRow]]) -> None:
        """Rows of events recorded before the outbox existed (an upgrade); existing ones are kept."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                "INSERT OR IGNORE INTO outbox VALUES (?, ?, ?)",
                [(position, r.slot, r.envelope) for position, r in rows],
            )

    def select_outbox(self, after: int, limit: int, slice_: Slice, upto: int | None = None) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT position, envelope FROM outbox WHERE position > ? AND position <= ? "
                "AND slot % ? = ? ORDER BY position LIMIT ?",
                (after, _LAST if upto is None else upto, slice_.count, slice_.index, limit),
            )
            return [(row[0], row[1]) for row in c.fetchall()]

    def count_outbox(self, after: int, slice_: Slice) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT count(*) FROM outbox WHERE position > ? AND slot % ? = ?", (after, slice_.count, slice_.index)
            )
            return c.fetchone()[0]

    def max_outbox_position(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT max(position) FROM outbox")
            return c.fetchone()[0] or 0
