"""A reader of some of its service's own events (shared/ownlog.py: the stock keeper, notify's sender,
workflow's projector and SLA timers) moves past the other events it reads, on SQLite and PostgreSQL.
One that stayed at its last event of interest would scan the rest of the log again on every read, for
as long as no such event came: at 60,000 tickets that was half of settlement's worker."""

from eventsourcing.domain import Aggregate

from shared.eventstore import ServiceApplication
from shared.ownlog import own_events
from shared.persistence import store_env
from shared.slices import Slice

from services.workflow import bootstrap as workflow
from services.workflow.sla.timers import TimerIndex


class Often(Aggregate):
    def __init__(self, n: int):
        self.n = n


class Rarely(Aggregate):
    def __init__(self, n: int):
        self.n = n


def test_a_reader_moves_past_events_it_does_not_read(settings):
    app = ServiceApplication(env=store_env("reader", settings))
    app.save(*(Often(n) for n in range(5)))
    rarely = own_events(app, [Rarely.Created])
    last, events = rarely(0, 1000)
    assert (last, events) == (app.recorder.max_notification_id(), [])
    assert rarely(last, 1000) == (last, [])

    app.save(Rarely(1), Often(5))
    last, events = rarely(last, 1000)
    assert last == app.recorder.max_notification_id()
    assert [e.n for e in events] == [1]


def test_a_page_is_so_many_positions_and_a_slice_reads_its_own_aggregates_only(settings):
    app = ServiceApplication(env=store_env("reader", settings))
    wanted = [Rarely(n) for n in range(6)]
    app.save(*(x for n, r in enumerate(wanted) for x in (r, Often(n))))
    first, second = Slice(0, 2), Slice(1, 2)
    found = {}
    for part in (first, second):
        read, position, found[part] = own_events(app, [Rarely.Created], part), 0, []
        while (page := read(position, 2)) and page[0] != position:
            assert page[0] - position <= 2 * part.count  # `limit` positions for each slice
            position, found[part] = page[0], found[part] + page[1]
    assert all(part.takes(e.originator_id) for part in found for e in found[part])
    assert sorted(e.n for part in found for e in found[part]) == list(range(6))


def test_the_sla_timers_move_past_tickets_without_a_target(settings):
    app = workflow.application(settings)
    app.save(*(Often(n) for n in range(3)))
    index = TimerIndex()
    assert index.catch_up(app) == 0
    assert index.position == app.recorder.max_notification_id()
    assert index.due == {}
