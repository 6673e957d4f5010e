"""SLA timers with a controllable clock, on SQLite and PostgreSQL: tickets come from intake's store
through the worker, staff act over HTTP, timer workers fire what is due. Warnings, breaches and the
escalation chain come in order and once each, across restarts (a dropped application, a process that
died before its commit) and with two timer workers racing; a pause shifts the deadline."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone, UTC

import pytest

from shared.contracts import validate_envelope
from shared.persistence import outbox_reader

from services.intake import bootstrap as intake
from services.workflow import bootstrap as workflow
from services.workflow.api import create_app
from services.workflow.sla.timers import TimerWorker
from services.workflow.templates.model import Template
from tests.support.identity import SignedIn, admin, identity_of, open_tenant, staff

ADMIN = admin()
SLA = {
    "response": "1h",
    "resolution": "4h",
    "warn_before": "15m",
    "pausable": True,
    "escalation": [
        {"after": "0m", "do": "remind"},
        {"after": "30m", "do": "notify_supervisor"},
        {"after": "1h", "do": "reassign", "to": {"kind": "user", "value": "backup-1"}},
    ],
}
TEMPLATE = {
    "key": "hotline",
    "name": "热线",
    "calendar": "24x7",  # elapsed time: the arithmetic stays readable
    "fields": [{"key": "note", "label": "备注", "type": "text"}],
    "nodes": [
        {
            "key": "triage",
            "name": "受理",
            "handler": {"kind": "user", "value": "cs-1"},
            "actions": ["view", "edit", "advance", "transfer"],
            "fields": {"editable": ["note"]},
            "sla": SLA,
        },
        {"key": "done", "name": "完成", "kind": "end", "actions": ["view"]},
    ],
    "transitions": [{"from": "triage", "to": "done"}],
}


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self):
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


class Platform:
    def __init__(self, settings):
        self.settings, self.clock = settings, Clock()
        open_tenant(settings)
        self.intake = intake.application(settings)
        self.app = workflow.application(settings, self.clock)
        self.http = SignedIn(create_app(self.app, identity_of(self.app)).test_client(), ADMIN)
        self.worker = workflow.follower(settings)
        self.opened = 0
        self.app.change_staff(
            "acme", lambda d: (d.save_member("boss", "admin"), d.save_member("cs-1", "admin", supervisor="boss"))
        )
        self.app.change_library(
            "acme", lambda lib: (lib.save_draft(Template.from_dict(TEMPLATE), "admin"), lib.publish("hotline", "admin"))
        )

    def open(self):
        self.opened += 1
        accepted = self.intake.submit(
            "acme", "wecom", f"m-{self.opened}", {"wecom_userid": "lisi"}, "投诉", template="hotline"
        )
        while self.worker.run_once():
            pass
        self.clock.at = max(self.clock.at, self.app.repository.get(accepted.ticket_id).sla.clocks[0].started)
        return accepted.ticket_id

    def timers(self) -> TimerWorker:
        """A timer worker as a new process would build it: its own application on the same store."""
        return TimerWorker(workflow.application(self.settings, self.clock))

    def sla_events(self, ticket_id):
        return [
            (type(e).__name__, getattr(e, "timer", None))
            for e in self.app.events.get(ticket_id)
            if type(e).__name__ in ("SlaWarned", "SlaBreached", "Escalated")
        ]

    def since_opened(self, ticket_id) -> timedelta:
        return self.clock() - self.app.repository.get(ticket_id).sla.clocks[0].started


@pytest.fixture
def platform(settings):
    return Platform(settings)


def test_warning_then_breach_then_the_escalation_chain_in_order_and_once_each(platform):
    ticket_id = platform.open()
    timers = platform.timers()
    steps = [
        (40, []),
        (50, [("SlaWarned", "warn")]),
        (55, []),
        (61, [("SlaBreached", "breach"), ("Escalated", "escalate.0")]),
        (80, []),
        (91, [("Escalated", "escalate.1")]),
        (121, [("Escalated", "escalate.2")]),
        (130, []),
    ]
    seen = []
    for minutes, fired in steps:
        platform.clock.at = platform.app.repository.get(ticket_id).sla.clocks[0].started + timedelta(minutes=minutes)
        assert timers.run_once() == len(fired), minutes
        assert timers.run_once() == 0  # never twice
        seen += fired
        assert platform.sla_events(ticket_id) == seen

    view = platform.http.get(f"/v1/tenants/acme/tickets/{ticket_id}").json
    assert view["handler"] == "backup-1"
    response, resolution = view["nodes"][0]["sla"]
    assert (response["kind"], response["breached"], response["next"]) == ("response", True, None)
    assert resolution["kind"] == "resolution" and resolution["next"]["timer"] == "warn"
    timeline = platform.http.get(f"/v1/tenants/acme/tickets/{ticket_id}/timeline").json["timeline"]
    escalations = [e for e in timeline if e["type"] == "Escalated"]
    assert [e["data"]["action"] for e in escalations] == ["remind", "notify_supervisor", "reassign"]
    assert [e["data"]["to"] for e in escalations] == [["cs-1"], ["boss"], ["backup-1"]]
    assert timeline[-1]["type"] == "Assigned" and timeline[-1]["actor"] == "sla"

    reader = outbox_reader("workflow", platform.settings)
    try:
        envelopes = reader.read(0)
    finally:
        reader.close()
    public = [validate_envelope(e) for e in envelopes if e.type.startswith(("ticket.sla", "ticket.escalated"))]
    assert [e.type for e in public] == ["ticket.sla_warned", "ticket.sla_breached"] + ["ticket.escalated"] * 3
    assert all(e.subject == ticket_id for e in public)
    assert public[-1].data["action"] == "reassign" and public[-1].data["handler"] == "cs-1"


def test_a_restart_in_the_middle_of_a_pending_timer_fires_it_once(platform):
    ticket_id = platform.open()
    first = platform.timers()
    platform.clock.advance(minutes=10)
    assert first.run_once() == 0 and first.index.due  # the warning is pending
    first.app.close()
    del first  # the process is gone

    platform.clock.advance(minutes=40)  # past the warning, while nobody ran
    dying = platform.timers()

    def die_before_commit(*_, **__):
        raise SystemExit("killed before the commit")

    dying.app.save = die_before_commit
    with pytest.raises(SystemExit):
        dying.run_once()
    assert platform.sla_events(ticket_id) == []  # it died with nothing recorded

    restarted = platform.timers()
    assert restarted.run_once() == 1
    assert platform.timers().run_once() == 0 and restarted.run_once() == 0
    assert platform.sla_events(ticket_id) == [("SlaWarned", "warn")]


def test_two_timer_workers_racing_record_each_timer_once(platform):
    tickets = [platform.open() for _ in range(4)]
    workers = [platform.timers(), platform.timers()]
    for worker in workers:
        worker.run_once()
    both_loaded = threading.Barrier(2, timeout=20)
    for worker in workers:  # each loads and fires before either commits: one save must lose
        save, first = worker.app.save, [True]

        def save_after_the_other(*args, _save=save, _first=first, **kwargs):
            if _first[0]:
                _first[0] = False
                both_loaded.wait()
            return _save(*args, **kwargs)

        worker.app.save = save_after_the_other
    platform.clock.advance(minutes=50)
    counts, errors = [], []

    def run(worker):
        try:
            counts.append(worker.run_once())
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and sum(counts) == len(tickets)
    for ticket_id in tickets:
        assert platform.sla_events(ticket_id) == [("SlaWarned", "warn")]


def test_a_pause_while_waiting_for_the_customer_shifts_the_deadline(platform):
    ticket_id = platform.open()
    path = f"/v1/tenants/acme/tickets/{ticket_id}/actions"
    timers = platform.timers()
    started = platform.app.repository.get(ticket_id).sla.clocks[0].started
    platform.clock.at = started + timedelta(minutes=10)
    paused = platform.http.post(path, json={"action": "pause"}, headers=staff("cs-1"))
    assert paused.status_code == 200, paused.json
    assert paused.json["nodes"][0]["actions"][-1] == "resume"
    platform.clock.at = started + timedelta(hours=5)  # the customer took their time
    assert timers.run_once() == 0
    resumed = platform.http.post(path, json={"action": "resume"}, headers=staff("cs-1"))
    assert resumed.status_code == 200, resumed.json
    (clock,) = resumed.json["nodes"][0]["sla"]  # the response target was met by pausing
    deadline = platform.app.repository.get(ticket_id).sla.clock("triage", "resolution").deadline
    assert clock["deadline"] == deadline.isoformat(timespec="milliseconds")
    assert deadline == started + timedelta(hours=4) + timedelta(hours=4, minutes=50)  # shifted by the pause
    platform.clock.at = deadline - timedelta(minutes=16)
    assert timers.run_once() == 0
    platform.clock.at = deadline - timedelta(minutes=15)
    assert timers.run_once() == 1 and platform.sla_events(ticket_id) == [("SlaWarned", "warn")]
    advanced = platform.http.post(path, json={"action": "advance"}, headers=staff("cs-1"))
    assert advanced.status_code == 200 and advanced.json["status"] == "closed"
    platform.clock.at = deadline + timedelta(days=1)
    assert timers.run_once() == 0  # leaving the node cancelled its timers
    met = [e for e in platform.app.events.get(ticket_id) if type(e).__name__ == "SlaMet"]
    assert [(e.clock, e.how, e.on_time) for e in met] == [("response", "responded", True), ("resolution", "left", True)]
