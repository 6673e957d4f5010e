"""Redelivery, crashes mid-batch and republished events never double anything."""

from dataclasses import replace

from eventsourcing.utils import get_topic

import pytest

from shared.eventstore import IntegrityError
from shared.follower import Follower
from shared.persistence import outbox_reader
from shared.slices import Slice
from shared.transport import Batch
from services.intake import bootstrap as intake
from services.workflow import bootstrap as workflow
from services.workflow.domain import Ticket
from services.workflow.policies import ticket_policy
from services.workflow.staff import Directory, Member

CUSTOMER = {"name": "王五", "phone": "13700000000", "address": "广州"}


def submit_many(settings, n):
    app = intake.application(settings)
    return [app.submit("acme", "h5", f"s-{i}", CUSTOMER, "d").ticket_id for i in range(n)]


def pending_batch(settings):
    envelopes = outbox_reader("intake", settings).read(0, 10_000)
    return Batch("intake", envelopes[-1].sequence, envelopes)


def stored_events(app):
    """How many tickets were opened (each also records Unassigned: nobody here is a technician)."""
    return len(app.recorder.select_notifications(start=1, limit=100_000, topics=[get_topic(Ticket.Opened)]))


def test_a_batch_delivered_twice_is_recorded_once(settings):
    submit_many(settings, 20)
    batch = pending_batch(settings)
    follower = workflow.follower(settings)
    follower.process(batch)
    after_first = stored_events(follower.app)
    follower.process(batch)
    assert stored_events(follower.app) == after_first == 20  # one Opened per ticket
    assert follower.app.position("intake") == batch.position


def test_a_crash_in_the_middle_of_a_batch_records_nothing_and_the_retry_everything(settings):
    submit_many(settings, 10)
    batch = pending_batch(settings)
    app = workflow.application(settings)
    policy = ticket_policy(app.assigner, app.load)
    seen = []

    class Killed(BaseException):  # like SIGKILL: nothing in the process gets to handle it
        pass

    def crashing(envelope, uow):
        seen.append(envelope)
        if len(seen) == 5:
            raise Killed()
        policy(envelope, uow)

    with pytest.raises(Killed):
        Follower("workflow", app, crashing, None).process(batch)
    assert stored_events(app) == 0 and app.position("intake") == 0
    Follower("workflow", app, policy, None).process(batch)
    assert stored_events(app) == 10


def test_events_published_again_at_new_positions_change_nothing(settings):
    """A relay that crashed before recording its position publishes a page again."""
    ids = submit_many(settings, 5)
    batch = pending_batch(settings)
    follower = workflow.follower(settings)
    follower.process(Batch("scrm.intake#0", 5, batch.envelopes))
    republished = [replace(e, sequence=e.sequence + 100) for e in batch.envelopes]
    follower.process(Batch("scrm.intake#0", 10, republished))
    assert stored_events(follower.app) == 5
    assert {follower.app.repository.get(i).version for i in ids} == {2}  # Opened, Unassigned: once each


def test_two_instances_racing_on_one_stream_record_once(settings):
    submit_many(settings, 30)
    batch = pending_batch(settings)
    a, b = workflow.follower(settings), workflow.follower(settings)
    a.process(batch)
    b.process(batch)  # sees the position and stops
    assert stored_events(a.app) == 30


def test_a_staff_action_racing_the_worker_gets_a_conflict_not_a_lost_update(settings):
    [ticket_id] = submit_many(settings, 1)
    follower = workflow.follower(settings)
    follower.run_once()
    app_one, app_two = workflow.application(settings), workflow.application(settings)
    first, second = app_one.ticket(ticket_id, "acme"), app_two.ticket(ticket_id, "acme")
    technicians = Directory({"technician-1": Member("technician-1", roles=("technician",))})
    first.consume_parts("technician-1", [{"code": "P-HOSE", "quantity": 1}], technicians)
    second.record_labour("technician-1", [{"code": "L-VISIT", "quantity": 1}], technicians)
    app_one.save(first)
    with pytest.raises(IntegrityError):
        app_two.save(second)


def test_slices_share_the_work_without_overlap_and_keep_their_own_positions(settings):
    ids = submit_many(settings, 40)
    slices = [workflow.follower(settings, Slice(k, 3)) for k in range(3)]
    for follower in slices:
        while follower.run_once():
            pass
    app = slices[0].app
    assert stored_events(app) == 40  # each ticket opened once, by exactly one slice
    assert {app.repository.get(i).version for i in ids} == {2}  # Opened, Unassigned: once each
    envelopes = outbox_reader("intake", settings).read(0, 1000)
    for k in range(3):  # each slice has read its own events, and no further
        own_last = max(e.sequence for e in envelopes if Slice(k, 3).takes(e.subject))
        assert app.position(f"intake#{k}/3") == own_last


def test_pages_of_a_slice_hold_every_public_event_of_its_tickets_in_order(settings):
    ids = submit_many(settings, 30)
    reader = outbox_reader("intake", settings)
    log = reader.store.recorder.select_notifications(start=0, limit=10_000)
    assert len({n.topic for n in log}) > 1  # private events (customers) lie between the public ones
    for k in range(3):
        slice_, after, seen = Slice(k, 3), 0, []
        while page := reader.read(after, 2, slice_):  # tiny pages
            seen += page
            after = page[-1].sequence
        assert [e.subject for e in seen] == [i for i in ids if slice_.takes(i)]
        assert {e.type for e in seen} == {"ticket.created"}
        assert reader.behind(0, slice_) == len(seen) and reader.behind(after, slice_) == 0


def partitions(settings, n):
    """The pending envelopes as a Kafka topic's two partitions would give them: two streams, one poll."""
    envelopes = pending_batch(settings).envelopes
    halves = envelopes[: n // 2], envelopes[n // 2 :]
    return [Batch(f"scrm.intake#{k}", len(half), half) for k, half in enumerate(halves)]


def test_the_batches_of_one_poll_are_committed_together_with_each_streams_position(settings):
    submit_many(settings, 20)
    first, second = partitions(settings, 20)
    follower = workflow.follower(settings)
    follower.process(first, second)
    assert stored_events(follower.app) == 20
    assert (follower.app.position(first.stream), follower.app.position(second.stream)) == (10, 10)
    workflow.follower(settings).process(first, second)  # delivered again: both positions say done
    assert stored_events(follower.app) == 20


def test_a_stream_done_meanwhile_by_another_instance_fails_the_whole_commit_and_the_retry_leaves_it_out(settings):
    submit_many(settings, 20)
    first, second = partitions(settings, 20)
    slow, quick = workflow.follower(settings), workflow.follower(settings)
    assert slow.position(second.stream) == 0  # read before the other instance commits
    quick.process(second)
    commits = []
    record = slow.app.record
    slow.app.record = lambda *args: commits.append(args[1]) or record(*args)
    slow.process(first, second)
    # The first commit claimed both streams and was refused whole; the retry read the positions again.
    assert [[t.application_name for t in c] for c in commits] == [[first.stream, second.stream], [first.stream]]
    assert stored_events(slow.app) == 20
    assert {slow.app.position(b.stream) for b in (first, second)} == {10}
