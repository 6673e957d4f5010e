"""How fast the workflow worker catches up a backlog, on PostgreSQL.

Fills intake's store with N ticket-created events, then times the workflow follower (the
code `scrm workflow worker --slice K/P` runs, in P processes) until every slice has
caught up. Baseline, measured in the same run on the same server: raw psycopg inserts
of rows the same size as workflow's stored events, in batches, one transaction each.

    python bench/workflow_backlog.py [--events 60000] [--processes CORES+1]

By default one process per core and one more: each waits on PostgreSQL for a part of every
batch (reading a page, committing), and the extra one keeps the cores busy meanwhile.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from bench import slices
from services.intake import bootstrap as intake
from services.intake.domain import Submission
from services.workflow import bootstrap as workflow
from shared.eventstore import open_store
from shared.persistence import store_env
from shared.settings import Settings
from deploy.devservers import DURABLE, Postgres

CUSTOMER = {"name": "张三", "phone": "13800138000", "address": "上海市浦东新区世纪大道 100 号"}


def fill_backlog(settings: Settings, n: int, template: str = "default", urgent_every: int = 0) -> None:
    """N ticket.created events in intake's store; with `urgent_every` k, every k-th ticket says 紧急."""
    app = intake.application(settings)
    for start in range(0, n, 1000):
        events = []
        for i in range(start, min(n, start + 1000)):
            s = Submission(
                tenant="acme",
                channel="h5",
                submission_id=f"bench-{i}",
                customer=CUSTOMER,
                description=("紧急：" if urgent_every and i % urgent_every == 0 else "")
                + "空调不制冷，外机有异响，需要上门检修",
                template=template,
                route={"by": "default"},
            )
            events += s.collect_events()
        app.record(events)
    app.close()


def catch_up(settings: Settings, processes: int) -> tuple[slices.CaughtUp, int]:
    workflow.application(settings).close()  # tables first, as `scrm db init` does
    open_store("settlement", store_env("settlement", settings)).close()  # workflow follows its catalogue too
    settings = replace(settings, create_tables=False)
    took = slices.catch_up(settings, processes, workflow.follower, timeout=600)
    app = workflow.application(settings)
    return took, app.recorder.max_notification_id()


def raw_inserts(url: str, rows: int, row_bytes: int, batch: int) -> float:
    payload = os.urandom(row_bytes // 2).hex().encode()[:row_bytes]
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE raw_events (originator_id uuid, originator_version bigint, topic text, "
            "state bytea, notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.commit()
        import uuid

        started = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, rows, batch):
                cur.executemany(
                    "INSERT INTO raw_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                    [
                        (uuid.uuid4(), 1, "services.workflow.domain:Ticket.Opened", payload)
                        for _ in range(start, min(rows, start + batch))
                    ],
                )
                conn.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument(
        "--processes",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="worker processes, each a slice  [default: cores + 1]",
    )
    args = parser.parse_args()
    with Postgres(settings=DURABLE) as pg:  # fsync and synchronous commit on
        url = pg.create_database("bench_workflow")
        settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url)
        t = time.perf_counter()
        fill_backlog(settings, args.events)
        print(f"backlog: {args.events} ticket.created events written in {time.perf_counter() - t:.1f} s")
        caught_up, stored = catch_up(settings, args.processes)
        elapsed = caught_up.seconds
        with psycopg.connect(url) as conn:
            avg = conn.execute("SELECT avg(length(state))::int FROM workflow.workflow_events").fetchone()[0]
        raw = raw_inserts(pg.create_database("bench_raw"), stored, avg, 2000)
    print(
        f"workflow worker, {args.processes} process(es): {args.events / elapsed:,.0f} upstream events/s "
        f"({stored / elapsed:,.0f} stored events/s, {stored} events of ~{avg} B) in {elapsed:.2f} s"
    )
    print(
        f"  the workers' own CPU: {1e6 * caught_up.cpu_seconds / args.events:,.0f} us per upstream event "
        f"(PostgreSQL's not in it); load average {os.getloadavg()[0]:.1f}"
    )
    print(f"baseline raw psycopg inserts, same rows, batches of 2000: {stored / raw:,.0f} rows/s")
    print(f"ratio workflow stored events / raw rows: {raw / elapsed:.2f}")
    print(f"target: 20,000 upstream events/s -> {'MET' if args.events / elapsed >= 20_000 else 'NOT MET'}")


if __name__ == "__main__":
    main()
