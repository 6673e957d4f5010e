"""A desk for notify's delivery tests: its store (SQLite or PostgreSQL), its worker's policy fed with
public envelopes, its sender on a clock the test moves, and local provider servers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, UTC
from uuid import UUID, uuid4

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork
from shared.secrets import SecretBox

from services.notify import bootstrap
from services.notify.config import NotifyConfig
from services.notify.delivery import Retries
from tests.support.identity import admin, open_tenant, replicate

KEY = SecretBox.new_key()
ADMIN = admin()
NIGHT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00


class Clock:
    def __init__(self, now: datetime = DAY):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class NotifyDesk:
    def __init__(self, settings, monkeypatch, wecom=None, official_account=None, sms=None, smtp=None, **config):
        monkeypatch.setenv("SCRM_SECRET_KEYS", KEY)
        self.clock = Clock()
        self.config = NotifyConfig(
            wecom_url=wecom.url if wecom else "http://127.0.0.1:9",
            official_account_url=official_account.url if official_account else "http://127.0.0.1:9",
            sms_url=f"{sms.url}/sms/send" if sms else None,
            smtp_host="127.0.0.1" if smtp else None,
            smtp_port=smtp.port if smtp else 25,
            smtp_starttls=bool(smtp and smtp.ca_file),
            smtp_ca_file=smtp.ca_file if smtp else None,
            retries=Retries(base=timedelta(seconds=2), cap=timedelta(seconds=30), attempts=6),
            timeout=5.0,
            senders=4,
            **config,
        )
        self.settings = settings
        open_tenant(settings)
        replicate(settings, bootstrap)  # notify learns of the tenant and its keys from workflow
        self.app = bootstrap.application(settings)
        self.policy = bootstrap.follower(settings, config=self.config).policy
        self.http = bootstrap.web_app(settings, self.clock).test_client()
        self.sender = bootstrap.sender(settings, clock=self.clock, config=self.config)
        self.position = 0

    def provider(self, channel: str, **account) -> None:
        answer = self.http.put(f"/v1/tenants/acme/notify/providers/{channel}", json=account, headers=ADMIN)
        assert answer.status_code == 200, answer.json

    def feed(self, *envelopes: Envelope) -> None:
        uow = UnitOfWork(self.app, optimistic=False)
        for envelope in envelopes:
            self.policy(envelope, uow)
        self.app.record(uow.pending_events())

    def event(self, type_: str, subject: UUID | None = None, correlation_id: str | None = None, **data) -> Envelope:
        envelope = Envelope(
            id=uuid4(),
            source="scrm/test",
            type=type_,
            subject=subject or uuid4(),
            time=self.clock(),
            tenant="acme",
            correlation_id=correlation_id,
            data=data,
        )
        self.feed(envelope)
        return envelope

    def opened(self, handler: str, ticket: UUID | None = None, correlation_id: str | None = None) -> UUID:
        ticket = ticket or uuid4()
        self.event(
            "ticket.opened",
            ticket,
            correlation_id,
            template="repair",
            template_version=1,
            node="work",
            handler=handler,
            reason="the node's rule",
        )
        return ticket

    def created(self, ticket: UUID | None = None, **customer) -> UUID:
        ticket = ticket or uuid4()
        self.event(
            "ticket.created",
            ticket,
            channel="mp",
            submission_id=str(ticket),
            description="空调不制冷",
            template="repair",
            customer={"name": "张三", **customer},
            customer_id=str(uuid4()),
        )
        return ticket

    def staff(self, user: str, **member) -> None:
        self.event("staff.changed", user=user, removed=False, **member)

    def send(self, rounds: int = 20) -> int:
        """Sender rounds until nothing is due now; how many deliveries were decided."""
        done = 0
        for _ in range(rounds):
            decided = self.sender.run_once()
            done += decided
            if not decided:
                return done
        return done

    def deliveries(self, ticket: UUID) -> list[dict]:
        answer = self.http.get(f"/v1/tenants/acme/tickets/{ticket}/deliveries", headers=ADMIN)
        assert answer.status_code == 200, answer.json
        return answer.json["deliveries"]

    def close(self) -> None:
        self.sender._pool.shutdown()
