"""The Kafka adapter against a real broker: ordering per ticket, positions, bad records."""

import json
import uuid

import pytest
from kafka import KafkaProducer

from shared.settings import Settings
from shared.transport.kafka import KafkaRelay, KafkaSubscription
from services.intake import bootstrap as intake
from services.intake.outbox import OUTBOX as INTAKE

pytestmark = [pytest.mark.kafka]
CUSTOMER = {"name": "王五", "phone": "13700000000", "address": "广州"}


@pytest.fixture
def kafka_settings(tmp_path, kafka):
    return Settings(data_dir=tmp_path, transport="kafka", kafka_bootstrap=kafka.bootstrap,
                    kafka_prefix=f"it{uuid.uuid4().hex[:8]}", kafka_session_timeout_ms=2000)


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
    relay = KafkaRelay(INTAKE, kafka_settings)
    assert relay.relay_once() == 20 and relay.relay_once() == 0  # its position is kept
    subscription = KafkaSubscription("it", [INTAKE], kafka_settings)
    batches = drain(subscription, lambda stream: 0, 20)
    assert sorted(e.subject for b in batches for e in b.envelopes) == sorted(ids)
    assert all(b.stream.startswith(f"{kafka_settings.kafka_prefix}.intake#") for b in batches)
    subscription.close()


def test_a_record_that_is_not_an_envelope_is_logged_and_passed_over(kafka_settings, kafka):
    app = intake.application(kafka_settings)
    app.submit("acme", "h5", "good-1", CUSTOMER, "d")
    relay = KafkaRelay(INTAKE, kafka_settings)
    topic = relay.topic
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)
    key = uuid.uuid4().bytes
    for junk in (b"not json", json.dumps({"type": "ticket.created"}).encode()):
        producer.send(topic, key=key, value=junk, partition=0)
    producer.flush()
    relay.relay_once()
    subscription = KafkaSubscription("it-bad", [INTAKE], kafka_settings)
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
    relay = KafkaRelay(INTAKE, kafka_settings)
    assert relay.relay_once() == 6
    wf = workflow.application(kafka_settings)
    follower = Follower("workflow", wf, ticket_policy(wf.assigner, wf.load), KafkaSubscription("it-replay", [INTAKE],
                                                                                       kafka_settings))
    for batch in drain(follower.subscription, wf.position, 6):
        follower.process(batch)
    assert wf.recorder.max_notification_id() == 6

    for key in ("SCRM_TRANSPORT", "SCRM_DATA_DIR", "SCRM_KAFKA_BOOTSTRAP", "SCRM_KAFKA_PREFIX"):
        monkeypatch.setenv(key, "")
    monkeypatch.setenv("SCRM_KAFKA_PREFIX", kafka_settings.kafka_prefix)
    second = INTAKE.reader(kafka_settings).read(0)[1][1].sequence  # the log holds customers' events too
    replayed = CliRunner().invoke(cli, ["--transport", "kafka", "--data-dir", str(kafka_settings.data_dir),
                                        "--kafka-bootstrap", kafka_settings.kafka_bootstrap,
                                        "replay", "intake", "--from", str(second)])
    assert replayed.exit_code == 0, replayed.output
    assert "4 events of intake published again" in replayed.output
    assert relay.relay_once() == 0  # the relay's own position did not move
    copies = drain(follower.subscription, wf.position, 4)
    assert sorted(e.subject for b in copies for e in b.envelopes) == sorted(ids[2:])
    for batch in copies:
        follower.process(batch)
    assert wf.recorder.max_notification_id() == 6  # the copies caused nothing new
    backlog = follower.measure_backlog()  # from the fetches' high-water marks
    assert backlog and all(s.startswith(f"{kafka_settings.kafka_prefix}.intake#") and n >= 0
                           for s, n in backlog.items())
    follower.subscription.close()
