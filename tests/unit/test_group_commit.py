import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import Unavailable
from shared.eventstore import IntegrityError
from shared.groupcommit import GroupCommitter


class Store:
    def __init__(self, delay=0.0):
        self.groups, self.rows, self.delay, self.fail = [], set(), delay, None

    def save(self, items):
        time.sleep(self.delay)
        if self.fail:
            raise self.fail
        if any(i in self.rows for i in items) or len(set(items)) < len(items):
            raise IntegrityError("duplicate")
        self.rows.update(items)
        self.groups.append(list(items))


def test_concurrent_submissions_share_transactions():
    store = Store(delay=0.01)
    committer = GroupCommitter(store.save)
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: committer.submit(i).result(5), range(400)))
    assert store.rows == set(range(400))
    assert len(store.groups) < 100  # grouped, not one transaction each


def test_a_duplicate_fails_alone_and_its_neighbours_commit():
    store = Store()
    store.rows.add("dup")
    committer = GroupCommitter(store.save)
    gate = threading.Event()
    store_save = store.save
    committer._save = lambda items: (gate.wait(), store_save(items))  # hold the first group open
    futures = [committer.submit(x) for x in ("a", "dup", "b", "c")]
    gate.set()
    assert futures[0].result(2) and futures[2].result(2) and futures[3].result(2)
    with pytest.raises(IntegrityError):
        futures[1].result(2)
    assert {"a", "b", "c"} <= store.rows


def test_a_store_failure_is_reported_to_every_waiter_as_unavailable():
    store = Store()
    store.fail = OSError("connection refused")
    committer = GroupCommitter(store.save)
    with pytest.raises(Unavailable):
        committer.submit("x").result(2)


def test_a_stalled_store_refuses_new_work_at_once():
    store = Store(delay=1.0)
    committer = GroupCommitter(store.save, stall_after=0.2)
    committer.submit("slow")
    time.sleep(0.4)
    with pytest.raises(Unavailable):
        committer.submit("next")
