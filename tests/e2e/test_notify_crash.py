"""The notify worker SIGKILLed again and again during a burst of 500 tickets: every handler's message
reaches WeCom, and none is shown twice (WeCom's duplicate check, counted at the local WeCom server)."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.platform import Platform
from deploy.devservers import wait_for

pytestmark = pytest.mark.e2e

TICKETS = 500


def test_killing_the_notify_worker_during_a_burst_loses_no_message_and_shows_none_twice(tmp_path):
    with Platform(tmp_path / "data") as platform:
        wecom = platform.wecom
        shown = lambda: len(wecom.texts_to("technician-1"))
        kills, done = [], threading.Event()

        def killer():
            """Kill the worker each time it has made progress, while the burst is being delivered."""
            while not done.is_set():
                before = shown()
                if before >= TICKETS:
                    return
                try:
                    wait_for(lambda: done.is_set() or shown() >= min(before + 40, TICKETS), 120, interval=0.05)
                except TimeoutError:
                    return
                if not done.is_set() and shown() < TICKETS:
                    kills.append(shown())
                    platform.kill("notify-worker")

        killing = threading.Thread(target=killer)
        killing.start()
        try:
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda i: platform.submit(f"burst-{i:04d}").status_code, range(TICKETS)))
            assert set(answers) == {201}
            wait_for(lambda: shown() >= TICKETS, 300, interval=0.2, message=f"only {shown()} of {TICKETS} shown")
        finally:
            done.set()
            killing.join()

        texts = wecom.texts_to("technician-1")
        marks = [re.search(r"[?&]n=([0-9a-f]{16})", t).group(1) for t in texts]
        assert len(texts) == TICKETS and len(set(marks)) == TICKETS  # each delivery shown once
        sends = len(wecom.to("/cgi-bin/message/send"))
        assert len(kills) >= 3 and all(0 < k < TICKETS for k in kills), kills
        print(f"\n{len(kills)} kills at {kills}; {sends} message/send calls for {TICKETS} messages shown")
