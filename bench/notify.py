"""How fast notify delivers a backlog to WeCom, against what the WeCom stand-in itself can take.

A local WeCom server (tests/support/providers.py, in its own process) is called first by a loop that
only calls it (message/send, the same client and the same number of threads as the sender): its
ceiling. Then 20 000 ticket.opened events go through notify's worker policy (each a delivery to
the handler) and the sender sends them all; every message must be shown once at the server.

    python bench/notify.py [--events 20000] [--senders 16] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, UTC
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from services.notify import bootstrap
from services.notify.config import NotifyConfig
from shared.envelope import Envelope
from shared.secrets import SecretBox
from shared.serve import tune_gc_for_batches
from shared.settings import Settings
from shared.transport import Batch

SERVER = """
import sys, json
sys.path.insert(0, {root!r})
from tests.support.providers import FakeWeCom
class Counted(FakeWeCom):
    def routes(self):
        return {{**super().routes(), ("GET", "/stats"): lambda call, raw: (200, {{"shown": len(self.shown)}})}}
    def handle(self, call, raw):
        status, answer = super().handle(call, raw)
        self.calls.clear()  # a long run keeps only what it counts
        return status, answer
server = Counted().start()
print(server.url, flush=True)
sys.stdin.read()
"""


def start_wecom() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(root=str(Path(__file__).resolve().parents[1]))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def ceiling(url: str, calls: int, threads: int) -> float:
    """message/send calls per second from a loop that does nothing else."""
    token = requests.get(
        f"{url}/cgi-bin/gettoken", params={"corpid": "ww-corp", "corpsecret": "corp-secret-0001"}, timeout=5
    ).json()["access_token"]
    local = threading.local()

    def one(i: int) -> None:
        session = local.__dict__.setdefault("session", requests.Session())
        body = {
            "touser": f"u-{i}",
            "msgtype": "text",
            "agentid": 1000002,
            "text": {"content": f"ceiling {i}"},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 14400,
        }
        assert (
            session.post(f"{url}/cgi-bin/message/send", params={"access_token": token}, json=body, timeout=10).json()[
                "errcode"
            ]
            == 0
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(calls)))
    return calls / (time.perf_counter() - started)


def backlog(settings: Settings, config: NotifyConfig, events: int) -> float:
    """Ticket events through notify's worker policy, 1000 to a batch as the follower reads them;
    events per second."""
    follower = bootstrap.follower(settings, config=config)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, events, 1000):
        envelopes = [
            Envelope(
                id=uuid4(),
                source="scrm/workflow",
                type="ticket.opened",
                subject=uuid4(),
                time=now,
                tenant="acme",
                data={
                    "template": "default",
                    "template_version": 1,
                    "node": "处理中",
                    "handler": f"t-{i % 50}",
                    "reason": "默认处理人",
                },
            )
            for i in range(start, min(events, start + 1000))
        ]
        follower.process(Batch("workflow", start + len(envelopes), envelopes))
    return events / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tune_gc_for_batches()
    import os

    os.environ["SCRM_SECRET_KEYS"] = SecretBox.new_key()
    process, url = start_wecom()
    try:
        top = ceiling(url, min(args.events, 10_000), args.senders)
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-notify-")), database_url=args.database_url)
        config = NotifyConfig(wecom_url=url, rates={"wecom": 0.0}, senders=args.senders, batch=1000)
        app = bootstrap.application(settings)
        app.change_providers(
            "acme",
            lambda p: p.configure(
                "wecom",
                {"corp_id": "ww-corp", "agent_id": "1000002", "secret": "corp-secret-0001"},
                SecretBox.from_env().seal,
                "bench",
            ),
        )
        recorded = backlog(settings, config, args.events)
        sender = bootstrap.sender(settings, config=config)
        started = time.perf_counter()
        sent = 0
        while sent < args.events:
            done = sender.run_once()
            if not done and not sender.pending.deliveries:
                break
            sent += done
        elapsed = time.perf_counter() - started
        shown = requests.get(f"{url}/stats", timeout=5).json()["shown"] - min(args.events, 10_000)
        rate = sent / elapsed
        print(
            json.dumps(
                {
                    "events": args.events,
                    "store": "postgresql" if args.database_url else "sqlite",
                    "senders": args.senders,
                    "requests_recorded_per_s": round(recorded),
                    "deliveries_per_s": round(rate),
                    "wecom_ceiling_per_s": round(top),
                    "ratio": round(rate / top, 2),
                    "shown_once": shown == args.events,
                    "sender_seconds": round(elapsed, 1),
                },
                indent=2,
            )
        )
    finally:
        process.stdin.close()
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
