"""`scrm run`: every service's HTTP app and worker as child processes, restarted if they die.

Each child's pid is written to `<data dir>/pids/<name>.pid`, so ops (and the crash tests)
can kill one and watch it come back.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import click
import structlog

from shared.settings import SERVICES, Settings

WORKERS = ("intake", "workflow", "settlement", "notify")  # intake: H5 forms from workflow, customers' tickets
_PR_SET_PDEATHSIG = 1
log = structlog.get_logger()


def _die_with_parent() -> None:
    """If the supervisor dies, however it dies, its children get SIGTERM: no orphans."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _web_workers(settings: Settings) -> list[str]:
    """The distributed topology runs gunicorn's default worker count (shared/serve.py, two at least),
    so one worker dying never refuses a request. The embedded one (SQLite files, one developer's
    machine) keeps one per app: SQLite lets one process write at a time, so a second would add lock
    waits rather than capacity."""
    return [] if settings.transport == "kafka" else ["--workers", "1"]


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0  # in a row: reset once it has stayed up a while
    due: float = 0.0  # when to start it again after it died
    started: float = 0.0

    def start(self, env: dict[str, str], pids: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services", *self.args], env=env, preexec_fn=_die_with_parent
        )
        self.started = time.monotonic()
        (pids / f"{self.name}.pid").write_text(str(self.process.pid))


class Supervisor:
    def __init__(self, settings: Settings, host: str, ports: dict[str, int]):
        self.settings = settings
        self.urls = {s: f"http://{host}:{ports[s]}" for s in SERVICES}
        self.children = [
            Child(f"{s}-web", [s, "web", "--bind", f"{host}:{ports[s]}", *_web_workers(settings)]) for s in SERVICES
        ]
        # Workers and relays serve their metrics each on a port of its own the system picks, announced
        # in their `metrics.serving` log line (one port from the environment would be everyone's).
        metrics = ["--metrics-port", "0"]
        self.children += [Child(f"{s}-worker", [s, "worker", *metrics]) for s in WORKERS]
        if settings.transport == "kafka":
            self.children += [Child(f"{s}-relay", ["relay", s, *metrics]) for s in SERVICES]
        self.pids = settings.data_dir / "pids"
        self._stopping = False

    def run(self, prepare: Callable[[], None]) -> None:
        """`prepare` the stores (`scrm db init`) once, before any process starts, then start them all."""
        prepare()
        self.pids.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SCRM_CREATE_TABLES": "n"}
        for child in self.children:
            child.start(env, self.pids)
        self._announce()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        while not self._stopping:
            time.sleep(0.2)
            self._restart_dead(env)
        self._stop_children()

    def _restart_dead(self, env: dict[str, str]) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process.poll() is None or self._stopping:
                continue
            if child.due == 0.0:
                child.restarts = 1 if now - child.started > 30 else child.restarts + 1
                child.due = now + min(5.0, 0.2 * 2 ** (child.restarts - 1))  # back off if it keeps dying
                log.warning(
                    "supervisor.child_exited",
                    child=child.name,
                    returncode=child.process.returncode,
                    restart_in=round(child.due - now, 3),
                )
            elif now >= child.due:
                child.due = 0.0
                child.start(env, self.pids)

    def _stop_children(self) -> None:
        for child in self.children:
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + 15
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()

    def _stop(self, *_: object) -> None:
        self._stopping = True

    def _announce(self) -> None:
        where = self.settings.database_url or self.settings.data_dir
        click.echo(f"\nSCRM work-order platform ({self.settings.transport} transport, data in {where})")
        for service, url in self.urls.items():
            click.echo(f"  {service:<11} {url}   (OpenAPI: {url}/openapi.json)")
        click.echo("  H5 form:    POST " + self.urls["intake"] + "/v1/tenants/<tenant>/h5/submissions")
        click.echo("  H5 pages:   scrm intake form-link <tenant> <template key>  (for each published template)")
        click.echo("Ctrl-C stops everything.\n", nl=True)
        sys.stdout.flush()
