"""A faster way into PostgreSQL for eventsourcing: one statement per commit.

eventsourcing inserts a batch as an array of composite values, which psycopg renders as
escaped text (for thousands of events that costs more than the database's work), and a
commit takes several round trips. Each round trip is a wait after which the committing
thread must win the GIL back from busy request threads: under load a 1 ms commit took
10 ms (bench/intake_submissions.py). So a commit here is one call of a function created
with the tables, taking the columns as binary arrays: it records the tracking positions (one per
upstream stream the commit covers, refusing any that is not ahead, as eventsourcing's single-row
tracking does), takes
eventsourcing's table lock (which keeps notification ids in commit order), inserts the events
and their outbox rows (shared/outbox.py), in one transaction, in one round trip, and NOTIFYs the
store's channel, which its readers LISTEN to (shared/doorbell.py). A duplicate
event or an outdated position is a unique violation, which eventsourcing reports as
IntegrityError; reading the log and tracking queries are the library's own.

In threads (the workers' loops) the call goes through libpq's blocking PQexecPrepared, which
releases the GIL once for the whole round trip; psycopg's own execute takes the GIL back at
each step of the protocol, and each time waits behind busy threads (with 8 of them a commit
took 7 ms instead of 3 ms; bench/README.md). Under gevent (the web apps) the same call would
stall every request of the process, so there it waits the way psycopg waits: cooperatively.
"""

from __future__ import annotations

import struct
import sys
import weakref
from typing import Any
from collections.abc import Callable, Sequence

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Connection, generators
from psycopg import OperationalError as ConnectionLost
from psycopg.errors import error_from_result
from psycopg.pq import ConnStatus, DiagnosticField, ExecStatus, PGconn, PGresult
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal

from shared.doorbell import ListeningConnection
from shared.eventstore import positions
from shared.outbox import OutboxRow
from shared.slices import Slice

_OUTBOX = """
CREATE TABLE IF NOT EXISTS {schema}.{outbox} (
    position int8 PRIMARY KEY, slot int2 NOT NULL, envelope bytea NOT NULL)
"""

# The outbox rows join the events they publish on (id, version) to take their notification ids.
_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids uuid[], versions int8[], topics text[], states bytea[], tracking_names text[], tracking_ids int8[],
    outbox_ids uuid[], outbox_versions int8[], outbox_slots int2[], outbox_envelopes bytea[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    moved int;
BEGIN
    SET LOCAL lock_timeout = '{lock_timeout}s';
    IF cardinality(tracking_names) > 0 THEN
        INSERT INTO {schema}.{tracking} AS t SELECT * FROM unnest(tracking_names, tracking_ids)
            ON CONFLICT (application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id
            WHERE t.notification_id < EXCLUDED.notification_id;
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF moved < cardinality(tracking_names) THEN
            RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                MESSAGE = format('a position of %s is already recorded', tracking_names);
        END IF;
    END IF;
    IF cardinality(ids) > 0 THEN
        LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE;
        PERFORM pg_notify({channel}, '');
        IF cardinality(outbox_ids) = 0 THEN
            INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state)
                SELECT * FROM unnest(ids, versions, topics, states);
        ELSE
            WITH inserted AS (
                INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state)
                    SELECT * FROM unnest(ids, versions, topics, states)
                    RETURNING notification_id, originator_id, originator_version)
            INSERT INTO {schema}.{outbox} (position, slot, envelope)
                SELECT i.notification_id, o.slot, o.envelope FROM inserted i
                JOIN unnest(outbox_ids, outbox_versions, outbox_slots, outbox_envelopes) AS o(id, version, slot, envelope)
                    ON i.originator_id = o.id AND i.originator_version = o.version;
        END IF;
    END IF;
