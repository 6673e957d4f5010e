"""`scrm run` as a real child process, for end-to-end and crash tests."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from shared.persistence import open_service_store
from shared.settings import Settings

from services.notify.roster import Roster
from deploy.devservers import free_port_block, preexec_for_child, wait_for
from deploy.devservers.processes import alive, cpu_ticks, descendants  # cpu_ticks: the e2e tests take it from here
from tests.support.identity import ADMIN_PASSWORD
from tests.support.progress import Progress
from tests.support.staffing import hire
from tests.support.providers import FakeSmsGateway, FakeWeCom

SERVICES = ("intake", "workflow", "settlement", "notify")
TECHNICIAN = "technician-1"  # every tenant's one technician: the default template's pool
_platforms = itertools.count()


_KEY: list[str] = []


def _secret_key() -> str:
    """One key per test process: a platform restarted on the same data opens what it sealed."""
    from shared.secrets import SecretBox

    if not _KEY:
        _KEY.append(SecretBox.new_key())
    return _KEY[0]


class Platform:
    def __init__(
        self,
        data_dir: Path,
        transport: str = "embedded",
        database_url: str | None = None,
        kafka_bootstrap: str | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        self.data_dir = data_dir
        # Its own topics and consumer groups: tests share one broker and must not see each other.
        self.env = {
            **os.environ,
            "SCRM_TRANSPORT": transport,
            "SCRM_DATA_DIR": str(data_dir),
            "SCRM_KAFKA_PREFIX": f"t{os.getpid()}x{next(_platforms)}",
            "SCRM_KAFKA_PARTITIONS": "4",
            "SCRM_KAFKA_SESSION_TIMEOUT_MS": "2000",
            **(extra_env or {}),
        }
        self.env.pop("SCRM_DATABASE_URL", None)
        if database_url:
            self.env["SCRM_DATABASE_URL"] = database_url
        if kafka_bootstrap:
            self.env["SCRM_KAFKA_BOOTSTRAP"] = kafka_bootstrap
        # Notify sends to local stand-ins for WeCom and an SMS gateway (tenant acme's accounts, set up at start).
        self.wecom, self.sms = FakeWeCom(), FakeSmsGateway()
        self.env.update(
            SCRM_NOTIFY_WECOM_URL=self.wecom.url,
            SCRM_NOTIFY_SMS_URL=f"{self.sms.url}/sms/send",
            SCRM_SECRET_KEYS=self.env.get("SCRM_SECRET_KEYS") or _secret_key(),
        )
        self.process: subprocess.Popen | None = None
        self._keys: dict[str, str] = {}
        self._tenants: set[str] = set()  # set up: created, with the technician hired
        self.urls: dict[str, str] = {}
        self.log_path = data_dir / "platform.log"

    def start(self) -> Platform:
        base = free_port_block()
        self.urls = {s: f"http://127.0.0.1:{base + i}" for i, s in enumerate(SERVICES)}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for fake in (self.wecom, self.sms):
            fake.start()
        if not self.process:  # the first start: acme, its technician and accounts before any event flows
            self.cli("db", "init", check=True, json_out=False)
            self._set_up("acme")
            self.notify_cli(
                "setup",
                "account",
                "acme",
                "wecom",
                "--set",
                "corp_id=ww-corp",
                "--set",
                "agent_id=1000002",
                "--secret",
                self.wecom.secret,
            )
            self.notify_cli(
                "setup",
                "account",
                "acme",
                "sms",
                "--set",
                f"app_key={self.sms.app_key}",
                "--set",
                "sign_name=维修",
                "--secret",
                self.sms.secret,
            )
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services", "run", "--base-port", str(base)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_for_child(),
        )
        try:
            # Some 20 processes start at once, slowly on a busy machine: wait as long as they work.
            with Progress(lambda: cpu_ticks(self.process.pid), stall=30) as progress:
                progress.wait_for(self._healthy, f"platform not healthy; see {self.log_path}")
            self.api_key("acme")  # the tests' tenant, created as an operator would, known to every service
        except BaseException:
            self.stop()  # `with` does not call __exit__ when __enter__ fails
            raise
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"scrm run exited {self.process.returncode}; see {self.log_path}")
        try:
            return all(requests.get(u + "/healthz", timeout=1).ok for u in self.urls.values())
        except requests.RequestException:
            return False

    def pid(self, child: str) -> int:
        return int((self.data_dir / "pids" / f"{child}.pid").read_text())

    def web_workers(self, service: str) -> list[int]:
        """The live gunicorn workers of `service`'s web app: its master's children."""
        return [pid for pid in descendants(self.pid(f"{service}-web")) if alive(pid)]

    def kill(self, child: str) -> int | None:
        """SIGKILL one child (e.g. "workflow-worker"), which the supervisor starts again: its pid, or
        None when it was not running (killed before and not started again yet)."""
        pid = self.pid(child)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fake in (self.wecom, self.sms):  # what they recorded stays; start() serves again
            fake.halt()

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- talking to it ----------------------------------------------------------------

    def submit(self, submission_id: str, tenant: str = "acme", timeout: float = 10) -> requests.Response:
        """A form posted by a system of the tenant's (with its API key)."""
        body = {
            "submission_id": submission_id,
            "description": "热水器不出热水",
            "customer": {"name": "赵六", "phone": "13600000000", "address": "深圳市南山区"},
        }
        return requests.post(
            f"{self.urls['intake']}/v1/tenants/{tenant}/h5/submissions",
            json=body,
            timeout=timeout,
            headers={"Authorization": f"Bearer {self.api_key(tenant)}"},
        )

    def get(self, service: str, path: str, tenant: str = "acme", **kwargs) -> requests.Response:
        """A read as the tenant's own systems (a console, ops) make it: with its API key."""
        kwargs.setdefault("headers", {"Authorization": f"Bearer {self.api_key(tenant)}"})
        kwargs.setdefault("timeout", 10)
        return requests.get(self.urls[service] + path, **kwargs)

    def cli(self, *args: str, check: bool = True, json_out: bool = True) -> dict:
        """`scrm ARGS` against the platform's stores, as an operator runs it; what it printed, as JSON."""
        done = subprocess.run(
            [sys.executable, "-m", "services", *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 or not check, done.stderr
        return json.loads(done.stdout) if done.returncode == 0 and json_out else {}

    def notify_cli(self, *args: str) -> Any:
        """`scrm notify ARGS` against the platform's stores; what it printed, as JSON."""
        return self.cli("notify", *args)

    def intake_cli(self, group: str, *args: str) -> dict:
        return self.cli("intake", group, *args)

    def api_key(self, tenant: str = "acme") -> str:
        """An API key of `tenant` with the admin scope (the tenant is created the first time, with its
        administrator `admin`), once every service has learned of it."""
        if tenant not in self._keys:
            if tenant not in self._tenants:  # acme is set up before the first start
                self._set_up(tenant)
            key = self.cli("tenant", "api-key", "create", tenant, "--name", "tests", "--scope", "admin")["key"]
            for service in SERVICES:  # each reads workflow's events to learn the key
                wait_for(
                    lambda: (
                        requests.get(
                            f"{self.urls[service]}/v1/tenants/{tenant}/whoami",
                            headers={"Authorization": f"Bearer {key}"},
                            timeout=5,
                        ).ok
                    ),
                    30,
                    interval=0.1,
                    message=f"{service} never learned {tenant}'s key",
                )
            # Notify tells a pool's members as it knows them when a ticket arrives: on Kafka the hire and
            # the tickets may sit on different partitions, so the tickets wait until notify has it.
            wait_for(
                lambda: self._notify_knows(tenant, TECHNICIAN),
                60,
                interval=0.1,
                message=f"notify never learned that {TECHNICIAN} works for {tenant}",
            )
            self._keys[tenant] = key
        return self._keys[tenant]

    def _set_up(self, tenant: str) -> None:
        """The tenant with its administrator `admin` (a restarted platform has it already), and its
        technician: the default template's tickets go to the technicians' pool."""
        self.cli(
            "tenant",
            "create",
            tenant,
            "--name",
            tenant.title(),
            "--admin",
            "admin",
            "--password",
            ADMIN_PASSWORD,
            check=False,
        )
        hire(Settings.from_env(self.env), tenant, TECHNICIAN)
        self._tenants.add(tenant)

    def _notify_knows(self, tenant: str, user: str) -> bool:
        store = open_service_store(
            "notify", Settings(data_dir=self.data_dir, database_url=self.env.get("SCRM_DATABASE_URL"))
        )
        try:
            return any(
                e.topic.endswith("Roster.MemberSaved") and user.encode() in e.state
                for e in store.recorder.select_events(Roster.create_id(tenant))
            )
        finally:
            store.close()

    def look_up(self, path: str, tenant: str = "acme") -> requests.Response:
        """GET from intake's REST API (ticket and customer look-ups), with the tenant's key."""
        return self.get("intake", path, tenant)

    def post(self, service: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.post(self.urls[service] + path, **kwargs)

    def wait_for_ticket(self, ticket_id: str, timeout: float = 30, tenant: str = "acme") -> dict:
        def assigned():
            r = self.get("workflow", f"/v1/tenants/{tenant}/tickets/{ticket_id}")
            return r.json() if r.status_code == 200 else None

        return wait_for(assigned, timeout, interval=0.1, message=f"ticket {ticket_id} never reached workflow")
