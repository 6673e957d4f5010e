"""`make run-distributed` (deploy/local_cluster.py) as an operator runs it, and stops it."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from deploy.devservers import ENV_DATABASE_URL, free_port_block, wait_for
from deploy.devservers.processes import alive, descendants
from tests.support.platform import cpu_ticks
from tests.support.progress import Progress

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def test_a_sigterm_stops_the_cluster_and_everything_it_started(tmp_path):
    base = free_port_block()
    env = {k: v for k, v in os.environ.items() if k != ENV_DATABASE_URL} | {"PYTHONPATH": str(ROOT)}
    with open(tmp_path / "cluster.log", "wb") as log:
        cluster = subprocess.Popen(
            [sys.executable, "-m", "deploy.local_cluster", "--base-port", str(base)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started: list[tuple[int, str]] = []
    try:
        with Progress(lambda: cpu_ticks(cluster.pid), stall=30) as progress:
            progress.wait_for(lambda: _answers(f"http://127.0.0.1:{base}/healthz"), "intake never answered")
        # PostgreSQL, the broker, the supervisor and all it started
        started = [(pid, _started_at(pid)) for pid in descendants(cluster.pid)]
        assert len(started) > 12
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(120)
        wait_for(
            lambda: not [p for p in started if _running(*p)],
            60,
            message=f"left running: {[p for p in started if _running(*p)]}",
        )
    finally:
        cluster.kill()
        for pid, at in started:
            if _running(pid, at):
                os.kill(pid, signal.SIGKILL)


def _started_at(pid: int) -> str:
    """When the process started (its pid alone may be another process's by now)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except OSError:
        return ""


def _running(pid: int, started_at: str) -> bool:
    return bool(started_at) and _started_at(pid) == started_at and alive(pid)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False
