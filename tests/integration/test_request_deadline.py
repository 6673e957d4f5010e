"""A submission is answered within the deadline whatever PostgreSQL does, and what a 503 means:
the outcome is unknown, and a retry with the same submission id is answered with the one ticket."""

from __future__ import annotations

import threading

import psycopg
import pytest
from eventsourcing.utils import get_topic

from deploy.devservers import wait_for
from shared.deadline import OUTCOME_UNKNOWN, bound_database_waits
from shared.settings import Settings

from services.intake import bootstrap
from services.intake.api import create_app
from services.intake.domain import Submission, ticket_id
from tests.support.identity import KEYS_FILE, SignedIn, bearer, identity_of, issue_key, open_tenant, replicate

BODY = {
    "submission_id": "slow-1",
    "description": "空调不制冷",
    "customer": {"name": "张三", "phone": "13800138000", "address": "上海"},
}
PATH = "/v1/tenants/acme/h5/submissions"


def received(intake) -> int:
    return len(intake.recorder.select_notifications(start=1, limit=100, topics=[get_topic(Submission.Received)]))


@pytest.mark.postgres
def test_a_503_may_have_been_recorded_and_the_retry_is_answered_with_the_same_ticket(tmp_path, database_url):
    settings = Settings(data_dir=tmp_path, database_url=database_url, token_keys=KEYS_FILE)
    open_tenant(settings)
    key = bearer(issue_key(settings, "write"))
    replicate(settings, bootstrap)
    intake = bootstrap.application(settings)
    http = SignedIn(create_app(intake, identity_of(intake), deadline=0.5).test_client(), key)
    with psycopg.connect(database_url) as other:  # a transaction holding the lock every commit takes
        other.execute("LOCK TABLE intake.intake_events IN EXCLUSIVE MODE")
        answer = http.post(PATH, json=BODY)
        assert answer.status_code == 503, answer.text
        assert answer.json["error"]["code"] == "unavailable" and answer.headers["Retry-After"].isdigit()
    # The lock is released: the commit the 503 gave up on goes through after all.
    wait_for(lambda: received(intake) == 1, 30, interval=0.1, message="the submission was never recorded")

    # A client retries after Retry-After: until the work the 503 gave up on has finished, the app
    # answers 503 at once rather than queue behind it.
    retry = wait_for(
        lambda: (r := http.post(PATH, json=BODY)).status_code != 503 and r,
        30,
        interval=0.1,
        message="still 503 after the commit went through",
    )
    assert retry.status_code == 200, retry.text
    assert retry.json["ticket_id"] == str(ticket_id("acme", "h5", "slow-1"))
    assert received(intake) == 1


@pytest.mark.postgres
def test_a_key_is_checked_within_the_deadline_too(tmp_path, database_url):
    """Checking the API key reads the store before the view runs: that read is bounded as well."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, token_keys=KEYS_FILE)
    open_tenant(settings)
    key = bearer(issue_key(settings, "write"))
    replicate(settings, bootstrap)
    intake = bootstrap.application(settings)
    http = SignedIn(create_app(intake, identity_of(intake), deadline=0.5).test_client(), key)
    with psycopg.connect(database_url) as other:  # even reads of the store wait behind this lock
        other.execute("LOCK TABLE intake.intake_events IN ACCESS EXCLUSIVE MODE")
        release = threading.Timer(10, other.rollback)  # without the bound, the answer comes after this
        release.start()
        answer = http.post(PATH, json=BODY)
        unlocked = not release.is_alive()
        release.cancel()
        assert (answer.status_code, unlocked) == (503, False), answer.text
        assert answer.json["error"]["code"] == "unavailable" and answer.headers["Retry-After"].isdigit()


def test_the_openapi_document_says_what_a_503_means(tmp_path):
    intake = bootstrap.application(Settings(data_dir=tmp_path))
    paths = create_app(intake, identity_of(intake)).test_client().get("/openapi.json").json["paths"]
    assert paths["/v1/tenants/{tenant}/h5/submissions"]["post"]["responses"]["503"]["description"] == OUTCOME_UNKNOWN


@pytest.mark.postgres
def test_a_web_process_has_the_server_cancel_statements_past_the_deadline(database_url, monkeypatch):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    bound_database_waits(0.5)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("500ms",)
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(30)")
