"""Kill workers and relays with SIGKILL while tickets flow: nothing lost, nothing doubled."""

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest
import requests

from tests.e2e.flow import EXPECTED_PAYOUT, EXPECTED_TOTAL, statement, work_and_close
from tests.support.platform import Platform
from deploy.devservers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]

TICKETS = 300
VICTIMS = ("workflow-worker", "settlement-worker", "intake-worker", "intake-relay", "workflow-relay")


def event_counts(database_url: str, service: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT topic, count(*) FROM {service}.{service}_events GROUP BY topic").fetchall()
    return {topic.rsplit(".", 1)[-1]: n for topic, n in rows}


def submit_until_accepted(platform, submission_id: str) -> str:
    """A channel retries until it gets an answer; the same id makes retries harmless."""
    while True:
        try:
            answer = platform.submit(submission_id)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if answer.status_code in (200, 201):
            return answer.json()["ticket_id"]
        assert answer.status_code == 503, answer.text
        time.sleep(float(answer.headers.get("Retry-After", "1")) / 5)


def test_killing_workers_and_relays_loses_and_doubles_nothing(tmp_path, database_url, kafka):
    with Platform(tmp_path, "kafka", database_url, kafka.bootstrap) as platform:
        done = threading.Event()
        kills = {v: 0 for v in VICTIMS}

        def killer():
            for victim in itertools.cycle(VICTIMS):
                if done.wait(2.5):
                    return
                platform.kill(victim)
                kills[victim] += 1

        def one_ticket(i: int) -> str:
            ticket_id = submit_until_accepted(platform, f"crash-{i:04d}")
            platform.wait_for_ticket(ticket_id, timeout=120)
            work_and_close(platform, ticket_id)
            return ticket_id

        killing = threading.Thread(target=killer)
        killing.start()
        try:
            with ThreadPoolExecutor(12) as pool:
                ticket_ids = list(pool.map(one_ticket, range(TICKETS)))
            while min(kills.values()) < 3:
                time.sleep(0.5)
        finally:
            done.set()
            killing.join()

        statements = [statement(platform, t, timeout=120) for t in ticket_ids]
        assert all(Decimal(s["total"]) == EXPECTED_TOTAL for s in statements)
        assert all(Decimal(s["payout"]) == EXPECTED_PAYOUT for s in statements)
        wait_for(lambda: event_counts(database_url, "notify").get("Made") == TICKETS, 60,
                 message="not every delivery was made")
        time.sleep(3)  # let anything that would double show up

        assert len(set(ticket_ids)) == TICKETS
        intake = event_counts(database_url, "intake")
        assert (intake["Received"], intake["Registered"], intake["Claimed"]) == (TICKETS, 1, 1)  # one phone
        # The customer records each ticket once, and that workflow opened and closed it.
        wait_for(lambda: event_counts(database_url, "intake").get("TicketStatusReported") == 2 * TICKETS, 60,
                 message="intake's worker did not follow every ticket")
        time.sleep(2)
        assert event_counts(database_url, "intake")["TicketLinked"] == TICKETS
        workflow = event_counts(database_url, "workflow")
        assert (workflow["Opened"], workflow["Closed"]) == (TICKETS, TICKETS)
        notify = event_counts(database_url, "notify")
        assert (notify["Requested"], notify["Made"]) == (TICKETS, TICKETS)
        assert event_counts(database_url, "settlement")["StatementIssued"] == TICKETS
        assert len(list((tmp_path / "outbox").glob("*.json"))) == TICKETS
        assert min(kills.values()) >= 3, kills
