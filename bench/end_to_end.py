"""H5 201 -> delivery recorded: end-to-end latency at steady offered rates, in both topologies.

A whole platform runs as `scrm run` does, started by the tests' own harness (tests/support/platform.py,
in a process of its own with its local WeCom and SMS stand-ins, so they share no interpreter with the
load): embedded (SQLite files, one process per app and worker) or distributed (PostgreSQL with fsync
on, the Kafka-protocol broker, a relay per service). Submissions are offered at a steady rate whatever the answers take (an open
loop: a slow answer does not slow the offer), each with the tenant's API key. Per ticket the
latency runs from the moment its 201 arrived to the moment notify recorded the last of its
deliveries as sent (the handlers' pool and the customer's `accepted`), read from the timestamps of
notify's own events in its store, never by polling an API; "requested" is when notify's worker
recorded the last delivery request.

The baseline is the same platform with `SCRM_WAKE_ON_COMMIT=n` (every worker, relay and sender
polls on a fixed interval instead of being woken by the commits it follows), started beside it;
rounds alternate between the two at each rate. Each round prints the CPU per ticket of the platform's
processes, then of each (distributed: also of its own PostgreSQL and broker, "(server)", which the
platform's figure leaves out).

    python bench/end_to_end.py [--topologies embedded,distributed] [--rates 50,100,200,300]
                               [--seconds 10] [--rounds 1] [--no-baseline]

Targets (issue 15): embedded p99 < 100 ms at 200/s; distributed p99 < 150 ms at 200/s; embedded
intake keeps up at 300/s offered.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests
from eventsourcing.utils import get_topic

from deploy.devservers import DURABLE, KafkaBroker, Postgres
from deploy.devservers.processes import cpu_ticks, cpu_ticks_each
from services.notify.bootstrap import application as notify_application
from services.notify.delivery import Delivery
from shared.settings import Settings

TARGETS = {("embedded", 200): 100.0, ("distributed", 200): 150.0}  # p99 ms
KEEPS_UP = ("embedded", 300)  # accepted >= 95 % of offered
# A provider's rate limit is not the platform's latency: the stand-ins take whatever comes.
UNLIMITED = {f"SCRM_NOTIFY_RATE_{c}": "100000" for c in ("WECOM", "SMS", "OFFICIAL_ACCOUNT", "WECOM_EXTERNAL")}


HOST = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from tests.support.platform import Platform
platform = Platform(Path({folder!r}), {transport!r}, {database_url!r}, {bootstrap!r}, {env!r}).start()
print(json.dumps({{"urls": platform.urls, "key": platform.api_key(), "pid": platform.process.pid}}), flush=True)
sys.stdin.read()
platform.stop()
"""


@dataclass
class Platform:
    """`scrm run` as the tests start it (tenant acme, its technician, the providers' stand-ins), in a
    process of its own until `stop`."""

    folder: Path
    transport: str = "embedded"
    database_url: str | None = None
    bootstrap: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    servers: dict[str, int] = field(default_factory=dict)  # name -> pid: the database and broker it alone uses

    def start(self) -> Platform:
        code = HOST.format(
            root=str(ROOT),
            folder=str(self.folder),
            transport=self.transport,
            database_url=self.database_url,
            bootstrap=self.bootstrap,
            env=self.env,
        )
        self._host = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        started = json.loads(self._host.stdout.readline() or "{}")
        if not started:
            raise RuntimeError(f"the platform did not start (exit {self._host.wait()})")
        self.urls, self.key, self.pid = started["urls"], started["key"], started["pid"]
        return self

    def stop(self) -> None:
        self._host.stdin.close()
        self._host.wait(60)


@dataclass
class Offered:
    due: float  # monotonic instant it was to be sent
    status: int = 0
    ticket_id: UUID | None = None
    answered_at: datetime | None = None  # wall clock: compared with the stores' timestamps
    seconds: float = 0.0  # from `due` to the answer: waiting to be sent counts


def offer(platform: Platform, rate: float, seconds: float, run: str, clients: int = 64) -> list[Offered]:
    """Submissions at `rate` a second for `seconds`, each sent when due by whichever client is free."""
    url = f"{platform.urls['intake']}/v1/tenants/acme/h5/submissions"
    headers = {"Authorization": f"Bearer {platform.key}"}
    local = threading.local()
    start = time.monotonic() + 0.1
    offered = [Offered(start + i / rate) for i in range(int(rate * seconds))]

    def send(i: int) -> None:
        o = offered[i]
        time.sleep(max(0.0, o.due - time.monotonic()))
        session = local.__dict__.setdefault("session", requests.Session())
        body = {
            "submission_id": f"{run}-{i}",
            "description": "热水器不出热水",
            "customer": {"name": "赵六", "phone": "13600000000", "address": "深圳市南山区"},
        }
        try:
            answer = session.post(url, json=body, headers=headers, timeout=30)
        except requests.RequestException:
            o.status = -1
            return
        o.answered_at, o.seconds, o.status = datetime.now(UTC), time.monotonic() - o.due, answer.status_code
        if answer.status_code == 201:
            o.ticket_id = UUID(answer.json()["ticket_id"])

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, range(len(offered))))
    return offered


