"""The read-model tables in workflow's own store (SQLite file or PostgreSQL schema), and the position
in workflow's log they reflect, always written in the same transaction as the rows."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any
from collections.abc import Iterable, Iterator

from services.workflow.readmodels import deadlines
from services.workflow.readmodels.rows import Row, current_handlers, customer_keys, priority_rank

VIEW = "ticket_rows"  # the position's name
SCHEMA, SCHEMA_KEY = 3, "ticket_rows.schema"  # 2: SLA columns, 3: priority. Another: drop the rows, fold again

_TABLES = """
CREATE TABLE IF NOT EXISTS {p}ticket_rows (ticket_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, status TEXT NOT NULL,
    template TEXT NOT NULL, region TEXT, created_at TEXT NOT NULL, closed_at TEXT,
    sla_deadline TEXT, sla_breached INTEGER NOT NULL, sla_on_time INTEGER NOT NULL, sla_missed INTEGER NOT NULL,
    priority_rank INTEGER NOT NULL, row TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ticket_rows_tenant ON {p}ticket_rows (tenant, created_at);
CREATE INDEX IF NOT EXISTS ticket_rows_priority ON {p}ticket_rows (tenant, priority_rank, created_at);
CREATE INDEX IF NOT EXISTS ticket_rows_deadline ON {p}ticket_rows (tenant, sla_deadline);
CREATE TABLE IF NOT EXISTS {p}ticket_row_keys (tenant TEXT NOT NULL, ticket_id TEXT NOT NULL, kind TEXT NOT NULL,
    value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ticket_row_keys_value ON {p}ticket_row_keys (tenant, kind, value);
CREATE INDEX IF NOT EXISTS ticket_row_keys_ticket ON {p}ticket_row_keys (ticket_id)
"""


class Moved(Exception):
    """Another projector recorded this stretch of the log first."""


class ViewStore:
    def __init__(self, datastore: Any):
        self._datastore = datastore
        self._postgres = hasattr(datastore, "schema")
        self._prefix = f'"{datastore.schema}".' if self._postgres else ""

    def _sql(self, text: str) -> str:
        text = text.replace("{p}", self._prefix)
        return text.replace("?", "%s") if self._postgres else text

    @contextmanager
    def _cursor(self, commit: bool) -> Iterator[Any]:
        with self._datastore.transaction(commit=commit) as cursor:
            yield cursor

    def query(self, text: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(text), tuple(params))
            return cursor.fetchall()

    def create_tables(self) -> None:
        """The tables, once; rows of an older shape are dropped and the position goes back to 0, so the
        projector folds the whole log again into the new shape (a read model is never migrated)."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {p}view_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
                )
            )
            cursor.execute(self._sql("SELECT position FROM {p}view_positions WHERE name = ?"), (SCHEMA_KEY,))
            found = cursor.fetchall()
            if not found or int(found[0]["position"]) != SCHEMA:
                cursor.execute(self._sql("DROP TABLE IF EXISTS {p}ticket_row_keys"))
                cursor.execute(self._sql("DROP TABLE IF EXISTS {p}ticket_rows"))
                cursor.execute(self._sql("DELETE FROM {p}view_positions WHERE name IN (?, ?)"), (VIEW, SCHEMA_KEY))
            for statement in _TABLES.split(";"):
                cursor.execute(self._sql(statement))
            for name, value in ((VIEW, 0), (SCHEMA_KEY, SCHEMA)):
                cursor.execute(
                    self._sql(
                        "INSERT INTO {p}view_positions (name, position) SELECT ?, ? WHERE NOT "
                        "EXISTS (SELECT 1 FROM {p}view_positions WHERE name = ?)"
                    ),
                    (name, value, name),
                )

    def position(self) -> int:
        found = self.query("SELECT position FROM {p}view_positions WHERE name = ?", (VIEW,))
        return int(found[0]["position"]) if found else 0

    def rows(self, ticket_ids: Iterable[str]) -> dict[str, Row]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        found = self.query(f"SELECT row FROM {{p}}ticket_rows WHERE ticket_id IN ({', '.join('?' * len(ids))})", ids)
        return {row["id"]: row for row in (json.loads(r["row"]) for r in found)}

    def save(self, rows: list[Row], since: int, until: int) -> None:
        """Replace these rows and move the position from `since` to `until`, in one transaction;
        Moved if the position is no longer `since` (nothing is written then)."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql("UPDATE {p}view_positions SET position = ? WHERE name = ? AND position = ?"),
                (until, VIEW, since),
            )
            if getattr(cursor, "sqlite_cursor", cursor).rowcount != 1:  # eventsourcing wraps sqlite3
                raise Moved()
            ids = [r["id"] for r in rows]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                cursor.execute(self._sql(f"DELETE FROM {{p}}ticket_rows WHERE ticket_id IN ({marks})"), chunk)
                cursor.execute(self._sql(f"DELETE FROM {{p}}ticket_row_keys WHERE ticket_id IN ({marks})"), chunk)
            cursor.executemany(
                self._sql(f"INSERT INTO {{p}}ticket_rows VALUES ({', '.join('?' * 13)})"),
                [
                    (
                        r["id"],
                        r["tenant"],
                        r["status"],
                        r["template"],
                        r["region"],
                        r["created_at"],
                        r["closed_at"],
                        deadlines.earliest(r["sla"]),
                        deadlines.breached(r["sla"]),
                        r["sla"]["on_time"],
                        r["sla"]["missed"],
                        priority_rank(r),
                        json.dumps(r, ensure_ascii=False, sort_keys=True),
                    )
                    for r in rows
                ],
            )
            keys = [(r["tenant"], r["id"], kind, value) for r in rows for kind, values in _keys(r) for value in values]
            if keys:
                cursor.executemany(self._sql("INSERT INTO {p}ticket_row_keys VALUES (?, ?, ?, ?)"), keys)

    def clear(self) -> None:
        """Forget every row: the view starts again from the beginning of the log."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql("DELETE FROM {p}ticket_rows"))
            cursor.execute(self._sql("DELETE FROM {p}ticket_row_keys"))
            cursor.execute(self._sql("UPDATE {p}view_positions SET position = 0 WHERE name = ?"), (VIEW,))

    def dump(self) -> list[Row]:
        """Every row, in ticket id order (to compare two builds of the view)."""
        return [json.loads(r["row"]) for r in self.query("SELECT row FROM {p}ticket_rows ORDER BY ticket_id")]


def _keys(row: Row) -> list[tuple[str, list[str]]]:
    """The many-valued things a row is found by."""
    return [
        ("node", row["nodes"] if row["status"] == "open" else []),
        ("handler", current_handlers(row)),
        ("customer", customer_keys(row)),
    ]
