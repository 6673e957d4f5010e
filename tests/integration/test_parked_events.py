"""An event a policy fails on is parked with the batch's position, not retried forever nor
dropped; an operator retries it after the fix. The store failing is not the event's fault."""

from dataclasses import replace

import pytest
from eventsourcing.persistence import OperationalError

from shared.follower import Follower
from shared.metrics import EVENTS_PARKED
from shared.parking import ParkedEvent, ids_of
from shared.transport import Batch
from services.workflow import bootstrap as workflow
from services.workflow.policies import ticket_policy
from tests.integration.test_exactly_once import pending_batch, stored_events, submit_many

POISON = 1  # the second submission trips the bug


def buggy(policy, poison_ids, error=ValueError("a bug for this event")):
    def run(envelope, uow):
        policy(envelope, uow)  # half done when it fails: that must be thrown away
        if envelope.subject in poison_ids:
            raise error

    return run


def test_a_failing_event_is_parked_and_the_rest_of_the_batch_goes_on(settings):
    ids = submit_many(settings, 3)
    app = workflow.application(settings)
    policy = ticket_policy(app.assigner, app.load)
    follower = Follower("workflow", app, buggy(policy, {ids[POISON]}), None)
    before = EVENTS_PARKED.labels("workflow")._value.get()
    batch = pending_batch(settings)
    follower.process(batch)
    follower.process(batch)  # delivered again: nothing more, parked once
    assert app.position("intake") == batch.position
    assert app.find(ids[0], "acme") and app.find(ids[2], "acme") and app.find(ids[POISON], "acme") is None
    parked = follower.parked()
    assert [p.arrived.subject for p in parked] == [ids[POISON]]
    assert "a bug for this event" in parked[0].error and parked[0].arrived.type == "ticket.created"
    assert EVENTS_PARKED.labels("workflow")._value.get() == before + 1

    with pytest.raises(ValueError):  # retried before the fix: still failing, still parked
        follower.retry(parked[0])
    assert app.find(ids[POISON], "acme") is None and len(follower.parked()) == 1

    fixed = Follower("workflow", app, policy, None)  # the fix deployed
    fixed.retry(fixed.parked()[0])
    assert app.find(ids[POISON], "acme").node == "处理中"
    assert fixed.parked() == []
    # three Opened and their Unassigned (nobody is a technician), the Parked and its Resolved
    assert app.recorder.max_notification_id() == 3 * 2 + 1 + 1


def test_a_store_that_fails_is_not_the_events_fault_nothing_is_parked(settings):
    ids = submit_many(settings, 2)
    app = workflow.application(settings)
    follower = Follower(
        "workflow", app, buggy(ticket_policy(app.assigner, app.load), set(ids), OperationalError("db down")), None
    )
    with pytest.raises(OperationalError):
        follower.process(pending_batch(settings))
    assert app.position("intake") == 0 and stored_events(app) == 0 and follower.parked() == []


def test_operators_list_and_retry_parked_events_from_the_cli(settings, monkeypatch):
    from click.testing import CliRunner

    from services.cli import cli

    for key in ("SCRM_TRANSPORT", "SCRM_DATA_DIR", "SCRM_KAFKA_BOOTSTRAP", "SCRM_DATABASE_URL"):
        monkeypatch.setenv(key, "")  # the CLI exports its options; put them back afterwards
    ids = submit_many(settings, 2)
    app = workflow.application(settings)
    Follower("workflow", app, buggy(ticket_policy(app.assigner, app.load), {ids[0]}), None).process(
        pending_batch(settings)
    )
    where = ["--data-dir", str(settings.data_dir)] + (
        ["--database-url", settings.database_url] if settings.database_url else []
    )
    listed = CliRunner().invoke(cli, [*where, "workflow", "parked", "list"])
    assert listed.exit_code == 0 and str(ids[0]) in listed.output and "a bug for this event" in listed.output
    retried = CliRunner().invoke(cli, [*where, "workflow", "parked", "retry"])
    assert retried.exit_code == 0 and "processed" in retried.output
    assert CliRunner().invoke(cli, [*where, "workflow", "parked", "list"]).output == ""
    assert workflow.application(settings).find(ids[0], "acme") is not None


def always_failing(envelope, uow):
    raise ValueError("a bug for every event")


def test_two_leaders_events_sharing_an_id_are_each_parked(settings):
    """Intake's ticket.created and workflow's ticket.opened share the ticket's id as envelope id."""
    submit_many(settings, 1)
    app = workflow.application(settings)
    [envelope] = pending_batch(settings).envelopes
    twin = replace(envelope, source=f"{envelope.source}-twin")
    batches = Batch("intake", envelope.sequence, [envelope]), Batch("twin", 1, [twin])
    follower = Follower("workflow", app, always_failing, None)
    follower.process(*batches)
    workflow.follower(settings).process(*batches)  # delivered again: parked once each
    assert sorted(p.arrived.source for p in follower.parked()) == sorted([envelope.source, twin.source])


def test_an_event_parked_before_sources_were_in_the_id_is_not_parked_again(settings):
    submit_many(settings, 1)
    app = workflow.application(settings)
    batch = pending_batch(settings)
    [envelope] = batch.envelopes
    _, before = ids_of("workflow", envelope)
    app.save(
        ParkedEvent._create(ParkedEvent.Parked, id=before, follower="workflow", envelope=envelope.to_dict(), error="x")
    )
    follower = Follower("workflow", app, always_failing, None)
    follower.process(replace(batch, stream="scrm.intake#0"))  # replayed on a new stream
    assert [p.id for p in follower.parked()] == [before]
