"""How long one group commit takes while busy request threads hold the GIL, on PostgreSQL.

Why `shared/postgres.py` commits through libpq's blocking call in threaded processes (the
workers; the web apps run on gevent and wait cooperatively): psycopg's `execute` takes
the GIL back at every step of the protocol, and each time waits behind the busy threads.
This runs the same commit (the intake store's one-round-trip function, two events) both ways
with 0, 4 and 8 threads spinning in the process, and prints the median and mean.

    python bench/commit_under_gil.py [--commits 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from eventsourcing.persistence import StoredEvent

from services.intake import bootstrap as intake
from shared.postgres import RecordCall
from shared.settings import Settings
from deploy.devservers import DURABLE, Postgres

CALL = "SELECT intake.intake_events_record({}::uuid[], {}::int8[], {}::text[], {}::bytea[], {}::text, {}::int8)"


def group():
    return ([uuid.uuid4(), uuid.uuid4()], [1, 1], ["bench:Received"] * 2, [b'{"a":1}' * 40] * 2, None, None)


def psycopg_execute(conn) -> None:
    conn.execute(CALL.format("%b", "%b", "%b", "%b", "%s", "%s"), group(), prepare=True)


RECORD = RecordCall(b"bench_record", CALL.format("$1", "$2", "$3", "$4", "$5", "$6").encode())


def blocking_call(conn) -> None:
    ids, versions, topics, states, _, _ = group()
    RECORD(conn, [StoredEvent(*event) for event in zip(ids, versions, topics, states)], None)


def spin(stop: threading.Event) -> None:
    """A request thread: ~300 µs of Python, then a short wait, over and over."""
    while not stop.is_set():
        started = time.perf_counter()
        while time.perf_counter() - started < 0.0003:
            pass
        time.sleep(0.0001)


def measure(commit, conn, n: int) -> tuple[float, float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        commit(conn)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000, statistics.mean(took) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=400)
    args = parser.parse_args()
    with Postgres(settings=DURABLE) as pg:
        url = pg.create_database("bench_commit")
        intake.application(Settings(database_url=url)).close()  # the tables and the commit function
        with psycopg.connect(url, autocommit=True) as conn:
            print("busy threads   psycopg execute: median / mean     blocking libpq call: median / mean")
            for busy in (0, 4, 8):
                stop = threading.Event()
                spinners = [threading.Thread(target=spin, args=(stop,), daemon=True) for _ in range(busy)]
                for t in spinners:
                    t.start()
                a, b = measure(psycopg_execute, conn, args.commits), measure(blocking_call, conn, args.commits)
                stop.set()
                for t in spinners:
                    t.join()
                print(f"{busy:>12}   {a[0]:14.2f} / {a[1]:.2f} ms            {b[0]:14.2f} / {b[1]:.2f} ms")


if __name__ == "__main__":
    main()
