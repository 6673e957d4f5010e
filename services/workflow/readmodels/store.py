"""The read-model tables in workflow's own store (SQLite file or PostgreSQL schema), and the position
in workflow's log they reflect, always written in the same transaction as the rows."""

from __future__ import annotations

import orjson
from contextlib import contextmanager
from typing import Any
from collections.abc import Iterable, Iterator

from services.workflow.readmodels import deadlines
from services.workflow.readmodels.rows import Row, current_handlers, customer_keys, priority_rank

VIEW = "ticket_rows"  # the position's name
SCHEMA, SCHEMA_KEY = 3, "ticket_rows.schema"  # 2: SLA columns, 3: priority. Another: drop the rows, fold again

_TABLES = """
CREATE TABLE IF NOT EXISTS {p}{rows} (ticket_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, status TEXT NOT NULL,
    template TEXT NOT NULL, region TEXT, created_at TEXT NOT NULL, closed_at TEXT,
    sla_deadline TEXT, sla_breached INTEGER NOT NULL, sla_on_time INTEGER NOT NULL, sla_missed INTEGER NOT NULL,
    priority_rank INTEGER NOT NULL, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}{keys} (tenant TEXT NOT NULL, ticket_id TEXT NOT NULL, kind TEXT NOT NULL,
    value TEXT NOT NULL)
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS ticket_rows_tenant ON {p}ticket_rows (tenant, created_at);
CREATE INDEX IF NOT EXISTS ticket_rows_priority ON {p}ticket_rows (tenant, priority_rank, created_at);
CREATE INDEX IF NOT EXISTS ticket_rows_deadline ON {p}ticket_rows (tenant, sla_deadline);
CREATE INDEX IF NOT EXISTS ticket_row_keys_value ON {p}ticket_row_keys (tenant, kind, value);
CREATE INDEX IF NOT EXISTS ticket_row_keys_ticket ON {p}ticket_row_keys (ticket_id)
"""
LIVE = {"rows": "ticket_rows", "keys": "ticket_row_keys"}
REBUILT = {"rows": "ticket_rows_rebuilt", "keys": "ticket_row_keys_rebuilt"}  # no index but the key, till swapped in
COLUMNS = 13


class Moved(Exception):
    """Another projector recorded this stretch of the log first."""


