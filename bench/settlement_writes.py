"""What settlement writes per settled ticket, and what each part of it costs PostgreSQL.

Settles a backlog once, in one process (bench/settlement.py's backlog: each ticket opened, three parts
and two service items in two events, closed), counting the worker's round trips per batch; then lists what was written per ticket (rows per table and topic, their sizes as
written and as stored: PostgreSQL compresses values over ~2 KB) and the store round trips per batch.
Then writes the same rows again, through the store's own one-round-trip insert (shared/postgres.py), in
the worker's transactions (250 tickets and the tracking position each), into a fresh schema per
variant, rounds alternating: everything, and subsets of it (what fewer rows per ticket would save).
Prints PostgreSQL's CPU time per ticket for each (its own processes', from /proc), and the bytes the
variant left in the tables and their indexes (and the WAL it wrote).

    python bench/settlement_writes.py [--tickets 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from eventsourcing.persistence import StoredEvent, Tracking

from bench.settlement import fill_backlog, fresh_settlement, quiesce, server_seconds
from deploy.devservers import DURABLE, Postgres
from services.settlement import bootstrap as settlement
from shared.outbox import OutboxRow
from shared.settings import Settings
from shared.slices import Slice

LEDGER = "services.settlement.domain.ledger:"
TICKETS_PER_COMMIT = 250  # a page of 1000 envelopes, four per ticket

Pick = Callable[[list[StoredEvent]], list[StoredEvent]]
ALL = "all of it (4 events + the outbox row)"
UNCOMPRESSED = "all of it, nothing compressed"
VARIANTS: dict[str, tuple[Pick, bool]] = {  # which of a ticket's events, and its outbox row or not
    ALL: (lambda events: events, True),
    UNCOMPRESSED: (lambda events: events, True),  # rows under ~8 KB neither compressed nor moved out of line
    "the statement event + the outbox row": (lambda events: events[-1:], True),
    "the 4 events, no outbox row": (lambda events: events, False),
    "the 3 small events only": (lambda events: events[:-1], False),
}


def written(url: str, tickets: int) -> None:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT 'settlement_events', topic, count(*), avg(length(state)), avg(pg_column_size(state)) "
            "FROM settlement.settlement_events WHERE topic LIKE %s GROUP BY topic UNION ALL "
            "SELECT 'settlement_outbox', '', count(*), avg(length(envelope)), avg(pg_column_size(envelope)) "
            "FROM settlement.settlement_outbox",
            (LEDGER + "%",),
        ).fetchall()
    print(f"written per settled ticket ({tickets} tickets):")
    for table, topic, count, size, stored in rows:
        print(
            f"  {count / tickets:.2f} row of {table} {topic.removeprefix(LEDGER)}: {size:,.0f} B ({stored:,.0f} stored)"
        )
    print("  and one tracking row per transaction (updated in place); no snapshots, no read-model rows")


def settle_counting_round_trips(settings: Settings) -> None:
    """Settles the backlog in this process, counting the worker's statements per batch."""
    counted: Counter[str] = Counter()
    execute = psycopg.Cursor.execute

    def counting(cursor, query, *args, **kwargs):
        text = query.as_string(cursor) if hasattr(query, "as_string") else str(query)
        counted[text.split(" WHERE ")[0]] += 1
        return execute(cursor, query, *args, **kwargs)

    follower = settlement.follower(fresh_settlement(settings), Slice(0, 1))
    psycopg.Cursor.execute = counting
    try:
        batches = 0
        while follower.run_once():
            batches += 1
    finally:
        psycopg.Cursor.execute = execute
        follower.subscription.close()
        follower.app.close()
    queries = "; ".join(f"{n / batches:.1f} x {q}" for q, n in counted.most_common())
    print(f"round trips per batch ({batches} batches): the commit (one call); {queries}")


