"""A system outside the platform subscribing to its public topics, as the AsyncAPI document tells
one to: every partition of every service's topic from the start, each record read as a CloudEvent
with the CloudEvents SDK. What it counts is what the world was told, whatever the stores say."""

from __future__ import annotations

import threading
from collections import Counter

from cloudevents.v1.kafka import KafkaMessage, from_binary
from kafka import KafkaConsumer, TopicPartition

from shared.contracts import topic


class OutsideConsumer:
    def __init__(self, bootstrap: str, prefix: str, services: tuple[str, ...], partitions: int):
        self.topics = {service: topic(service, prefix) for service in services}
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            request_timeout_ms=60_000,
        )
        self._consumer.assign([TopicPartition(t, p) for t in self.topics.values() for p in range(partitions)])
        self._service_of = {t: s for s, t in self.topics.items()}
        self._lock = threading.Lock()
        self._records: dict[str, Counter[str]] = {service: Counter() for service in services}  # event id -> records
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> OutsideConsumer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()

    def _read(self) -> None:
        while not self._stop.is_set():
            for partition, records in self._consumer.poll(timeout_ms=500).items():
                service = self._service_of[partition.topic]
                events = [from_binary(KafkaMessage(dict(r.headers), r.key, r.value)) for r in records]
                with self._lock:
                    self._records[service].update(e["id"] for e in events)

    def received(self, service: str) -> Counter[str]:
        """How many records of each event id reached `service`'s topic so far (more than one: the
        relay published it again after a crash, which the contract's deduplication by id absorbs)."""
        with self._lock:
            return Counter(self._records[service])

    def total(self) -> int:
        """Every record read so far: a measure that grows while publishing goes on."""
        with self._lock:
            return sum(sum(c.values()) for c in self._records.values())
