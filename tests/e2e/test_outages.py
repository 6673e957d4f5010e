"""A paused broker or database: intake keeps its promises, and nothing is lost once it is back."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from tests.e2e.flow import told
from tests.support.platform import Platform
from deploy.devservers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]


def intake_events(database_url):
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM intake.intake_events WHERE topic LIKE %s", ("%:Submission.Received",)
        ).fetchone()[0]


def test_a_paused_broker_refuses_nothing_and_loses_nothing(tmp_path, database_url, kafka):
    with Platform(tmp_path, "kafka", database_url, kafka.bootstrap) as platform:
        assert platform.submit("before-outage").status_code == 201
        kafka.pause()
        try:
            answers = []
            deadline = time.monotonic() + 30
            i = 0
            while time.monotonic() < deadline:
                answers.append(platform.submit(f"outage-{i}"))
                i += 1
                time.sleep(0.1)
        finally:
            kafka.resume()
        assert answers and {a.status_code for a in answers} == {201}
        ticket_ids = [a.json()["ticket_id"] for a in answers]
        for ticket_id in ticket_ids:
            platform.wait_for_ticket(ticket_id, timeout=120)
        wait_for(
            lambda: all(told(platform, t) for t in ticket_ids),
            60,
            message="not every handler was notified after the broker came back",
        )


DEADLINE = 2  # SCRM_REQUEST_DEADLINE for this platform: seconds a submission waits for the store
ANSWERED_WITHIN = DEADLINE + 8  # how long the test waits for an answer at all: a generous bound, not a timing
PAUSE = ANSWERED_WITHIN + 5  # longer: without the deadline, a request would wait for the whole outage


def test_a_paused_database_gets_503_within_the_deadline_and_no_half_records(tmp_path, database_url, kafka, postgres):
    if not postgres.pausable:
        pytest.skip("the database is not ours to pause")
    with Platform(
        tmp_path, "kafka", database_url, kafka.bootstrap, extra_env={"SCRM_REQUEST_DEADLINE": str(DEADLINE)}
    ) as platform:
        assert platform.submit("before-outage").status_code == 201
        answers: dict[str, list[int]] = {}
        stop = threading.Event()

        def submitter(n: int):
            i = 0
            while not stop.is_set():
                sid = f"db-outage-{n}-{i}"
                try:
                    answer = platform.submit(sid, timeout=ANSWERED_WITHIN)
                except requests.RequestException as error:
                    raise AssertionError(f"intake did not answer within {ANSWERED_WITHIN} s: {error}") from None
                answers.setdefault(sid, []).append(answer.status_code)
                if answer.status_code == 503:
                    assert answer.headers["Retry-After"].isdigit()
                    assert answer.json()["error"]["code"] == "unavailable"
                    time.sleep(0.5)  # a client backs off (Retry-After asks for more)
                i += 1
                time.sleep(0.05)

        with ThreadPoolExecutor(4) as pool:
            time.sleep(1)
            postgres.pause()
            try:
                futures = [pool.submit(submitter, n) for n in range(4)]
                time.sleep(PAUSE)
            finally:
                postgres.resume()
            time.sleep(3)
            stop.set()
            for f in futures:
                f.result()

        statuses = [s for codes in answers.values() for s in codes]
        assert 503 in statuses, "the outage was never noticed"
        assert set(statuses) <= {200, 201, 503}, "never a 500"
        # Every submission, retried now with the same id, is recorded exactly once.
        for sid in answers:
            assert platform.submit(sid).status_code in (200, 201)
        assert intake_events(database_url) == len(answers) + 1
        for sid in answers:
            assert platform.submit(sid).status_code == 200
