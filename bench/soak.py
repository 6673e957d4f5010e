"""A soak: N tickets through the embedded platform (`scrm run`: every service's web app and worker,
SQLite stores), every process's resident memory printed each `--every` tickets. After warm-up it
must stay flat: memory that grows with the tickets seen is a leak.

H5 submissions from `--customers` customers in turn are posted by `--clients` threads as fast as
intake answers (tenant acme has no staff and no notify accounts: tickets wait in the technicians'
unassigned queue). One customer
keeps every ticket of theirs (services/intake/customers.py): with a single customer, intake's worker
loads one ever larger aggregate, which is growth of the data, not a leak. At each mark the workers are given time to catch
up first (their backlog would otherwise be counted as growth), then every process's own resident memory
is read (RssAnon + RssShmem in /proc): what a leak grows. The resident pages of the files a process maps
(RssFile: its code and libraries, and any file it maps) are the kernel's page cache, shared and given
back under memory pressure: printed apart at the end, not judged.

    python bench/soak.py [--tickets 100000] [--every 10000] [--clients 8] [--customers 5000]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests

from bench.tenant import tenant_with_key
from deploy.devservers import free_port_block, wait_for
from deploy.devservers.processes import descendants
from services.cli import web_ports
from shared.secrets import SecretBox
from shared.settings import SERVICES

WARM_UP_MARKS = 1  # the first mark is after warm-up: growth is measured from there
FLAT = 0.10  # at most this much growth (10 %, and 8 MiB at least) from warm-up to the end counts as flat


@dataclass
class Platform:
    data_dir: Path
    urls: dict[str, str]
    key: str  # tenant acme's, with the write scope

    def pid(self, child: str) -> int:
        return int((self.data_dir / "pids" / f"{child}.pid").read_text())


@contextmanager
def platform(data_dir: Path) -> Iterator[Platform]:
    """`scrm run` on SQLite files in `data_dir`, with tenant acme and an API key made first."""
    env = {**os.environ, "SCRM_DATA_DIR": str(data_dir), "SCRM_TRANSPORT": "embedded"}
    env.pop("SCRM_DATABASE_URL", None)
    env.setdefault("SCRM_SECRET_KEYS", SecretBox.new_key())
    subprocess.run([sys.executable, "-m", "services", "db", "init"], env=env, check=True, cwd=ROOT, capture_output=True)
    key = tenant_with_key(env)
    ports = web_ports(free_port_block())
    log = open(data_dir / "platform.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "run", "--base-port", str(ports[SERVICES[0]])],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    urls = {s: f"http://127.0.0.1:{port}" for s, port in ports.items()}
    try:
        wait_for(lambda: all(_up(u) for u in urls.values()), 300, interval=1, message="scrm run never served")
        yield Platform(data_dir, urls, key)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def memory_mib(pid: int) -> tuple[float, float] | None:
    """The process's own resident memory and the resident pages of the files it maps, in MiB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None  # gone meanwhile
    kib = {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines) if k.startswith("Rss")}
    return (kib["RssAnon"] + kib["RssShmem"]) / 1024, kib["RssFile"] / 1024


def processes(platform: Platform) -> dict[str, int]:
    """Every process of the platform by name: the workers, each web app's gunicorn master and workers."""
    found = {}
    for name in [f"{s}-worker" for s in SERVICES] + [f"{s}-web" for s in SERVICES]:
        pid = platform.pid(name)
        found[name] = pid
        for k, child in enumerate(sorted(descendants(pid))):
            found[f"{name}.{k}"] = child
    return found


def settled(platform: Platform, submitted: int, timeout: float = 300) -> float:
    """Wait until workflow has opened every ticket submitted (its log's Opened count); seconds waited."""
    started = time.monotonic()
    with sqlite3.connect(platform.data_dir / "workflow.sqlite") as db:
        while time.monotonic() - started < timeout:
            (opened,) = db.execute(
                "SELECT COUNT(*) FROM stored_events WHERE topic = 'services.workflow.domain:Ticket.Opened'"
            ).fetchone()
            if opened >= submitted:
                break
            time.sleep(1)
    return time.monotonic() - started


def submit_all(platform: Platform, first: int, count: int, clients: int, customers: int) -> int:
    """Post `count` submissions from `clients` threads; how many were refused (each is retried once)."""
    key = platform.key
    url = f"{platform.urls['intake']}/v1/tenants/acme/h5/submissions"
    local = threading.local()
    refused = 0

    def post(i: int) -> None:
        nonlocal refused
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        body = {
            "submission_id": f"soak-{i}",
            "description": "热水器不出热水",
            "customer": {"name": "赵六", "phone": f"136{i % customers:08d}", "address": "深圳市南山区"},
        }
        for _ in range(2):
            answer = session.post(url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
            if answer.status_code in (200, 201):
                return
        refused += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, range(first, first + count)))
    return refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--customers", type=int, default=5_000, help="distinct customers (phones) the tickets come from, in turn"
    )
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="scrm-soak-"))
    with platform(data_dir) as running:
        names, rows = None, []
        sent, started = 0, time.monotonic()
        while sent < args.tickets:
            batch = min(args.every, args.tickets - sent)
            t = time.monotonic()
            refused = submit_all(running, sent, batch, args.clients, args.customers)
            rate = batch / (time.monotonic() - t)
            sent += batch
            waited = settled(running, sent)
            found = processes(running)
            names = names or sorted(found)
            memory = {n: memory_mib(found[n]) if n in found else None for n in names}
            rows.append((sent, memory))
            load = os.getloadavg()[0]
            print(
                f"{sent:>7} tickets  {rate:6.0f}/s submitted  caught up {waited:4.0f} s later  refused {refused}  "
                f"load {load:.1f}  own MiB: " + "  ".join(f"{n} {v[0]:.1f}" for n, v in memory.items() if v),
                flush=True,
            )
        print(f"{sent} tickets in {time.monotonic() - started:.0f} s; data in {data_dir}")
    report(rows)


def report(rows: list[tuple[int, dict[str, tuple[float, float] | None]]]) -> None:
    if len(rows) <= WARM_UP_MARKS:
        print("too few marks to judge (make --tickets at least twice --every)")
        return
    (base_at, base), (end_at, end) = rows[WARM_UP_MARKS - 1], rows[-1]
    print(f"growth of each process's own memory from {base_at} to {end_at} tickets (after warm-up; files mapped):")
    flat = True
    for name in base:
        if base[name] is None or end.get(name) is None:
            continue
        (own_before, mapped_before), (own, mapped) = base[name], end[name]
        grew = own - own_before
        ok = grew <= max(8.0, FLAT * own_before)
        flat &= ok
        print(
            f"  {name:<18} {own_before:7.1f} -> {own:7.1f} MiB  ({grew:+.1f}){'' if ok else '  GROWING'}"
            f"  (files mapped {mapped_before:.1f} -> {mapped:.1f} MiB)"
        )
    print(f"target: every process flat after warm-up -> {'MET' if flat else 'NOT MET'}")


if __name__ == "__main__":
    main()