class Deliveries:
    """Notify's delivery events as notify recorded them, read from its store as they come."""

    TOPICS = [get_topic(Delivery.Requested), get_topic(Delivery.Sent)]

    def __init__(self, platform: Platform):
        settings = Settings(data_dir=platform.folder, database_url=platform.database_url)
        self._app = notify_application(settings)
        self._after = 0
        self.requested: dict[UUID, list[datetime]] = {}  # ticket -> when each delivery was requested
        self.sent: dict[UUID, list[datetime]] = {}  # ticket -> when each was recorded sent

    def read(self) -> None:
        while page := self._app.recorder.select_notifications(
            start=self._after, limit=1000, topics=self.TOPICS, inclusive_of_start=False
        ):
            for n in page:
                event = self._app.mapper.to_domain_event(n)
                into = self.requested if isinstance(event, Delivery.Requested) else self.sent
                into.setdefault(event.ticket_id, []).append(event.timestamp)
            self._after = page[-1].id

    def wait_until_sent(self, tickets: list[UUID], stall: float = 60.0) -> None:
        """Until each ticket's every requested delivery is sent (and it has one); gives up after `stall`
        seconds in which nothing more was sent."""
        last, moved = -1, time.monotonic()
        while True:
            self.read()
            done = sum(
                1 for t in tickets if self.requested.get(t) and len(self.sent.get(t, ())) >= len(self.requested[t])
            )
            if done == len(tickets):
                return
            if done != last:
                last, moved = done, time.monotonic()
            elif time.monotonic() - moved > stall:
                print(f"  gave up waiting: {len(tickets) - done} of {len(tickets)} tickets not delivered", flush=True)
                return
            time.sleep(0.2)

    def close(self) -> None:
        self._app.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Round:
    offered: int
    accepted: int
    seconds: float  # the offer's
    answered_in: float  # from the first submission due to the last answer
    submit_ms: list[float]
    requested_ms: list[float]
    sent_ms: list[float]
    undelivered: int
    cpu_seconds: float  # the platform's processes', for the round and what it caused
    cpu_each: dict[str, float]  # the same per kind of process (command line)

    def by_process(self) -> str:
        """The processes using the most CPU per ticket, heaviest first."""
        heavy = sorted(self.cpu_each.items(), key=lambda kv: -kv[1])[:10]
        per = 1000 / max(self.accepted, 1)
        return "CPU ms/ticket by process: " + ", ".join(f"{name} {s * per:.1f}" for name, s in heavy if s > 0)

    def line(self) -> str:
        s, r, q = self.sent_ms, self.requested_ms, self.submit_ms
        return (
            f"accepted {self.accepted / self.answered_in:6.1f}/s of {self.offered / self.seconds:.0f} offered   "
            f"submit p50 {percentile(q, 50):5.1f} p99 {percentile(q, 99):6.1f} ms   "
            f"requested p50 {percentile(r, 50):6.1f} p99 {percentile(r, 99):6.1f}   "
            f"sent p50 {percentile(s, 50):6.1f} p95 {percentile(s, 95):6.1f} p99 {percentile(s, 99):6.1f} ms"
            + f"   CPU {self.cpu_seconds * 1000 / max(self.accepted, 1):.1f} ms/ticket"
            + (f"   undelivered {self.undelivered}" if self.undelivered else "")
        )


def measure(platform: Platform, deliveries: Deliveries, rate: float, seconds: float) -> Round:
    each, servers = cpu_ticks_each(platform.pid), server_ticks(platform)
    offered = offer(platform, rate, seconds, f"r{time.time_ns()}")
    accepted = [o for o in offered if o.status == 201]
    deliveries.wait_until_sent([o.ticket_id for o in accepted])
    hz = os.sysconf("SC_CLK_TCK")
    cpu_each = {name: (t - each.get(name, 0)) / hz for name, t in cpu_ticks_each(platform.pid).items()}
    servers_cpu = {f"{name} (server)": (t - servers[name]) / hz for name, t in server_ticks(platform).items()}

    def after_201(times: dict[UUID, list[datetime]], o: Offered) -> float | None:
        found = times.get(o.ticket_id)
        return (max(found) - o.answered_at).total_seconds() * 1000 if found else None

    sent = [after_201(deliveries.sent, o) for o in accepted]
    return Round(
        offered=len(offered),
        accepted=len(accepted),
        seconds=seconds,
        answered_in=max(o.due + o.seconds for o in offered) - offered[0].due,
        submit_ms=[o.seconds * 1000 for o in offered if o.status in (200, 201)],
        requested_ms=[x for o in accepted if (x := after_201(deliveries.requested, o)) is not None],
        sent_ms=[x for x in sent if x is not None],
        undelivered=sum(x is None for x in sent),
        cpu_seconds=sum(cpu_each.values()),
        cpu_each={**cpu_each, **servers_cpu},
    )