def rewrite(
    settings: Settings, pg: Postgres, tickets: list[list[StoredEvent]], outbox: dict, variant: str
) -> tuple[float, int, int]:
    """PostgreSQL's CPU seconds for writing the variant's rows of `tickets` into a fresh schema, the WAL
    it wrote and what the two tables hold (with their indexes and TOAST), in bytes."""
    pick, with_outbox = VARIANTS[variant]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS settlement CASCADE")
    settlement.application(settings).close()  # the tables
    if variant == UNCOMPRESSED:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            for table in ("settlement_events", "settlement_outbox"):
                conn.execute(f"ALTER TABLE settlement.{table} SET (toast_tuple_target = 8160)")
    quiesce(settings.database_url)
    wal = _lsn(settings.database_url)
    before = server_seconds(pg)  # with no connection open: its backend's CPU counts once it has ended
    app = settlement.application(replace(settings, create_tables=False))
    for n, at in enumerate(range(0, len(tickets), TICKETS_PER_COMMIT), start=1):
        chunk = tickets[at : at + TICKETS_PER_COMMIT]
        app.recorder.insert_events(
            [e for events in chunk for e in pick(events)],
            tracking=Tracking("workflow", n * 4 * TICKETS_PER_COMMIT),
            outbox=[outbox[events[0].originator_id] for events in chunk] if with_outbox else [],
        )
    app.close()
    cpu = server_seconds(pg) - before
    with psycopg.connect(settings.database_url) as conn:
        wrote, held = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s), pg_total_relation_size('settlement.settlement_events')"
            " + pg_total_relation_size('settlement.settlement_outbox')",
            (wal,),
        ).fetchone()
    return cpu, int(wrote), held


def _lsn(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Postgres(settings=DURABLE) as pg:  # fsync and synchronous commit on
        if pg.pid is None:
            sys.exit("needs a PostgreSQL started here (its CPU is read from /proc): unset SCRM_TEST_DATABASE_URL")
        settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=pg.create_database("bench_writes"))
        fill_backlog(settings, args.tickets)
        quiesce(settings.database_url, vacuum=True)
        settle_counting_round_trips(settings)
        written(settings.database_url, args.tickets)
        with psycopg.connect(settings.database_url) as conn:
            events = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM settlement.settlement_events "
                "WHERE topic LIKE %s ORDER BY notification_id",
                (LEDGER + "%",),
            ).fetchall()
            rows = conn.execute(
                "SELECT e.originator_id, e.originator_version, o.slot, o.envelope FROM settlement.settlement_outbox o "
                "JOIN settlement.settlement_events e ON e.notification_id = o.position"
            ).fetchall()
        tickets: dict = {}
        for originator_id, version, topic, state in events:
            tickets.setdefault(originator_id, []).append(StoredEvent(originator_id, version, topic, bytes(state)))
        outbox = {row[0]: OutboxRow(row[0], row[1], row[2], bytes(row[3])) for row in rows}
        ledgers = [e for e in tickets.values() if len(e) == 4]
        cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
        sizes: dict[str, tuple[int, int]] = {}
        for round_ in range(1, args.rounds + 1):
            for variant in VARIANTS:
                seconds, wal, held = rewrite(settings, pg, ledgers, outbox, variant)
                cpu[variant].append(seconds / len(ledgers) * 1e6)
                sizes[variant] = wal // len(ledgers), held // len(ledgers)
            print(
                f"round {round_}: PostgreSQL's CPU per ticket: "
                + ", ".join(f"{v} {cpu[v][-1]:,.0f} us" for v in VARIANTS)
                + f"; load average {os.getloadavg()[0]:.1f}"
            )
    print(f"median over {args.rounds} rounds, {len(ledgers)} tickets:")
    for variant, seconds in cpu.items():
        wal, held = sizes[variant]
        print(
            f"  {variant}: {statistics.median(seconds):,.0f} us of PostgreSQL's CPU per ticket; "
            f"{wal:,} B of WAL and {held:,} B in the tables per ticket"
        )


if __name__ == "__main__":
    main()
