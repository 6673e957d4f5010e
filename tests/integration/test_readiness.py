"""/readyz asks the store and, with Kafka, the broker; /healthz only says the process serves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deploy.devservers import Postgres, free_port, wait_for
from shared.settings import Settings

from services.settlement import bootstrap as settlement
from services.workflow import bootstrap as workflow
from tests.support.identity import KEYS_FILE


def test_both_probes_are_public_and_ready_on_a_store_that_answers(settings):
    client = workflow.web_app(settings).test_client()
    assert client.get("/healthz").json == {"status": "ok", "service": "workflow"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json) == (200, {"status": "ready", "service": "workflow"})


@pytest.mark.postgres
def test_readyz_is_503_while_the_database_does_not_answer_and_healthz_stays_200(tmp_path):
    with Postgres(use_env=False) as pg:  # its own: this test pauses it
        settings = Settings(data_dir=tmp_path, database_url=pg.create_database("scrm"), token_keys=KEYS_FILE)
        client = settlement.web_app(settings).test_client()
        assert client.get("/readyz").status_code == 200
        pg.pause()
        try:
            for _ in range(2):  # the second while the first probe still waits
                answer = client.get("/readyz")
                assert answer.status_code == 503 and answer.headers["Retry-After"]
                error = answer.json["error"]
                assert error["code"] == "not_ready" and "Unavailable" in error["details"]["store"]
            assert client.get("/healthz").status_code == 200
        finally:
            pg.resume()
        wait_for(lambda: client.get("/readyz").status_code == 200, 30, message="never ready again")


@pytest.mark.postgres
def test_readyz_is_503_when_the_database_refuses_connections(tmp_path):
    with Postgres(use_env=False) as pg:
        settings = Settings(data_dir=tmp_path, database_url=pg.create_database("scrm"), token_keys=KEYS_FILE)
        client = settlement.web_app(settings).test_client()
        assert client.get("/readyz").status_code == 200
    # The server is gone: the pool's connections are broken and new ones are refused.
    answer = client.get("/readyz")
    assert answer.status_code == 503 and set(answer.json["error"]["details"]) == {"store"}


@pytest.mark.kafka
def test_with_kafka_readyz_also_asks_the_broker(settings, kafka):
    kafka_settings = replace(settings, transport="kafka", kafka_bootstrap=kafka.bootstrap)
    assert workflow.web_app(kafka_settings).test_client().get("/readyz").status_code == 200
    nobody = replace(kafka_settings, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    answer = workflow.web_app(nobody).test_client().get("/readyz")
    assert answer.status_code == 503 and set(answer.json["error"]["details"]) == {"broker"}
