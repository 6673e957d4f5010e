import os
import threading

import pytest

from deploy.devservers import wait_for
from shared.deadline import Deadline, bound_database_waits
from shared.errors import Unavailable


def test_work_done_in_time_answers_with_its_result_or_its_error():
    deadline = Deadline(5)
    assert deadline.run(lambda: 42) == 42
    with pytest.raises(KeyError):
        deadline.run(lambda: {}["missing"])


def test_work_that_misses_its_deadline_is_answered_unavailable_and_finishes_alone():
    deadline = Deadline(0.05)
    store_answers, finished = threading.Event(), []

    def commit():
        store_answers.wait()
        finished.append("recorded")
        return "recorded"

    with pytest.raises(Unavailable, match="outcome is unknown"):
        deadline.run(commit)
    # While it still waits on the store, nobody else joins the wait.
    with pytest.raises(Unavailable, match="not answering"):
        deadline.run(lambda: "never started")
    store_answers.set()
    wait_for(lambda: finished, 5)
    wait_for(lambda: _accepts(deadline), 5, message="the deadline kept refusing after the work finished")


def _accepts(deadline: Deadline) -> bool:
    try:
        return deadline.run(lambda: True)
    except Unavailable:
        return False


def test_a_deadline_is_positive():
    with pytest.raises(ValueError):
        Deadline(0)


def test_database_waits_are_bounded_for_connections_the_process_opens(monkeypatch):
    monkeypatch.setenv("PGOPTIONS", "-c search_path=intake")
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    bound_database_waits(2.5)
    assert os.environ["PGCONNECT_TIMEOUT"] == "3"
    assert os.environ["PGOPTIONS"] == "-c search_path=intake -c statement_timeout=2500"
