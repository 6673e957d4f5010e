"""A web worker that starts while PostgreSQL is away waits for it instead of taking its app down."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from deploy.devservers import Postgres, free_port_block, wait_for
from shared.settings import Settings

from services.intake import bootstrap
from tests.support.gunicorn import answers, start_web
from tests.support.identity import KEYS_FILE, bearer, issue_key, open_tenant, replicate

pytestmark = pytest.mark.postgres

BODY = {
    "submission_id": "after-outage",
    "description": "空调不制冷",
    "customer": {"name": "张三", "phone": "13800138000", "address": "上海"},
}


def test_a_web_worker_started_while_the_database_is_paused_waits_for_it(tmp_path):
    with Postgres(use_env=False) as pg:  # its own: this test pauses it
        env = {**os.environ, "SCRM_DATABASE_URL": pg.create_database("scrm"), "SCRM_DATA_DIR": str(tmp_path)}
        subprocess.run([sys.executable, "-m", "services", "db", "init"], env=env, check=True, capture_output=True)
        settings = Settings(data_dir=tmp_path, database_url=env["SCRM_DATABASE_URL"], token_keys=KEYS_FILE)
        open_tenant(settings)
        key = bearer(issue_key(settings, "write"))
        replicate(settings, bootstrap)
        port = free_port_block(1)
        log = tmp_path / "web.log"
        pg.pause()
        try:
            web = start_web("intake", port, env, log, "--workers", "1")
            try:
                wait_for(
                    lambda: web.poll() is not None or "web.store_unreachable" in log.read_text(),
                    120,
                    message="the worker neither failed nor waited",
                )
                assert web.poll() is None, f"gunicorn stopped, as a worker could not start:\n{log.read_text()[-2000:]}"
            finally:
                pg.resume()
            wait_for(
                lambda: answers(f"http://127.0.0.1:{port}/healthz"),
                120,
                message="the worker never started once the database was back",
            )
            answer = requests.post(
                f"http://127.0.0.1:{port}/v1/tenants/acme/h5/submissions", json=BODY, timeout=30, headers=key
            )
            assert answer.status_code == 201, answer.text
        finally:
            web.terminate()
            web.wait(30)
