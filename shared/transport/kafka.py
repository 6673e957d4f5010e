"""Kafka adapter: relays publish each service's outbox; followers consume per partition.

Relay: reads the service's public events after the position it last published, sends
them keyed by ticket id (one partition per ticket keeps a ticket's events in order),
waits until every send is acknowledged and only then records the new position. A crash
in between publishes some events again; consumers' domain rules make that harmless.

Subscription: positions live in the follower's own store, per topic partition
(`scrm.workflow#2` -> next offset), committed with the events they caused. On every
assignment the consumer seeks to them, so Kafka's committed offsets are not relied on.
"""

from __future__ import annotations

import threading
from typing import Callable

import structlog
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import TopicAlreadyExistsError

from shared.contracts import ContractError, topic, validate_envelope
from shared.envelope import Envelope
from shared.metrics import EVENTS_RELAYED
from shared.outbox import Outbox
from shared.settings import Settings
from shared.transport import Batch

log = structlog.get_logger()

RELAY = "kafka-relay"


def ensure_topics(settings: Settings, services: list[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="scrm-admin")
    try:
        for service in services:
            try:
                admin.create_topics([NewTopic(topic(service, settings.kafka_prefix), settings.kafka_partitions, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


class KafkaRelay:
    def __init__(self, outbox: Outbox, settings: Settings, page_size: int = 1000):
        self.outbox = outbox
        self.topic = topic(outbox.service, settings.kafka_prefix)
        self._reader = outbox.reader(settings)
        self._page_size = page_size
        ensure_topics(settings, [outbox.service])
        self._producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap, client_id=f"scrm-relay-{outbox.service}",
            acks="all", retries=2**31 - 1, max_in_flight_requests_per_connection=1,  # keeps order
            linger_ms=5, batch_size=256 * 1024, compression_type=None,
        )

    def run(self, stop: threading.Event, idle_wait: float = 0.1) -> None:
        log.info("relay.started", service=self.outbox.service, topic=self.topic)
        while not stop.is_set():
            if not self.relay_once():
                stop.wait(idle_wait)
        self._producer.close(timeout=10)
        self._reader.close()

    def relay_once(self) -> int:
        last, envelopes = self._reader.read(self._reader.relayed(RELAY), self._page_size)
        if not envelopes:
            return 0
        self._publish(envelopes)
        self._reader.mark_relayed(RELAY, last)
        return len(envelopes)

    def last_position(self) -> int:
        return self._reader.last_position()

    def replay(self, after: int, upto: int, on_page: Callable[[int], None] = lambda positions: None) -> int:
        """Publish the outbox's events after position `after` up to `upto` again, leaving the
        relay's own position alone: to re-feed a new subscriber, or topics a broker lost.
        Followers take the copies as redeliveries (every reaction is keyed by what caused it).
        `on_page` hears how many positions each page covered (for a progress bar)."""
        published = 0
        while after < upto:
            last, envelopes = self._reader.read(after, self._page_size)
            envelopes = [e for e in envelopes if e.sequence <= upto]
            if envelopes:
                self._publish(envelopes)
                published += len(envelopes)
            done = min(last, upto) if envelopes else upto  # no public event left in the range
            on_page(done - after)
            after = done
        self._producer.close(timeout=10)
        return published

    def _publish(self, envelopes: list[Envelope]) -> None:
        futures = [self._producer.send(self.topic, key=e.subject.bytes, value=validate_envelope(e).to_json())
                   for e in envelopes]
        self._producer.flush()
        for future in futures:
            future.get()  # raises if any send failed: the page is published again
        EVENTS_RELAYED.labels(self.outbox.service).inc(len(envelopes))


class _SeekToRecorded(ConsumerRebalanceListener):
    def __init__(self, subscription: KafkaSubscription):
        self._subscription = subscription

    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        for tp in assigned:
            self._subscription.seek_to_recorded(tp)


class KafkaSubscription:
    def __init__(self, follower: str, leaders: list[Outbox], settings: Settings, max_records: int = 2000):
        self._position: Callable[[str], int] = lambda stream: 0
        self._max_records = max_records
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap, group_id=f"{settings.kafka_prefix}-{follower}",
            client_id=f"scrm-{follower}", enable_auto_commit=False, auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(100, settings.kafka_session_timeout_ms // 4),
        )
        ensure_topics(settings, [o.service for o in leaders])
        self._consumer.subscribe([topic(o.service, settings.kafka_prefix) for o in leaders],
                                 listener=_SeekToRecorded(self))

    @staticmethod
    def stream(tp: TopicPartition) -> str:
        return f"{tp.topic}#{tp.partition}"

    def seek_to_recorded(self, tp: TopicPartition) -> None:
        self._consumer.seek(tp, self._position(self.stream(tp)))

    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        self._position = position  # read by the rebalance listener during poll()
        polled = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=self._max_records)
        batches = []
        for tp, records in polled.items():
            stream = self.stream(tp)
            recorded = position(stream)
            fresh = [r for r in records if r.offset >= recorded]
            if fresh:
                batches.append(Batch(stream, fresh[-1].offset + 1, [e for e in map(_envelope, fresh) if e]))
        return batches

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        """From the high-water marks the last fetches brought (no extra request)."""
        return {self.stream(tp): max(0, high - position(self.stream(tp))) for tp in self._consumer.assignment()
                if (high := self._consumer.highwater(tp)) is not None}

    def close(self) -> None:
        self._consumer.close()


def _envelope(record) -> Envelope | None:
    try:
        return validate_envelope(Envelope.from_json(record.value))
    except (ContractError, ValueError, KeyError, TypeError) as error:
        # Not ours to fix and never processable: log it and move past it.
        log.error("kafka.bad_record", topic=record.topic, partition=record.partition,
                  offset=record.offset, error=str(error))
        return None
