"""A web worker dies: the distributed topology runs two per app, so the other answers meanwhile."""

import os
import signal

import pytest

from deploy.devservers import wait_for
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]


def test_killing_a_web_worker_refuses_no_submission(tmp_path, database_url, kafka):
    with Platform(tmp_path, "kafka", database_url, kafka.bootstrap) as platform:
        master = platform.pid("intake-web")
        workers = wait_for(
            lambda: len(platform.web_workers("intake")) >= 2 and platform.web_workers("intake"),
            30,
            message="intake's web app runs fewer than two workers",
        )

        def submit(i: int) -> int:
            return platform.submit(f"steady-{i}", timeout=30).status_code

        # One submission after another, so the kill falls between two of them.
        statuses = [submit(i) for i in range(20)]
        os.kill(workers[0], signal.SIGKILL)
        # A stopped master starts no replacement: the survivor answers alone, however long a
        # replacement would take to start.
        os.kill(master, signal.SIGSTOP)
        try:
            statuses += [submit(i) for i in range(20, 60)]
        finally:
            os.kill(master, signal.SIGCONT)
        assert statuses == [201] * 60
        wait_for(
            lambda: len(platform.web_workers("intake")) == len(workers),
            30,
            message="gunicorn did not replace the killed worker",
        )