class ViewStore:
    def __init__(self, datastore: Any):
        self._datastore = datastore
        self._postgres = hasattr(datastore, "schema")
        self._prefix = f'"{datastore.schema}".' if self._postgres else ""

    def _sql(self, text: str, tables: dict[str, str] = LIVE) -> str:
        text = text.replace("{p}", self._prefix).replace("{rows}", tables["rows"]).replace("{keys}", tables["keys"])
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
                self._drop(cursor, LIVE)
                cursor.execute(self._sql("DELETE FROM {p}view_positions WHERE name IN (?, ?)"), (VIEW, SCHEMA_KEY))
            for statement in (_TABLES + ";" + _INDEXES).split(";"):
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

    def rows(self, ticket_ids: Iterable[str], tables: dict[str, str] = LIVE) -> dict[str, Row]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        found = []
        with self._cursor(commit=False) as cursor:
            for chunk in _chunks(ids):
                marks = ", ".join("?" * len(chunk))
                cursor.execute(self._sql(f"SELECT row FROM {{p}}{{rows}} WHERE ticket_id IN ({marks})", tables), chunk)
                found += cursor.fetchall()
        return {row["id"]: row for row in (orjson.loads(r["row"]) for r in found)}

    def save(self, rows: list[Row], since: int, until: int) -> None:
        """Replace these rows and move the position from `since` to `until`, in one transaction;
        Moved if the position is no longer `since` (nothing is written then)."""
        columns = _columns(rows)
        with self._cursor(commit=True) as cursor:
            self._move(cursor, until, since)
            self._write(cursor, columns, LIVE, replace=True)

    # --- a rebuild: fresh tables, filled aside, then swapped in with their position -----------

    def start_rebuild(self) -> None:
        """Empty tables for a rebuild, beside the live ones (what a rebuild stopped midway left goes)."""
        with self._cursor(commit=True) as cursor:
            self._drop(cursor, REBUILT)
            for statement in _TABLES.split(";"):
                cursor.execute(self._sql(statement, REBUILT))

    def add_rebuilt(self, rows: list[Row], replace: bool) -> None:
        """Rows into the rebuild's tables (`replace`: some of them may be there already)."""
        columns = _columns(rows)
        with self._cursor(commit=True) as cursor:
            self._write(cursor, columns, REBUILT, replace)

    def rebuilt_rows(self, ticket_ids: Iterable[str]) -> dict[str, Row]:
        return self.rows(ticket_ids, REBUILT)

    def swap_in(self, rows: list[Row], replace: bool, position: int) -> None:
        """The last rows, then the rebuild's tables become the views, reflecting the log up to `position`,
        all in one transaction: a reader sees the old views or the new ones, never a mix. A projector
        saving meanwhile finds the position moved (Moved) and reads on from `position`."""
        columns = _columns(rows)
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql("UPDATE {p}view_positions SET position = ? WHERE name = ?"), (position, VIEW))
            self._write(cursor, columns, REBUILT, replace)
            self._drop(cursor, LIVE)
            for table in ("rows", "keys"):
                cursor.execute(self._sql(f"ALTER TABLE {{p}}{REBUILT[table]} RENAME TO {LIVE[table]}"))
            if self._postgres:  # its key's index keeps its name: free it for the next rebuild
                cursor.execute(self._sql(f"ALTER INDEX {{p}}{REBUILT['rows']}_pkey RENAME TO {LIVE['rows']}_pkey"))
            for statement in _INDEXES.split(";"):
                cursor.execute(self._sql(statement))

    # ------------------------------------------------------------------------------------------

    def dump(self) -> list[Row]:
        """Every row, in ticket id order (to compare two builds of the view)."""
        return [orjson.loads(r["row"]) for r in self.query("SELECT row FROM {p}ticket_rows ORDER BY ticket_id")]

    def _move(self, cursor: Any, until: int, since: int) -> None:
        cursor.execute(
            self._sql("UPDATE {p}view_positions SET position = ? WHERE name = ? AND position = ?"),
            (until, VIEW, since),
        )
        if getattr(cursor, "sqlite_cursor", cursor).rowcount != 1:  # eventsourcing wraps sqlite3
            raise Moved()

    def _drop(self, cursor: Any, tables: dict[str, str]) -> None:
        cursor.execute(self._sql("DROP TABLE IF EXISTS {p}{keys}", tables))
        cursor.execute(self._sql("DROP TABLE IF EXISTS {p}{rows}", tables))

    def _write(self, cursor: Any, columns: Columns, tables: dict[str, str], replace: bool) -> None:
        """Rows and their keys, in bulk (COPY on PostgreSQL); `replace` deletes their old ones first.
        Nothing is computed here: a transaction idle while Python works is ended by PostgreSQL
        (eventsourcing sets idle_in_transaction_session_timeout, 5 s)."""
        records, keys = columns
        if not records:
            return
        if replace:
            for chunk in _chunks([r[0] for r in records]):
                marks = ", ".join("?" * len(chunk))
                cursor.execute(self._sql(f"DELETE FROM {{p}}{{rows}} WHERE ticket_id IN ({marks})", tables), chunk)
                cursor.execute(self._sql(f"DELETE FROM {{p}}{{keys}} WHERE ticket_id IN ({marks})", tables), chunk)
        if self._postgres:
            for table, values in ((tables["rows"], records), (tables["keys"], keys)):
                with cursor.copy(self._sql(f"COPY {{p}}{table} FROM STDIN")) as copy:
                    for value in values:
                        copy.write_row(value)
            return
        cursor.executemany(self._sql(f"INSERT INTO {{p}}{{rows}} VALUES ({', '.join('?' * COLUMNS)})", tables), records)
        if keys:
            cursor.executemany(self._sql("INSERT INTO {p}{keys} VALUES (?, ?, ?, ?)", tables), keys)


Columns = tuple[list[tuple[Any, ...]], list[tuple[str, str, str, str]]]


def _columns(rows: list[Row]) -> Columns:
    """What the tables hold of these rows: one record each, and a record per key it is found by."""
    records = [_record(r) for r in rows]
    keys = [(r["tenant"], r["id"], kind, value) for r in rows for kind, values in _keys(r) for value in values]
    return records, keys


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _record(r: Row) -> tuple[Any, ...]:
    """A row's columns: what lists filter and sort by, and the whole row as JSON."""
    return (
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
        orjson.dumps(r, option=orjson.OPT_SORT_KEYS).decode(),
    )


def _keys(row: Row) -> list[tuple[str, list[str]]]:
    """The many-valued things a row is found by."""
    return [
        ("node", row["nodes"] if row["status"] == "open" else []),
        ("handler", current_handlers(row)),
        ("customer", customer_keys(row)),
    ]
