"""How long notify's sender sleeps between rounds when it has nothing to send (sending/sender.py,
sending/limits.py): never busy while nothing is held back, never past a due delivery or a refill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from services.notify.sending.limits import RateLimits
from services.notify.sending.sender import Sender

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_only_a_bucket_that_ran_dry_holds_anything_back():
    clock = Clock()
    limits = RateLimits({"sms": 2.0, "wecom": 100_000.0}, clock)
    assert limits.wait() is None
    assert limits.take("acme", "wecom")  # plenty left: nothing to wait for, however high the rate
    assert limits.wait() is None
    assert limits.take("acme", "sms") and limits.take("acme", "sms") and not limits.take("acme", "sms")
    assert limits.wait() == 0.5  # one token back at 2 a second
    clock.now = 0.2
    assert abs(limits.wait() - 0.3) < 1e-9
    clock.now = 0.5
    assert limits.wait() is None and limits.take("acme", "sms")


def pause(next_due: datetime | None, limits: RateLimits) -> float:
    sender = SimpleNamespace(
        interval=0.2, pending=SimpleNamespace(next_due=lambda: next_due), limits=limits, clock=lambda: NOW
    )
    return Sender._pause(sender)


def test_the_sender_sleeps_its_interval_unless_a_delivery_falls_due_or_a_rate_refills_sooner():
    clock = Clock()
    limits = RateLimits({"wecom": 100_000.0, "sms": 10.0}, clock)
    limits.take("acme", "wecom")
    assert pause(None, limits) == 0.2  # it once polled every 10 µs here
    assert pause(NOW + timedelta(seconds=0.05), limits) == 0.05
    assert pause(NOW + timedelta(minutes=5), limits) == 0.2
    for _ in range(10):
        limits.take("acme", "sms")
    assert abs(pause(NOW - timedelta(seconds=1), limits) - 0.1) < 1e-9  # due already, held by its rate
