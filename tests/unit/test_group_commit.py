import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import Unavailable
from shared.eventstore import IntegrityError
from shared.groupcommit import GroupCommitter
from deploy.devservers import wait_for


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


def outcome(committer, item, timeout=5.0):
    try:
        committer.commit(item, timeout)
    except Exception as error:  # the test looks at which one
        return error
    return True


def test_concurrent_submissions_share_transactions():
    store = Store(delay=0.01)
    committer = GroupCommitter(store.save)
    with ThreadPoolExecutor(32) as pool:
        assert all(r is True for r in pool.map(lambda i: outcome(committer, i), range(400)))
    assert store.rows == set(range(400))
    assert len(store.groups) < 100  # grouped, not one transaction each
    assert not committer._queue and not committer._led  # nobody left leading or waiting


def test_a_duplicate_fails_alone_and_its_neighbours_commit():
    store = Store()
    store.rows.add("dup")
    committer = GroupCommitter(store.save)
    gate = threading.Event()
    store_save = store.save
    committer._save = lambda items: (gate.wait(), store_save(items))  # hold the first group open
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(outcome, committer, "a")
        wait_for(lambda: committer._led, 2)
        rest = [pool.submit(outcome, committer, x) for x in ("dup", "b", "c")]
        wait_for(lambda: len(committer._queue) == 3, 2)  # queued behind the leader
        gate.set()
        assert first.result(2) is True
        dup, b, c = (f.result(2) for f in rest)
    assert isinstance(dup, IntegrityError) and b is True and c is True
    assert sorted(store.groups) == [["a"], ["b"], ["c"]]  # the second group, split by the duplicate


def test_a_store_failure_is_reported_to_every_waiter_as_unavailable():
    store = Store(delay=0.05)
    store.fail = OSError("connection refused")
    committer = GroupCommitter(store.save)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: outcome(committer, i), range(8)))
    assert all(isinstance(r, Unavailable) for r in results)


def test_a_stalled_store_refuses_new_work_at_once():
    store = Store(delay=1.0)
    committer = GroupCommitter(store.save, stall_after=0.2)
    threading.Thread(target=outcome, args=(committer, "slow"), daemon=True).start()
    time.sleep(0.4)
    t0 = time.monotonic()
    with pytest.raises(Unavailable):
        committer.commit("next", 5)
    assert time.monotonic() - t0 < 0.1


def test_a_waiter_that_gives_up_leaves_the_queue_and_the_lead_passes_on():
    store = Store(delay=0.5)
    committer = GroupCommitter(store.save, stall_after=10)
    with ThreadPoolExecutor(3) as pool:
        slow = pool.submit(outcome, committer, "first")
        wait_for(lambda: committer._led, 2)
        impatient = pool.submit(outcome, committer, "impatient", 0.1)
        patient = pool.submit(outcome, committer, "patient")
        assert isinstance(impatient.result(2), Unavailable)
        assert slow.result(2) is True and patient.result(3) is True
    assert store.rows == {"first", "patient"}  # the one that gave up was never saved
    assert outcome(committer, "later") is True and not committer._led
