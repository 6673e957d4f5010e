"""Serving: a WSGI app under gunicorn, and a worker loop until SIGTERM/SIGINT.

The web apps run on gunicorn's gevent worker: a request mostly waits on the database, and
with threads every wait ended in a fight for the GIL. Under durable commits a gthread
worker switched context 13 times per intake request (bare Flask: 6) and spent 1.4 ms of CPU
on it; on greenlets the same request takes ~1.1 ms and almost no switch (bench/README.md).
gunicorn's worker monkey-patches the standard library before the app is built, and psycopg
then waits cooperatively; nothing else a web app does blocks outside Python, except SQLite
(a local file, briefly).
"""

from __future__ import annotations

import gc
import os
import runpy
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

import structlog
from gunicorn.app.base import BaseApplication

log = structlog.get_logger()


# The web apps' gunicorn settings, the one source of them (deploy/gunicorn.conf.py only lets the
# environment override these). Two workers at least: when one dies, the other answers while gunicorn
# starts its replacement, which takes seconds. A request waits on the store no longer than its
# deadline (shared/deadline.py), so ten seconds let the ones in flight finish on a graceful stop.
DEFAULTS = {
    "workers": 2,
    "worker_class": "gevent",
    "worker_connections": 1000,
    "timeout": 30,
    "graceful_timeout": 10,
    "keepalive": 5,
    "control_socket_disable": True,
}

# Ours whatever the configuration file says: JSON logs (shared/logs.py), and the metrics files of a
# worker that exited let go (shared/metrics.py).
LOGGER_CLASS = "shared.logs.GunicornLogger"


class Gunicorn(BaseApplication):
    """Gunicorn with the app built in each worker after fork (database pools must not cross a fork).

    Settings, later ones winning: DEFAULTS, then the configuration file, then what the
    command line says; the logger class and the `child_exit` hook are always ours."""

    def __init__(self, factory: Callable[[], Any], options: dict[str, Any], config_file: str | None = None):
        self._factory = factory
        self._options = options
        self._config_file = config_file
        super().__init__()

    def load_config(self) -> None:
        for key, value in DEFAULTS.items():
            self.cfg.set(key, value)
        if self._config_file:  # a plain gunicorn.conf.py: module-level settings
            for key, value in runpy.run_path(self._config_file).items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)
        self.cfg.set("logger_class", LOGGER_CLASS)
        self.cfg.set("child_exit", _child_exit)

    def load(self) -> Any:
        app = _built_once_the_store_answers(self._factory)
        # What start-up built lives as long as the worker: out of the collector's sight, a full
        # collection no longer walks it (one took ~60 ms, stalling every request of the worker).
        gc.collect()
        gc.freeze()
        return app


def _built_once_the_store_answers(factory: Callable[[], Any], pause: float = 1.0) -> Any:
    """Building an app opens its store. A worker that starts while the database is away (it
    replaces one that died, or the second is still starting when an outage begins) waits for it:
    gunicorn takes a worker that fails to start for a broken app and stops all the others."""
    from eventsourcing.persistence import InterfaceError, OperationalError

    while True:
        try:
            return factory()
        except (OperationalError, InterfaceError) as error:
            log.warning("web.store_unreachable", error=str(error), retry_in=pause)
            time.sleep(pause)


def _child_exit(server: Any, worker: Any) -> None:
    """gunicorn's master, once a worker has exited: its live gauges no longer count (its counters
    and histograms do, summed with the others')."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def shared_metrics_folder(folder: Path) -> None:
    """Make this process and the gunicorn workers it forks keep their Prometheus metrics as files in
    `folder`, emptied now (a past run's workers must not count), so one scrape of any worker adds up
    all of them. Call it before anything imports prometheus_client: its metrics choose where to keep
    their values when they are made."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its multiprocess folder was set")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def serve_http(
    factory: Callable[[], Any],
    bind: str,
    workers: int | None = None,
    connections: int | None = None,
    config_file: str | None = None,
    metrics_folder: Path | None = None,
) -> None:
    """Serve the app `factory` builds in each worker; `connections` is how many clients one worker
    serves at once; the workers' metrics are added up through files in `metrics_folder`."""
    if metrics_folder is not None:
        shared_metrics_folder(metrics_folder)
    Gunicorn(factory, {"bind": bind, "workers": workers, "worker_connections": connections}, config_file).run()


def tune_gc_for_batches() -> None:
    """Workers make hundreds of thousands of short-lived objects per second; with the
    default thresholds the cyclic collector ran so often it took a quarter of a backlog's
    time (bench/workflow_backlog.py). A larger young generation keeps that to a few %.
    (Not for the web apps: requests leave garbage in cycles, and each of the rarer
    collections then stalled every request of the worker for ~60 ms.)"""
    gc.set_threshold(50_000, 20, 20)


def expose_metrics(port: int | None, host: str = "127.0.0.1") -> int | None:
    """Workers and relays have no web app: serve their Prometheus metrics at /metrics on their own
    port (None: not at all; 0: one the system picks). The port is announced in a log line,
    `metrics.serving`, and returned."""
    if port is None:
        return None
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=host)
    port = server.server_port
    log.info("metrics.serving", host=host, port=port, url=f"http://{host}:{port}/metrics")
    return port


def run_until_stopped(*loops: Callable[[threading.Event], None]) -> None:
    """Run each loop in its own thread until SIGTERM or SIGINT; a loop that dies stops them all."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    failures: list[BaseException] = []

    def guarded(loop: Callable[[threading.Event], None]) -> None:
        try:
            loop(stop)
        except BaseException as error:  # reported below, then the process exits non-zero
            failures.append(error)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(loop,), daemon=True) for loop in loops]
    for t in threads:
        t.start()
    while not stop.wait(0.5):
        pass
    for t in threads:
        t.join(timeout=15)
    if failures:
        raise failures[0]
