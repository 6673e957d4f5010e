"""A web app under gunicorn with two workers: one scrape of /metrics counts every worker's requests,
and every line gunicorn and the app write is one JSON object carrying the request's correlation id."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import pytest
import requests

from deploy.devservers import free_port_block, wait_for
from deploy.devservers.processes import descendants
from tests.support.gunicorn import answers, start_web

ROOT = Path(__file__).resolve().parents[2]
HEALTHZ_COUNT = re.compile(
    r'^scrm_http_requests_total\{endpoint="healthz",service="intake",status="200"\} (\S+)$', re.M
)


@pytest.fixture(scope="module")
def intake_web(tmp_path_factory):
    data = tmp_path_factory.mktemp("observed")
    env = {**os.environ, "SCRM_TRANSPORT": "embedded", "SCRM_DATA_DIR": str(data)}
    env.pop("SCRM_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "services", "db", "init"], env=env, check=True, capture_output=True)
    port, log = free_port_block(1), data / "web.log"
    stale = data / "metrics" / f"intake-web@127.0.0.1_{port}" / "counter_999999.db"  # a past run's worker
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not metrics")
    web = start_web("intake", port, env, log, "--workers", "2", "--config", str(ROOT / "deploy" / "gunicorn.conf.py"))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: web.poll() is not None or answers(url + "/readyz"), 60, message="intake web never got ready")
        assert web.poll() is None, log.read_text()
        wait_for(lambda: len(descendants(web.pid)) >= 2, 30, message="gunicorn runs fewer than two workers")
        yield url, web, stale.parent, log
    finally:
        web.terminate()
        web.wait(30)


def test_one_scrape_counts_the_requests_every_worker_answered(intake_web):
    url, web, folder, _ = intake_web
    assert not (folder / "counter_999999.db").exists(), "the folder was not emptied when the master started"
    workers = set(descendants(web.pid))

    def answered_by() -> set[int]:  # a worker's counter file appears with its first request
        return {int(m[1]) for f in folder.iterdir() if (m := re.fullmatch(r"counter_(\d+)\.db", f.name))} & workers

    sent = 0
    with ThreadPoolExecutor(8) as pool:  # a new connection per request: either worker may take it
        while answered_by() != workers and sent < 2000:
            statuses = list(pool.map(lambda _: requests.get(url + "/healthz", timeout=10).status_code, range(16)))
            assert statuses == [200] * 16
            sent += 16
    assert answered_by() == workers, "one worker answered every request"
    for _ in range(6):  # whichever worker answers the scrape
        assert [float(n) for n in HEALTHZ_COUNT.findall(requests.get(url + "/metrics", timeout=10).text)] == [sent]


def test_every_line_is_json_and_the_access_line_carries_correlation_id_tenant_and_ticket(intake_web):
    url, _, _, log = intake_web
    ticket = uuid4()
    answer = requests.get(
        f"{url}/v1/tenants/acme/tickets/{ticket}", headers={"X-Correlation-Id": "req-observed"}, timeout=10
    )
    assert answer.status_code == 401 and answer.headers["X-Correlation-Id"] == "req-observed"
    generated = requests.get(url + "/healthz", timeout=10).headers["X-Correlation-Id"]

    def access_lines() -> list[dict]:
        return [line for line in map(json.loads, log.read_text().splitlines()) if line["event"] == "http.access"]

    wait_for(
        lambda: any(line.get("correlation_id") == generated for line in access_lines()),
        10,
        message="no access line for the request",
    )
    lines = list(map(json.loads, log.read_text().splitlines()))  # every line parses
    assert {"gunicorn.error", "gunicorn.access"} <= {line.get("logger") for line in lines}
    assert all(line["role"] == "intake-web" and line["level"] and line["timestamp"] for line in lines)
    (line,) = [line for line in access_lines() if line.get("correlation_id") == "req-observed"]
    assert (line["tenant"], line["ticket_id"], line["status"], line["method"]) == ("acme", str(ticket), 401, "GET")
    assert line["path"] == f"/v1/tenants/acme/tickets/{ticket}" and line["duration_ms"] >= 0


def test_readyz_finds_the_store_answering_and_healthz_is_liveness(intake_web):
    url, *_ = intake_web
    ready = requests.get(url + "/readyz", timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "service": "intake"})
    assert requests.get(url + "/healthz", timeout=10).json() == {"status": "ok", "service": "intake"}


def test_a_worker_announces_its_metrics_port_and_serves_its_followers_metrics(tmp_path):
    env = {**os.environ, "SCRM_TRANSPORT": "embedded", "SCRM_DATA_DIR": str(tmp_path), "SCRM_METRICS_PORT": "0"}
    env.pop("SCRM_DATABASE_URL", None)
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "services", "workflow", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:

        def announced() -> dict | None:
            lines = map(json.loads, log.read_text().splitlines())
            return next((line for line in lines if line["event"] == "metrics.serving"), None) or worker.poll()

        line = wait_for(announced, 60, message="the worker never said where its metrics are")
        assert isinstance(line, dict), log.read_text()
        assert line["role"] == "workflow-worker" and line["host"] == "127.0.0.1" and line["port"] > 0

        def scraped() -> str | None:
            text = requests.get(line["url"], timeout=5).text
            return text if 'scrm_follower_backlog{follower="workflow",stream="intake"} 0.0' in text else None

        text = wait_for(scraped, 30, message="the worker's metrics never showed its backlog")
        assert 'scrm_events_processed_total{follower="workflow"} 0.0' in text
    finally:
        worker.terminate()
        assert worker.wait(30) == 0
