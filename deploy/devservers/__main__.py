"""``python -m deploy.devservers [--no-postgres] [--no-kafka]``: start the servers, print
``SCRM_TEST_DATABASE_URL=...`` / ``SCRM_TEST_KAFKA_BOOTSTRAP=...`` and keep them up until
SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from deploy.devservers.kafka import KafkaBroker
from deploy.devservers.postgres import ENV_DATABASE_URL, Postgres
from deploy.devservers.processes import Server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run throw-away PostgreSQL/Tansu servers until interrupted.")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-kafka", action="store_true")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    servers: list[Server] = []
    try:
        if not args.no_postgres:
            pg = Postgres(use_env=False).start()
            servers.append(pg)
            print(f"{ENV_DATABASE_URL}={pg.url}", flush=True)
        if not args.no_kafka:
            kb = KafkaBroker().start()
            servers.append(kb)
            print(f"SCRM_TEST_KAFKA_BOOTSTRAP={kb.bootstrap}", flush=True)
        print("# servers up; Ctrl-C / SIGTERM to stop", file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            for s in servers:
                if not s.running:
                    print(f"{s!r} exited unexpectedly", file=sys.stderr)
                    return 1
        return 0
    finally:
        for s in reversed(servers):
            s.stop()


if __name__ == "__main__":
    sys.exit(main())
