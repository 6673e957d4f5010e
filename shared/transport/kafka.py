"""Kafka adapter: relays publish each service's outbox; followers consume per partition.

Relay: reads the service's outbox table after the position it last published, sends each
envelope in CloudEvents' binary mode keyed by the ticket id as text (one partition per
ticket keeps a ticket's events in order), waits until every send is acknowledged and only
then records the new position. A crash in between publishes some events again; consumers'
domain rules make that harmless.

Subscription: positions live in the follower's own store, per topic partition
(`scrm.workflow#2` -> next offset), committed with the events they caused. On every
assignment the consumer seeks to them, so Kafka's committed offsets are not relied on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from collections.abc import Callable

import structlog
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import TopicAlreadyExistsError

from shared.contracts import ContractError, topic, validate_envelope
from shared.doorbell import listen
from shared.envelope import Envelope
from shared.eventstore import Tracking
from shared.metrics import EVENTS_RELAYED
from shared.persistence import outbox_reader
from shared.settings import Settings
from shared.transport import Batch

log = structlog.get_logger()

RELAY = "kafka-relay"


def ensure_topics(settings: Settings, services: list[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="scrm-admin")
    try:
        for service in services:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            topic(service, settings.kafka_prefix), settings.kafka_partitions, settings.kafka_replication
                        )
                    ]
                )
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


@dataclass(frozen=True)
class Replayed:
    read: int  # public events in the range
    published: int
    skipped: int  # positions in the range that held no public event (a service's private events)


class KafkaRelay:
    def __init__(self, service: str, settings: Settings, page_size: int = 1000):
        self.service = service
        self.topic = topic(service, settings.kafka_prefix)
        self._reader = outbox_reader(service, settings)
        self._store = self._reader.store  # the service's own: the relay keeps its position there
        self._page_size = page_size
        self._doorbell = listen(
            [self._store], settings.wake_on_commit, settings.wake_gap
        )  # the service's commits wake it
        ensure_topics(settings, [service])
        self._producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"scrm-relay-{service}",
            acks="all",
            retries=2**31 - 1,
            max_in_flight_requests_per_connection=1,  # keeps order
            linger_ms=5,
            batch_size=256 * 1024,
            compression_type=None,
        )

    def run(self, stop: threading.Event, idle_wait: float = 0.1) -> None:
        log.info("relay.started", service=self.service, topic=self.topic)
        while not stop.is_set():
            if not self.relay_once():
                self._doorbell.wait(idle_wait)
        self.close()

    def relay_once(self) -> int:
        envelopes = self._reader.read(self._store.position(RELAY), self._page_size)
        if envelopes:
            self._publish(envelopes)
            self._store.record([], Tracking(RELAY, envelopes[-1].sequence))
        return len(envelopes)

    def last_position(self) -> int:
        return self._reader.last_position()

    def replay(self, after: int, upto: int, on_page: Callable[[int], None] = lambda positions: None) -> Replayed:
        """Publish the outbox's events after position `after` up to `upto` again, leaving the
        relay's own position alone: to re-feed a new subscriber, or topics a broker lost.
        Followers take the copies as redeliveries (every reaction is keyed by what caused it).
        `on_page` hears how many positions each page covered (for a progress bar)."""
        start, read = after, 0
        while envelopes := self._reader.read(after, self._page_size, upto=upto):
            self._publish(envelopes)
            read += len(envelopes)
            on_page(envelopes[-1].sequence - after)
            after = envelopes[-1].sequence
        on_page(max(upto - after, 0))  # the rest of the range held no public event
        return Replayed(read=read, published=read, skipped=max(upto - start, 0) - read)

    def close(self) -> None:
        self._producer.close(timeout=10)
        self._doorbell.close()
        self._reader.close()

    def _publish(self, envelopes: list[Envelope]) -> None:
        futures = []
        for e in envelopes:
            checked = validate_envelope(e)  # raises: nothing off-contract leaves, and nothing is skipped
            futures.append(
                self._producer.send(self.topic, key=checked.kafka_key(), value=e.data_json(), headers=e.kafka_headers())
            )
        self._producer.flush()
        for future in futures:
            future.get()  # raises if any send failed: the page is published again
        EVENTS_RELAYED.labels(self.service).inc(len(envelopes))


class _SeekToRecorded(ConsumerRebalanceListener):
    def __init__(self, subscription: KafkaSubscription):
        self._subscription = subscription

    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        for tp in assigned:
            self._subscription.seek_to_recorded(tp)


class KafkaSubscription:
    def __init__(self, follower: str, leaders: list[str], settings: Settings, max_records: int = 2000):
        self._position: Callable[[str], int] = lambda stream: 0
        self._max_records = max_records
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=f"{settings.kafka_prefix}-{follower}",
            client_id=f"scrm-{follower}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(100, settings.kafka_session_timeout_ms // 4),
            fetch_max_wait_ms=settings.kafka_fetch_wait_ms,
        )
        ensure_topics(settings, leaders)
        self._consumer.subscribe(
            [topic(service, settings.kafka_prefix) for service in leaders], listener=_SeekToRecorded(self)
        )

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
        return {
            self.stream(tp): max(0, high - position(self.stream(tp)))
            for tp in self._consumer.assignment()
            if (high := self._consumer.highwater(tp)) is not None
        }

    def close(self) -> None:
        self._consumer.close()


def _envelope(record) -> Envelope | None:
    try:
        return validate_envelope(Envelope.from_kafka(record.headers, record.value))
    except (ContractError, ValueError, KeyError, TypeError) as error:
        # Not ours to fix and never processable: log it and move past it.
        log.error(
            "kafka.bad_record", topic=record.topic, partition=record.partition, offset=record.offset, error=str(error)
        )
        return None
