"""Chaos in the distributed topology while tickets flow: every worker and relay and a web worker
SIGKILLed again and again, the broker and PostgreSQL each paused. Nothing lost, nothing doubled in
the stores, and every public event of every service reaches its topic, as a system outside the
platform reading the topics counts them.

Its waits last as long as the platform makes progress (tests/support/progress.py): on a busy
machine it takes longer, and it fails only once nothing has moved for a long stretch."""

import itertools
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest
import requests

from tests.e2e.flow import EXPECTED_PAYOUT, EXPECTED_TOTAL, load_settlement_examples, work_and_close
from shared.persistence import outbox_reader
from shared.settings import Settings
from tests.support.outside import OutsideConsumer
from tests.support.platform import SERVICES, Platform
from tests.support.progress import Progress, where_work_stands, work_done

# Every wait below fails after tests/support/progress.py's STALL without progress; this only
# guards against a hang nothing else would catch.
pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(3600)]

TICKETS = 300
DELIVERIES = 4  # per ticket, see below
WEB_WORKER = "intake-web-worker"  # one of intake's gunicorn workers (its master starts another)
VICTIMS = (*(f"{s}-worker" for s in SERVICES), *(f"{s}-relay" for s in SERVICES), WEB_WORKER)
DELIVERY_EVENTS = ("Requested", "Sent", "Failed", "DeadLettered")
PAUSE = 10  # seconds the broker, then PostgreSQL, stand still while tickets flow


def strike(platform, victim: str) -> int | None:
    """SIGKILL the victim: its pid, or None when it was not running."""
    if victim != WEB_WORKER:
        return platform.kill(victim)
    workers = platform.web_workers("intake")
    if len(workers) < 2:
        return None  # the one killed before is not replaced yet
    os.kill(workers[0], signal.SIGKILL)
    return workers[0]


def public_event_ids(database_url: str, service: str, data_dir) -> set[str]:
    """The ids of every public event in the service's outbox: what must reach its topic."""
    reader = outbox_reader(service, Settings(data_dir=data_dir, database_url=database_url))
    ids, after = set(), 0
    try:
        while page := reader.read(after, 1000):
            ids.update(str(e.id) for e in page)
            after = page[-1].sequence
    finally:
        reader.close()
    return ids