END $$
"""


class OneTripPostgresProcessRecorder(PostgresProcessRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        assert datastore.single_row_tracking, "the insert function keeps one row per tracked stream"
        function = f"{self.events_table_name}_record"
        names = {
            "schema": Identifier(datastore.schema),
            "events": Identifier(self.events_table_name),
            "tracking": Identifier(self.tracking_table_name),
            "function": Identifier(function),
            "outbox": Identifier(self.events_table_name.removesuffix("_events") + "_outbox"),
            "channel": Literal(self.channel),
        }
        self.sql_create_statements += [
            SQL(_OUTBOX).format(**names),
            SQL("DROP FUNCTION IF EXISTS {schema}.{function}(uuid[], int8[], text[], bytea[], text, int8)").format(
                **names
            ),  # the one before the outbox
            SQL(
                "DROP FUNCTION IF EXISTS {schema}.{function}"
                "(uuid[], int8[], text[], bytea[], text, int8, uuid[], int8[], int2[], bytea[])"
            ).format(**names),  # the one that took a single position
            SQL(_FUNCTION).format(lock_timeout=SQL(str(int(datastore.lock_timeout))), **names),
        ]
        self._record = RecordCall(
            function.encode(),
            SQL("SELECT {schema}.{function}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)").format(**names).as_bytes(None),
        )
        # The next rows of the log in order (a range scan of the notification id index that
        # stops at LIMIT), with the state of the wanted events only. Filtering by topic and slice
        # in the WHERE clause instead made the planner guess few matching rows, then scan (in
        # parallel) and sort the whole rest of the log for every page of a backlog.
        self._select_window = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, "
            "CASE WHEN topic = ANY(%s) AND get_byte(uuid_send(originator_id), 15) %% %s = %s THEN state END "
            "FROM {schema}.{events} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(**names)
        # The same rows with no slice (a reader folding the whole log: workflow's own view of it).
        self._select_log = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, "
            "CASE WHEN topic = ANY(%s) THEN state ELSE '' END "
            "FROM {schema}.{events} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(**names)
        # Every outbox row is public, so the slice's test in WHERE loses the planner nothing.
        self._select_outbox = SQL(
            "SELECT position, envelope FROM {schema}.{outbox} WHERE position > %s AND position <= %s "
            "AND slot %% %s = %s ORDER BY position LIMIT %s"
        ).format(**names)
        self._count_outbox = SQL(
            "SELECT count(*) FROM {schema}.{outbox} WHERE position > %s AND slot %% %s = %s"
        ).format(**names)
        self._max_outbox = SQL("SELECT max(position) FROM {schema}.{outbox}").format(**names)
        self._insert_outbox = SQL(
            "INSERT INTO {schema}.{outbox} VALUES (%s, %s, %s) ON CONFLICT (position) DO NOTHING"
        ).format(**names)

    @property
    def channel(self) -> str:
        """What its commits NOTIFY: the events table's name, with its schema."""
        return f"{self.datastore.schema}.{self.events_table_name}"

    def bell(self) -> ListeningConnection:
        """A bell this store's commits ring: a connection of its own, LISTENing."""
        pool = self.datastore.pool
        params = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        return ListeningConnection(
            lambda: Connection.connect(pool.conninfo, autocommit=True, connect_timeout=5, **params), self.channel
        )

    def select_window(
        self, after: int, scan: int, topics: Sequence[str], slice_: Slice
    ) -> tuple[int, list[Notification]]:
        """The next `scan` positions of the log after `after`: the last of them, and the events of
        those topics and of the slice's aggregates among them (a worker sharing the work with
        others does not even receive their events)."""
        rows = self._fetch(self._select_window, (list(topics), slice_.count, slice_.index, after, scan))
        ours = [
            Notification(
                id=id_, originator_id=originator_id, originator_version=version, topic=topic, state=bytes(state)
            )
            for id_, originator_id, version, topic, state in rows
            if state is not None
        ]
        return (rows[-1][0] if rows else after), ours

    def select_log(self, after: int, limit: int, topics: Sequence[str]) -> list[Notification]:
        """The next `limit` rows of the log after `after`, the state of those topics' events only (empty for
        the rest): one prepared read, as tuples (the library's builds its query and a dict per row)."""
        rows = self._fetch(self._select_log, (list(topics), after, limit))
        return [
            Notification(
                id=id_, originator_id=originator_id, originator_version=version, topic=topic, state=bytes(state)
            )
            for id_, originator_id, version, topic, state in rows
        ]

    def select_outbox(self, after: int, limit: int, slice_: Slice, upto: int | None = None) -> list[tuple[int, bytes]]:
        rows = self._fetch(
            self._select_outbox, (after, _LAST if upto is None else upto, slice_.count, slice_.index, limit)
        )
        return [(position, bytes(envelope)) for position, envelope in rows]

    def count_outbox(self, after: int, slice_: Slice) -> int:
        return self._fetch(self._count_outbox, (after, slice_.count, slice_.index))[0][0]

    def max_outbox_position(self) -> int:
        return self._fetch(self._max_outbox, ())[0][0] or 0

    def insert_outbox(self, rows: Sequence[tuple[int, OutboxRow]]) -> None:
        """Rows of events recorded before the outbox existed (an upgrade); existing ones are kept."""
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(self._insert_outbox, [(position, r.slot, r.envelope) for position, r in rows])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _fetch(self, query: SQL, params: tuple) -> list[tuple]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(query, params, prepare=True)
            return curs.fetchall()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.get_connection() as conn:  # autocommit: the call is its own transaction
            self._record(conn, stored_events, positions(kwargs.get("tracking")), kwargs.get("outbox") or ())
        return None  # notification ids are read from the log, never from the insert


