"""The Kafka adapter against a real broker: ordering per ticket, positions, bad records."""

import json
import uuid

import pytest
from kafka import KafkaProducer

from eventsourcing.domain import Aggregate

from shared.persistence import outbox_reader
from shared.settings import Settings
from shared.transport.kafka import KafkaRelay, KafkaSubscription
from services.intake import bootstrap as intake

pytestmark = [pytest.mark.kafka]
CUSTOMER = {"name": "王五", "phone": "13700000000", "address": "广州"}


@pytest.fixture
def kafka_settings(tmp_path, kafka):
    return Settings(
        data_dir=tmp_path,
        transport="kafka",
        kafka_bootstrap=kafka.bootstrap,
        kafka_prefix=f"it{uuid.uuid4().hex[:8]}",
        kafka_session_timeout_ms=2000,
    )


def drain(subscription, position, want, rounds=60):
    batches = []
    for _ in range(rounds):
        batches += subscription.poll(position, 0.5)
        if sum(len(b.envelopes) for b in batches) >= want:
            break
    return batches


def test_the_relay_publishes_each_event_once_and_subscribers_see_them_by_partition(kafka_settings):
    app = intake.application(kafka_settings)
    ids = [app.submit("acme", "h5", f"k-{i}", CUSTOMER, "d").ticket_id for i in range(20)]
    relay = KafkaRelay("intake", kafka_settings)
    assert relay.relay_once() == 20 and relay.relay_once() == 0  # its position is kept
    subscription = KafkaSubscription("it", ["intake"], kafka_settings)
    batches = drain(subscription, lambda stream: 0, 20)
    assert sorted(e.subject for b in batches for e in b.envelopes) == sorted(ids)
    assert all(b.stream.startswith(f"{kafka_settings.kafka_prefix}.intake#") for b in batches)
    subscription.close()


def test_a_record_that_is_not_an_envelope_is_logged_and_passed_over(kafka_settings, kafka):
    app = intake.application(kafka_settings)
    app.submit("acme", "h5", "good-1", CUSTOMER, "d")
    relay = KafkaRelay("intake", kafka_settings)
    topic = relay.topic
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)
    key = uuid.uuid4().bytes
    for junk in (b"not json", json.dumps({"type": "ticket.created"}).encode()):
        producer.send(topic, key=key, value=junk, partition=0)
    producer.flush()
    relay.relay_once()
    subscription = KafkaSubscription("it-bad", ["intake"], kafka_settings)
    batches = drain(subscription, lambda stream: 0, 1)
    assert [e.data["submission_id"] for b in batches for e in b.envelopes] == ["good-1"]
    partition_0 = [b for b in batches if b.stream.endswith("#0")]
    assert partition_0 and partition_0[0].position >= 2  # the junk's offsets are passed, not retried forever
    subscription.close()


def test_a_replay_publishes_a_range_again_and_a_follower_records_nothing_twice(kafka_settings, monkeypatch):
    from click.testing import CliRunner

    from shared.follower import Follower
    from services.cli import cli
    from services.workflow import bootstrap as workflow
    from services.workflow.policies import ticket_policy

    app = intake.application(kafka_settings)
    ids = [app.submit("acme", "h5", f"r-{i}", CUSTOMER, "d").ticket_id for i in range(6)]
    relay = KafkaRelay("intake", kafka_settings)
    assert relay.relay_once() == 6
    wf = workflow.application(kafka_settings)
    follower = Follower(
        "workflow", wf, ticket_policy(wf.assigner, wf.load), KafkaSubscription("it-replay", ["intake"], kafka_settings)
    )
    for batch in drain(follower.subscription, wf.position, 6):
        follower.process(batch)
    assert wf.recorder.max_notification_id() == 2 * 6  # Opened, and Unassigned: nobody is a technician here

    for key in ("SCRM_TRANSPORT", "SCRM_DATA_DIR", "SCRM_KAFKA_BOOTSTRAP", "SCRM_KAFKA_PREFIX"):
        monkeypatch.setenv(key, "")
    monkeypatch.setenv("SCRM_KAFKA_PREFIX", kafka_settings.kafka_prefix)
    second = outbox_reader("intake", kafka_settings).read(0)[1].sequence  # the log holds customers' events too
    replayed = CliRunner().invoke(
        cli,
        [
            "--transport",
            "kafka",
            "--data-dir",
            str(kafka_settings.data_dir),
            "--kafka-bootstrap",
            kafka_settings.kafka_bootstrap,
            "replay",
            "intake",
            "--from",
            str(second),
        ],
    )
    assert replayed.exit_code == 0, replayed.output
    assert "4 public events read, 4 published again" in replayed.output
    assert relay.relay_once() == 0  # the relay's own position did not move
    copies = drain(follower.subscription, wf.position, 4)
    assert sorted(e.subject for b in copies for e in b.envelopes) == sorted(ids[2:])
    for batch in copies:
        follower.process(batch)
    assert wf.recorder.max_notification_id() == 2 * 6  # the copies caused nothing new
    backlog = follower.measure_backlog()  # from the fetches' high-water marks
    assert backlog and all(
        s.startswith(f"{kafka_settings.kafka_prefix}.intake#") and n >= 0 for s, n in backlog.items()
    )
    follower.subscription.close()


