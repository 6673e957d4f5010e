"""`scrm run` on the embedded default: real processes, real HTTP, SQLite files."""

from uuid import UUID

import pytest

from shared.contracts import ticket_number

from tests.e2e.flow import FINANCE, check_one_ticket_end_to_end, deliveries, settlement_get
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e


def test_the_flow_runs_through_four_services_and_survives_a_restart(tmp_path):
    with Platform(tmp_path / "data") as platform:
        ticket_id = check_one_ticket_end_to_end(platform, "h5-0001")
        platform.kill("workflow-worker")
        platform.kill("notify-worker")
        second = check_one_ticket_end_to_end(platform, "h5-0002")

    with Platform(tmp_path / "data") as restarted:
        for t in (ticket_id, second):
            assert settlement_get(restarted, f"/v1/tenants/acme/tickets/{t}/statement", FINANCE).status_code == 200
            assert [d["status"] for d in deliveries(restarted, t)] == ["sent"]
        assert restarted.submit("h5-0001").status_code == 200  # still a duplicate after restart

    # WeCom showed technician-1 each ticket's assignment and statement once, across the worker's SIGKILL.
    texts = platform.wecom.texts_to("technician-1")
    for t in (ticket_id, second):
        assert sum(ticket_number(UUID(t)) in text for text in texts) == 2, texts
    assert restarted.wecom.texts_to("technician-1") == []  # nothing was left to send after the restart


def test_a_worker_serves_its_metrics_and_stops_cleanly_on_sigterm(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    import requests

    from deploy.devservers import free_port_block, wait_for

    port = free_port_block(1)
    env = {**os.environ, "SCRM_DATA_DIR": str(tmp_path), "SCRM_TRANSPORT": "embedded"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "services", "workflow", "worker", "--metrics-port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:

        def scraped():
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                return (
                    'scrm_events_processed_total{follower="workflow"}' in text
                    and 'scrm_follower_backlog{follower="workflow",stream="intake"} 0.0' in text
                )
            except requests.RequestException:
                return False

        wait_for(scraped, 30, message="the worker's metrics never showed its follower and its backlog")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        worker.kill()