class RecordCall:
    """The insert function's call, in one round trip. It is prepared once per connection
    (PostgreSQL then neither parses nor plans it again: ~60 of its ~300 µs of CPU per commit)
    and its arrays are packed here in PostgreSQL's binary format (psycopg's dumpers work out
    each array's element type anew on every call: most of a commit's client CPU)."""

    TYPES = [
        2951,
        1016,
        1009,
        1001,
        1009,
        1016,  # uuid[], int8[], text[], bytea[]: the events; text[], int8[]: the positions
        2951,
        1016,
        1005,
        1001,
    ]  # uuid[], int8[], int2[], bytea[]: their outbox rows
    FORMATS = [1] * len(TYPES)  # all binary

    def __init__(self, name: bytes, query: bytes):
        self._name, self._query = name, query
        self._prepared: weakref.WeakSet[Connection] = weakref.WeakSet()

    def __call__(
        self,
        conn: Connection,
        events: Sequence[StoredEvent],
        tracked: Sequence[Tracking],
        outbox: Sequence[OutboxRow] = (),
    ) -> None:
        """Errors are raised as psycopg raises them (the datastore maps them)."""
        values = [
            _array(2950, [e.originator_id.bytes for e in events]),
            _array(20, [_INT8.pack(e.originator_version) for e in events]),
            _array(25, [e.topic.encode() for e in events]),
            _array(17, [e.state for e in events]),
            _array(25, [p.application_name.encode() for p in tracked]),
            _array(20, [_INT8.pack(p.notification_id) for p in tracked]),
            _array(2950, [r.originator_id.bytes for r in outbox]),
            _array(20, [_INT8.pack(r.originator_version) for r in outbox]),
            _array(21, [_INT2.pack(r.slot) for r in outbox]),
            _array(17, [r.envelope for r in outbox]),
        ]
        with conn.lock:
            if conn not in self._prepared:
                self._prepare(conn)
            result = self._execute(conn, values)
            if result.error_field(DiagnosticField.SQLSTATE) == _NO_SUCH_STATEMENT:
                # psycopg deallocates all of a connection's statements after a ROLLBACK, a DROP, ...
                self._prepare(conn)
                result = self._execute(conn, values)
            _check(conn, result, ExecStatus.TUPLES_OK)

    def _prepare(self, conn: Connection) -> None:
        _check(
            conn,
            _round_trip(
                conn,
                lambda pg: pg.send_prepare(self._name, self._query, param_types=self.TYPES),
                lambda pg: pg.prepare(self._name, self._query, param_types=self.TYPES),
            ),
            ExecStatus.COMMAND_OK,
        )
        self._prepared.add(conn)

    def _execute(self, conn: Connection, values: list[bytes | None]) -> PGresult:
        return _round_trip(
            conn,
            lambda pg: pg.send_query_prepared(self._name, values, param_formats=self.FORMATS),
            lambda pg: pg.exec_prepared(self._name, values, param_formats=self.FORMATS),
        )


_NO_SUCH_STATEMENT = b"26000"
_INT8 = struct.Struct("!q")
_INT2 = struct.Struct("!h")
_LAST = 2**63 - 1
_LENGTH = struct.Struct("!i")
_ARRAY = struct.Struct("!iiIii")  # dimensions, has nulls, element type; then length, lower bound
_EMPTY = struct.Struct("!iiI")


def _array(element_type: int, items: list[bytes]) -> bytes:
    """A one-dimensional array without nulls, in PostgreSQL's binary format."""
    if not items:
        return _EMPTY.pack(0, 0, element_type)
    parts = [_ARRAY.pack(1, 0, element_type, len(items), 1)]
    for item in items:
        parts += (_LENGTH.pack(len(item)), item)
    return b"".join(parts)


def _round_trip(conn: Connection, send: Callable[[PGconn], None], blocking: Callable[[PGconn], PGresult]) -> PGresult:
    if _cooperative():
        send(conn.pgconn)
        return conn.wait(generators.execute(conn.pgconn))[-1]
    return blocking(conn.pgconn)  # without the GIL for the whole round trip


def _check(conn: Connection, result: PGresult, expected: ExecStatus) -> None:
    if result.status != expected:
        if conn.pgconn.status == ConnStatus.BAD:
            raise ConnectionLost(result.get_error_message(conn.info.encoding))
        raise error_from_result(result, encoding=conn.info.encoding)


def _cooperative() -> bool:
    """Whether gevent has patched this process (psycopg's own test for waiting cooperatively)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("select")
