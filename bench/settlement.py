"""How fast settlement settles a backlog of closed tickets, on PostgreSQL (durable).

Fills workflow's store once with N tickets on the default template, each opened, given three spare
parts and two service items (two events: five lines) and closed: the ticket.opened, parts_consumed,
labour_recorded and closed events settlement follows. Then, in alternating rounds:

- settle: a fresh settlement schema with the example terms, then P worker processes (the follower
  `scrm settlement worker --slice K/P` runs) until every slice has caught up with workflow's log.
  Tickets per second: N / the time the slowest slice took; every ticket must have its statement.
- raw: the same statements (the bytes settlement stored for its StatementIssued events) inserted
  with psycopg into a bare table, in batches of 1000, one transaction each.

Prints every round (with the CPU time per ticket of the workers and of PostgreSQL, and the load
average: on a shared machine the rate follows the CPU the workers get), the medians and their ratio;
the targets: N under 10 s, and at least 0.3 x raw. The backlog is vacuumed and analysed once, and
PostgreSQL checkpoints before each timed phase, so that neither pays for the set-up's writes.

    python bench/settlement.py [--tickets 100000] [--processes CORES+1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, UTC
from pathlib import Path
from uuid import UUID, uuid5

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from eventsourcing.utils import get_topic

from bench import slices
from services.settlement import bootstrap as settlement
from services.settlement import examples
from services.settlement.domain.ledger import Ledger
from services.workflow import bootstrap as workflow
from services.workflow.domain import Ticket
from services.workflow.staff import Directory, Member
from shared.settings import Settings
from deploy.devservers import DURABLE, Postgres
from deploy.devservers.processes import alive, cpu_ticks, descendants, wait_for

TERMS_FROM = datetime(2020, 1, 1, tzinfo=UTC)  # the example terms, in force before any ticket
PARTS = [
    {"code": "P-FILTER", "quantity": "2"},
    {"code": "P-VALVE", "quantity": "1"},
    {"code": "P-HOSE", "quantity": "3"},
]
LABOUR = [{"code": "L-VISIT", "quantity": "1"}, {"code": "L-REPAIR", "quantity": "1"}]
ISSUED = get_topic(Ledger.StatementIssued)
_IDS = UUID("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d")
TECHNICIAN = "technician-1"  # the default template's pool (the technician role) has this one member
STAFF = Directory({TECHNICIAN: Member(TECHNICIAN, roles=("technician",))})


def fill_backlog(settings: Settings, tickets: int) -> None:
    app = workflow.application(settings)
    template, assigner = app.default, app.assigner
    for start in range(0, tickets, 1000):
        events = []
        for i in range(start, min(tickets, start + 1000)):
            ticket = Ticket.open(
                uuid5(_IDS, str(i)),
                "acme",
                template,
                customer={"name": "张三"},
                description="空调不制冷",
                channel="h5",
                assigner=assigner,
                staff=STAFF,
            )
            ticket.consume_parts(TECHNICIAN, PARTS, STAFF)
            ticket.record_labour(TECHNICIAN, LABOUR, STAFF)
            ticket.act(template, "advance", TECHNICIAN, assigner, STAFF)
            events += ticket.collect_events()
        app.record(events)
    app.close()


def settle(settings: Settings, processes: int, pg: Postgres) -> tuple[slices.CaughtUp, float | None, int]:
    """How long the slices took, PostgreSQL's CPU seconds meanwhile (None for a server not ours), and how
    many statements were issued."""
    settings = fresh_settlement(settings)
    before = server_seconds(pg)
    took = slices.catch_up(settings, processes, settlement.follower)
    server_cpu = server_seconds(pg) - before if before is not None else None
    with psycopg.connect(settings.database_url) as conn:
        issued = conn.execute(
            "SELECT count(*) FROM settlement.settlement_events WHERE topic = %s", (ISSUED,)
        ).fetchone()
    return took, server_cpu, issued[0]


def fresh_settlement(settings: Settings) -> Settings:
    """An empty settlement schema with the example terms; the settings its workers run with."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS settlement CASCADE")
    app = settlement.application(settings, clock=lambda: TERMS_FROM)  # tables first, as `scrm db init` does
    examples.load(app, "acme", "bench")
    app.close()
    quiesce(settings.database_url)
    return replace(settings, create_tables=False)


