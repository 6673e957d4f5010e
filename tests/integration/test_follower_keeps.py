"""A follower keeps the aggregates only it writes, and its positions, between batches (shared/follower.py,
shared.eventstore.Kept): read once, never trusted past a failed batch or another instance's write."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event

from shared.envelope import Envelope
from shared.eventstore import ServiceApplication
from shared.follower import Follower
from shared.transport import Batch

TICKET = UUID("3b0c9a51-7e2d-4f6a-8b1c-2d3e4f5a6b7c")


class Tally(Aggregate):
    """What one ticket's events were, each counted once (a follower's idempotence, as a ledger's)."""

    @staticmethod
    def create_id(ticket: UUID) -> UUID:
        return ticket

    def __init__(self, ticket: UUID):
        self.seen: list[str] = []

    @event("Counted")
    def count(self, envelope_id: str) -> None:
        self.seen.append(envelope_id)


def tally(envelope: Envelope, uow) -> None:
    found = uow.get(Tally.create_id(envelope.subject))
    if found is None:
        found = Tally(ticket=envelope.subject)
        uow.add(found)
    if str(envelope.id) not in found.seen:
        found.count(str(envelope.id))


def batch(position: int, stream: str = "leader") -> Batch:
    envelope = Envelope(
        id=uuid4(),
        source="scrm/leader",
        type="ticket.noted",
        subject=TICKET,
        time=datetime.now(UTC),
        tenant="acme",
        sequence=position,
        data={},
    )
    return Batch(stream, position, [envelope])


class Counted:
    """The store's reads of the tally and of positions."""

    def __init__(self, app: ServiceApplication):
        self.tallies, self.positions = 0, 0
        get, position = app.repository.get, app.position

        def counted_get(aggregate_id, *args, **kwargs):
            self.tallies += aggregate_id == TICKET
            return get(aggregate_id, *args, **kwargs)

        def counted_position(stream):
            self.positions += 1
            return position(stream)

        app.repository.get, app.position = counted_get, counted_position


@pytest.fixture
def app(tmp_path):
    return ServiceApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "follower.db")}
    )


def stored(app: ServiceApplication) -> list[str]:
    return app.repository.get(TICKET).seen


def test_what_it_committed_is_read_from_the_store_once(app):
    reads = Counted(app)
    follower = Follower("f", app, tally, None, keeps=(Tally,))
    batches = [batch(n) for n in range(1, 6)]
    for b in batches:
        follower.process(b)
    assert reads.tallies == 1  # the first batch found none and created it; it was kept since
    assert reads.positions == 1
    assert stored(app) == [str(b.envelopes[0].id) for b in batches]


def test_without_keeps_every_batch_reads_it(app):
    reads = Counted(app)
    follower = Follower("f", app, tally, None)
    for n in range(1, 4):
        follower.process(batch(n))
    assert reads.tallies == 3


def test_another_instance_writing_meanwhile_is_found_out_and_nothing_is_lost_or_doubled(app):
    """Two instances of one slice (a worker restarted while the old one still ran): each one's kept copy
    goes stale when the other commits; the stale commit conflicts, and the batch is done again from the
    store."""
    first, second = Follower("f", app, tally, None, keeps=(Tally,)), Follower("f", app, tally, None, keeps=(Tally,))
    one, two, three = batch(1), batch(2), batch(3)
    first.process(one)
    second.process(two)  # reads the tally, and a position, the first does not know of
    first.process(three)  # its copy stops at `one`: the commit conflicts on version
    assert stored(app) == [str(b.envelopes[0].id) for b in (one, two, three)]
    assert app.position("leader") == 3
    second.process(two)  # its position is stale: the commit conflicts, it reads the store's and stops
    assert len(stored(app)) == 3


def test_a_batch_that_fails_to_commit_leaves_nothing_behind_in_the_copies(app):
    follower = Follower("f", app, tally, None, keeps=(Tally,))
    first = batch(1)
    follower.process(first)
    record = app.record

    def store_down(*args, **kwargs):
        raise OSError("the store went away")

    app.record = store_down
    lost = batch(2)
    with pytest.raises(OSError):
        follower.process(lost)
    app.record = record
    follower.process(lost)  # read again after the outage
    assert stored(app) == [str(first.envelopes[0].id), str(lost.envelopes[0].id)]


def test_an_event_the_policy_fails_on_is_parked_and_its_half_done_change_is_not_kept(app):
    def half_done_then_fails(envelope: Envelope, uow) -> None:
        tally(envelope, uow)
        if envelope.sequence == 2:
            raise ValueError("a bug for this event")

    follower = Follower("f", app, half_done_then_fails, None, keeps=(Tally,))
    follower.process(batch(1))
    follower.process(batch(2))  # parked: its count thrown away with the attempt
    last = batch(3)
    follower.process(last)
    assert len(stored(app)) == 2 and stored(app)[-1] == str(last.envelopes[0].id)


def test_a_batch_killed_midway_leaves_nothing_behind_in_the_copies(app):
    class Killed(BaseException):  # like SIGKILL in a test: nothing in the follower handles it
        pass

    def killed_after_counting(envelope: Envelope, uow) -> None:
        tally(envelope, uow)
        raise Killed()

    follower = Follower("f", app, tally, None, keeps=(Tally,))
    first = batch(1)
    follower.process(first)
    follower.policy = killed_after_counting
    with pytest.raises(Killed):
        follower.process(batch(2))
    follower.policy = tally
    last = batch(3)
    follower.process(last)
    assert stored(app) == [str(first.envelopes[0].id), str(last.envelopes[0].id)]
