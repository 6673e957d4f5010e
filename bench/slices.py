"""A worker's slices (`--slice K/P`), each in its own process, timed from one start signal until each
has caught up with its leaders."""

from __future__ import annotations

import time
from multiprocessing import Event, Process, Queue
from collections.abc import Callable

from shared.follower import Follower
from shared.serve import tune_gc_for_batches
from shared.settings import Settings
from shared.slices import Slice

Make = Callable[[Settings, Slice], Follower]  # a bootstrap's `follower`: picklable, by name


def catch_up(settings: Settings, processes: int, follower: Make, timeout: float = 1200) -> float:
    """Seconds the slowest slice took. The tables must exist (settings.create_tables off)."""
    start, elapsed = Event(), Queue()
    workers = [
        Process(target=_run, args=(follower, settings, Slice(k, processes), start, elapsed)) for k in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(2)  # let every process import and connect before the clock starts
    start.set()
    took = max(elapsed.get(timeout=timeout) for _ in workers)
    for w in workers:
        w.join()
    return took


def _run(follower: Make, settings: Settings, slice_: Slice, start: Event, elapsed: Queue) -> None:
    tune_gc_for_batches()  # as `scrm <service> worker` does
    worker = follower(settings, slice_)
    start.wait()
    started = time.perf_counter()
    while worker.run_once():
        pass
    elapsed.put(time.perf_counter() - started)