def event_counts(database_url: str, service: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT topic, count(*) FROM {service}.{service}_events GROUP BY topic").fetchall()
    return {topic.rsplit(".", 1)[-1]: n for topic, n in rows}


def deliveries(database_url: str) -> dict[str, int]:
    """Notify's delivery events by kind (Requested, Sent, Failed, DeadLettered)."""
    return {k: n for k, n in event_counts(database_url, "notify").items() if k in DELIVERY_EVENTS}


def accepted(platform, submission_id: str) -> str | None:
    """The ticket id, once intake has answered 200/201; a channel retries with the same id until then,
    which makes retries harmless."""
    try:
        answer = platform.submit(submission_id)
    except requests.RequestException:
        return None
    if answer.status_code in (200, 201):
        return answer.json()["ticket_id"]
    assert answer.status_code == 503, answer.text
    time.sleep(float(answer.headers.get("Retry-After", "1")) / 5)
    return None


def found(platform, service: str, path: str) -> dict | None:
    try:
        answer = platform.get(service, path, timeout=PAUSE * 3)
    except requests.RequestException:
        return None  # asked again
    return answer.json() if answer.status_code == 200 else None


def test_chaos_loses_and_doubles_nothing_and_every_public_event_is_published(tmp_path, database_url, kafka, postgres):
    # A delivery that failed while a server stood still is retried within seconds, not after the
    # minutes of backoff a real provider gets: a wait gives up after 90 s without progress.
    platform = Platform(tmp_path, "kafka", database_url, kafka.bootstrap, extra_env={"SCRM_NOTIFY_RETRY_CAP": "3"})
    outside = OutsideConsumer(
        kafka.bootstrap, platform.env["SCRM_KAFKA_PREFIX"], SERVICES, int(platform.env["SCRM_KAFKA_PARTITIONS"])
    )
    stores = work_done(database_url, SERVICES)
    with (
        platform,
        outside,
        Progress(lambda: stores() + outside.total(), describe=where_work_stands(database_url, SERVICES)) as progress,
    ):
        load_settlement_examples(platform)
        flowed, done = threading.Event(), threading.Event()  # every ticket went through; stop killing
        kills = {v: 0 for v in VICTIMS}
        paused = []

        def pauser():
            """The broker, then the database, stand still for a while, each once tickets are flowing."""
            for server in (kafka, postgres) if postgres.pausable else (kafka,):
                before = progress.value
                while progress.value < before + 500 and not flowed.is_set():  # tickets are flowing
                    if done.wait(0.5):
                        return  # the test failed
                server.pause()
                try:
                    time.sleep(PAUSE)
                finally:
                    server.resume()
                paused.append(type(server).__name__)

        def killer():
            for victim in itertools.cycle(VICTIMS):
                before = progress.value
                if done.wait(2.5):
                    return
                # While tickets flow, the platform must have moved since the last kill: on a slow
                # machine the processes killed before are back at work first, not killed again and
                # again while they are still starting.
                while progress.value == before and not flowed.is_set():
                    if done.wait(0.2):
                        return
                if strike(platform, victim) is not None:
                    kills[victim] += 1

        def one_ticket(i: int) -> str:
            ticket_id = progress.wait_for(lambda: accepted(platform, f"crash-{i:04d}"), f"crash-{i:04d} never accepted")
            progress.wait_for(
                lambda: found(platform, "workflow", f"/v1/tenants/acme/tickets/{ticket_id}"),
                f"ticket {ticket_id} never reached workflow",
            )
            work_and_close(platform, ticket_id, timeout=PAUSE * 3)  # a paused database delays the answer
            return ticket_id

        killing, pausing = threading.Thread(target=killer), threading.Thread(target=pauser)
        killing.start()
        pausing.start()
        try:
            with ThreadPoolExecutor(12) as pool:
                ticket_ids = list(pool.map(one_ticket, range(TICKETS)))
            flowed.set()
            progress.wait_for(lambda: min(kills.values()) >= 3, f"too few kills: {kills}")
        finally:
            done.set()
            killing.join()
            pausing.join()

        def statement(ticket_id: str) -> dict:
            path = f"/v1/tenants/acme/tickets/{ticket_id}/statement"
            return progress.wait_for(lambda: found(platform, "settlement", path), f"no statement for {ticket_id}")

        statements = [statement(t) for t in ticket_ids]
        assert all(Decimal(s["gross"]) == EXPECTED_TOTAL for s in statements)
        assert all(Decimal(s["payout"]) == EXPECTED_PAYOUT for s in statements)
        # Per ticket: the technicians' pool (its one member) told of it and of the statement (WeCom), the
        # customer's accepted and completed (SMS): four deliveries, each sent once.
        try:
            progress.wait_for(
                lambda: event_counts(database_url, "notify").get("Sent") == DELIVERIES * TICKETS,
                "not every delivery was made",
            )
        except TimeoutError as stalled:
            raise TimeoutError(
                f"{DELIVERIES * TICKETS} sent wanted; notify has {deliveries(database_url)}: {stalled}"
            ) from None
        # The customer records each ticket once, and that workflow opened and closed it.
        progress.wait_for(
            lambda: event_counts(database_url, "intake").get("TicketStatusReported") == 2 * TICKETS,
            "intake's worker did not follow every ticket",
        )
        progress.wait_until_quiet(3)  # anything that would double has shown by then

        assert len(set(ticket_ids)) == TICKETS
        intake = event_counts(database_url, "intake")
        assert (intake["Received"], intake["Registered"], intake["Claimed"]) == (TICKETS, 1, 1)  # one phone
        assert (intake["TicketLinked"], intake["TicketStatusReported"]) == (TICKETS, 2 * TICKETS)
        workflow = event_counts(database_url, "workflow")
        assert (workflow["Opened"], workflow["Closed"]) == (TICKETS, TICKETS)
        notify = event_counts(database_url, "notify")
        assert (notify["Requested"], notify["Sent"]) == (DELIVERIES * TICKETS, DELIVERIES * TICKETS)
        assert event_counts(database_url, "settlement")["StatementIssued"] == TICKETS
        assert len(platform.wecom.texts_to("technician-1")) == 2 * TICKETS  # WeCom's duplicate check held
        assert min(kills.values()) >= 3, kills
        assert len(paused) == 1 + postgres.pausable, paused

        # Every public event of every store reached its topic; nothing else did.
        for service in SERVICES:
            public = public_event_ids(database_url, service, tmp_path)
            assert len(public) >= TICKETS, (service, len(public))  # each ticket gives every service's topic some
            progress.wait_for(
                lambda: public <= set(outside.received(service)), f"{service}: public events never published"
            )
            assert set(outside.received(service)) == public, service
