"""A worker's slices (`--slice K/P`), each in its own process, timed from one start signal until each
has caught up with its leaders."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Event, Process, Queue

from shared.follower import Follower
from shared.serve import tune_gc_for_batches
from shared.settings import Settings
from shared.slices import Slice

Make = Callable[[Settings, Slice], Follower]  # a bootstrap's `follower`: picklable, by name


@dataclass(frozen=True)
class CaughtUp:
    seconds: float  # the slowest slice's
    cpu_seconds: float  # the slices' own CPU time, summed (not the database's)


def catch_up(settings: Settings, processes: int, follower: Make, timeout: float = 1200) -> CaughtUp:
    """How long the slowest slice took. The tables must exist (settings.create_tables off)."""
    start, elapsed = Event(), Queue()
    workers = [
        Process(target=_run, args=(follower, settings, Slice(k, processes), start, elapsed)) for k in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(2)  # let every process import and connect before the clock starts
    start.set()
    took = [elapsed.get(timeout=timeout) for _ in workers]
    for w in workers:
        w.join()
    return CaughtUp(max(seconds for seconds, _ in took), sum(cpu for _, cpu in took))


def _run(follower: Make, settings: Settings, slice_: Slice, start: Event, elapsed: Queue) -> None:
    tune_gc_for_batches()  # as `scrm <service> worker` does
    worker = follower(settings, slice_)
    start.wait()
    started, cpu = time.perf_counter(), time.process_time()
    while worker.run_once():
        pass
    elapsed.put((time.perf_counter() - started, time.process_time() - cpu))