def quiesce(url: str, vacuum: bool = False) -> None:
    """Leaves PostgreSQL nothing of the set-up to do in the timed phase that follows (its CPU is counted):
    the dirty pages written (a checkpoint) and, after the backlog was filled, autovacuum's insert-driven
    vacuum and analysis of it done beforehand."""
    with psycopg.connect(url, autocommit=True) as conn:
        if vacuum:
            conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def server_seconds(pg: Postgres) -> float | None:
    """The CPU time PostgreSQL's processes have used (None for a server not started here), once the
    backends of connections closed have ended and been reaped: read meanwhile, one could be missed."""
    if not pg.pid:
        return None
    wait_for(lambda: not any(_is_backend(p) for p in descendants(pg.pid)), timeout=30, message="backends still open")
    return cpu_ticks(pg.pid) / os.sysconf("SC_CLK_TCK")


def _is_backend(pid: int) -> bool:
    """A client connection's backend, alive or not yet reaped ("postgres: user db 127.0.0.1(port) ...")."""
    try:
        return not alive(pid) or b"127.0.0.1(" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # gone meanwhile


def per_item(seconds: float | None, items: int) -> str:
    return "?" if seconds is None else f"{seconds / items * 1e6:,.0f}"


def statements(url: str) -> list[tuple[UUID, bytes]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT originator_id, state FROM settlement.settlement_events WHERE topic = %s", (ISSUED,)
        ).fetchall()


def raw_inserts(
    url: str, rows: list[tuple[UUID, bytes]], pg: Postgres, batch: int = 1000
) -> tuple[float, float | None]:
    """Seconds the inserts took, and PostgreSQL's CPU seconds meanwhile."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_statements")
        conn.execute("CREATE TABLE raw_statements (ledger_id uuid PRIMARY KEY, statement bytea NOT NULL)")
        conn.commit()
    quiesce(url)
    before = server_seconds(pg)
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            for at in range(0, len(rows), batch):
                cur.executemany(
                    "INSERT INTO raw_statements (ledger_id, statement) VALUES (%s, %s)", rows[at : at + batch]
                )
                conn.commit()
        took = time.perf_counter() - started
    return took, server_seconds(pg) - before if before is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--processes",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="worker processes, each a slice  [default: cores + 1]",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Postgres(settings=DURABLE) as pg:  # fsync and synchronous commit on
        url = pg.create_database("bench_settlement")
        settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url)
        t = time.perf_counter()
        fill_backlog(settings, args.tickets)
        quiesce(url, vacuum=True)
        print(
            f"backlog: {args.tickets} closed tickets (4 events each) in workflow's store in "
            f"{time.perf_counter() - t:.0f} s"
        )
        raw_url, settled, raw = pg.create_database("bench_raw"), [], []
        for round_ in range(1, args.rounds + 1):
            caught_up, server_cpu, issued = settle(settings, args.processes, pg)
            assert issued == args.tickets, f"{issued} statements for {args.tickets} tickets"
            rows = statements(url)
            raw_took, raw_cpu = raw_inserts(raw_url, rows, pg)
            settled.append(args.tickets / caught_up.seconds)
            raw.append(len(rows) / raw_took)
            size = sum(len(state) for _, state in rows) // len(rows)
            print(
                f"round {round_}: settlement {settled[-1]:,.0f} tickets/s ({caught_up.seconds:.2f} s, "
                f"CPU per ticket: the workers {caught_up.cpu_seconds / args.tickets * 1e6:,.0f} us, PostgreSQL "
                f"{per_item(server_cpu, args.tickets)} us), "
                f"raw insert {raw[-1]:,.0f} statements/s ({raw_took:.2f} s, ~{size} B each, "
                f"PostgreSQL {per_item(raw_cpu, len(rows))} us each); load average {os.getloadavg()[0]:.1f}"
            )
    rate, baseline = statistics.median(settled), statistics.median(raw)
    print(
        f"median over {args.rounds} rounds, {args.processes} process(es): settlement {rate:,.0f} tickets/s, "
        f"raw insert {baseline:,.0f} statements/s, ratio {rate / baseline:.2f}"
    )
    print(
        f"target: {args.tickets} tickets in under 10 s -> {'MET' if args.tickets / rate < 10 else 'NOT MET'} "
        f"({args.tickets / rate:.1f} s); >= 0.3 x raw -> {'MET' if rate / baseline >= 0.3 else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