def server_ticks(platform: Platform) -> dict[str, int]:
    """The CPU ticks of the platform's own database and broker, each with all its processes (ended
    ones included once reaped): not in the platform's CPU per ticket, shown beside it."""
    return {name: cpu_ticks(pid) for name, pid in platform.servers.items()}


def platforms(topology: str, baseline: bool, stack: ExitStack, folder: Path) -> dict[str, tuple[Platform, Deliveries]]:
    """The platform woken on commit and, unless left out, the polling one; each started and warmed up."""
    kinds = {"woken on commit": "y", **({"polling (baseline)": "n"} if baseline else {})}
    started = {}
    for i, (name, wake) in enumerate(kinds.items()):
        env = {**UNLIMITED, "SCRM_WAKE_ON_COMMIT": wake}
        if topology == "embedded":
            platform = Platform(folder / f"embedded-{i}", env=env)
        else:
            pg, kafka = stack.enter_context(Postgres(settings=DURABLE)), stack.enter_context(KafkaBroker())
            platform = Platform(
                folder / f"distributed-{i}",
                "kafka",
                pg.create_database(f"e2e{i}"),
                kafka.bootstrap,
                env,
                {"PostgreSQL": pg.pid, "broker": kafka.pid},
            )
        print(f"starting {topology} platform, {name} ...", flush=True)
        platform.start()
        stack.callback(platform.stop)
        deliveries = Deliveries(platform)
        stack.callback(deliveries.close)
        measure(platform, deliveries, 20, 2)  # warm-up: every process has served a few
        started[name] = platform, deliveries
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topologies", default="embedded,distributed")
    parser.add_argument("--rates", default="50,100,200,300", help="submissions a second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10, help="per round")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per platform and rate")
    parser.add_argument("--no-baseline", action="store_true", help="only the platform woken on commit")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for topology in args.topologies.split(","):
        with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="e2e-") as folder:
            started = platforms(topology, not args.no_baseline, stack, Path(folder))
            print(f"-- {topology}: H5 201 -> last delivery of the ticket recorded sent ({args.seconds:.0f} s a round)")
            for rate in rates:
                results: dict[str, list[Round]] = {name: [] for name in started}
                for _ in range(args.rounds):
                    for name, (platform, deliveries) in started.items():
                        results[name].append(measure(platform, deliveries, rate, args.seconds))
                load = os.getloadavg()[0]
                for name, rounds in results.items():
                    merged = merge(rounds)
                    print(f"{rate:5.0f}/s  {name:<20} {merged.line()}   (load {load:.1f})", flush=True)
                    print(f"{'':28}{merged.by_process()}", flush=True)
                print(verdict(topology, rate, results), flush=True)


def merge(rounds: list[Round]) -> Round:
    return Round(
        offered=sum(r.offered for r in rounds),
        accepted=sum(r.accepted for r in rounds),
        seconds=sum(r.seconds for r in rounds),
        answered_in=sum(r.answered_in for r in rounds),
        submit_ms=[x for r in rounds for x in r.submit_ms],
        requested_ms=[x for r in rounds for x in r.requested_ms],
        sent_ms=[x for r in rounds for x in r.sent_ms],
        undelivered=sum(r.undelivered for r in rounds),
        cpu_seconds=sum(r.cpu_seconds for r in rounds),
        cpu_each={name: sum(r.cpu_each.get(name, 0) for r in rounds) for name in rounds[0].cpu_each},
    )


def verdict(topology: str, rate: float, results: dict[str, list[Round]]) -> str:
    woken = merge(next(iter(results.values())))
    p99 = percentile(woken.sent_ms, 99)
    parts = []
    if len(results) > 1:
        polling = merge(list(results.values())[1])
        parts.append(
            f"p50 / baseline {percentile(woken.sent_ms, 50) / percentile(polling.sent_ms, 50):.2f}, "
            f"p99 / baseline {p99 / percentile(polling.sent_ms, 99):.2f}"
        )
    if (target := TARGETS.get((topology, int(rate)))) is not None:
        parts.append(f"target p99 < {target:.0f} ms: {'met' if p99 < target else 'NOT met'} ({p99:.1f} ms)")
    if (topology, int(rate)) == KEEPS_UP:
        kept = woken.accepted / woken.answered_in >= 0.95 * woken.offered / woken.seconds
        parts.append(
            f"intake keeps up at {rate:.0f}/s: {'yes' if kept else 'NO'} ({woken.accepted / woken.answered_in:.1f}/s)"
        )
    return "         " + ("; ".join(parts) or "no target at this rate")


if __name__ == "__main__":
    main()