class Note(Aggregate):
    """A private event of no contract's: the relay must pass any number of them."""

    def __init__(self, tenant: str):
        self.tenant = tenant


def record_private_events(app, n):
    for start in range(0, n, 500):
        app.save(*[Note(tenant="acme") for _ in range(min(500, n - start))])


def test_the_relay_publishes_a_public_event_recorded_behind_a_long_run_of_private_ones(kafka_settings):
    """Issue 9, item 1: a window of 1 000 private events once stopped the relay for good."""
    app = intake.application(kafka_settings)
    record_private_events(app, 1100)
    ticket = app.submit("acme", "h5", "after-private", CUSTOMER, "d").ticket_id
    relay = KafkaRelay("intake", kafka_settings, page_size=1000)
    assert relay.relay_once() == 1
    subscription = KafkaSubscription("it-private", ["intake"], kafka_settings)
    assert [e.subject for b in drain(subscription, lambda stream: 0, 1) for e in b.envelopes] == [ticket]
    subscription.close()
    relay.close()


def test_a_replay_publishes_every_public_event_of_its_range_and_counts_what_it_skipped(kafka_settings):
    """Issue 9, item 2: a page of private events once made a replay jump to the end."""
    app = intake.application(kafka_settings)
    first = app.submit("acme", "h5", "before", CUSTOMER, "d").ticket_id
    record_private_events(app, 1100)
    second = app.submit("acme", "h5", "after", CUSTOMER, "d").ticket_id
    relay = KafkaRelay("intake", kafka_settings, page_size=1)
    end = relay.last_position()
    covered = []
    done = relay.replay(0, end, covered.append)
    relay.close()
    assert (done.read, done.published) == (2, 2)
    assert done.skipped == end - 2 and sum(covered) == end  # the progress bar reaches the end
    subscription = KafkaSubscription("it-replay-all", ["intake"], kafka_settings)
    assert sorted(e.subject for b in drain(subscription, lambda stream: 0, 2) for e in b.envelopes) == sorted(
        [first, second]
    )
    subscription.close()


def test_records_are_cloudevents_in_binary_mode_keyed_by_the_ticket_id_as_text(kafka_settings, kafka):
    """Issue 9, item 4 and issue 10: what a kcat, Kafka Connect or CloudEvents SDK user reads."""
    from cloudevents.v1.kafka import KafkaMessage, from_binary
    from kafka import KafkaConsumer, TopicPartition

    app = intake.application(kafka_settings)
    ticket = app.submit("acme", "h5", "ce-1", CUSTOMER, "空调不制冷").ticket_id
    relay = KafkaRelay("intake", kafka_settings)
    relay.relay_once()
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20_000,
    )
    consumer.assign([TopicPartition(relay.topic, p) for p in range(kafka_settings.kafka_partitions)])
    record = next(iter(consumer))
    consumer.close()
    relay.close()
    assert record.key == str(ticket).encode()
    event = from_binary(KafkaMessage(dict(record.headers), record.key, record.value))
    assert event["specversion"] == "1.0" and event["type"] == "ticket.created" and event["source"] == "scrm/intake"
    assert event["subject"] == str(ticket) and event["tenant"] == "acme"
    assert event["datacontenttype"] == "application/json" and event["dataschema"] == "urn:scrm:ticket.created:v2"
    assert event["sequence"].isdigit() and len(event["sequence"]) == 20
    assert event.get_data()["description"] == "空调不制冷"  # the SDK parsed the JSON value
