"""Sends due deliveries and records what became of them, in rounds: catch up with notify's own log,
decide each due delivery (withheld: opted out; deferred: quiet hours and not urgent; passed to the
next channel: no account for this one), send the rest at once through their channels (within each
provider's rate limit), then record every outcome in one transaction.

Sending happens after the request was committed and before its outcome is: a process killed in
between sends those deliveries again when it (or another) starts. Providers with a duplicate check
(WeCom's app messages, the official account's client_msg_id) drop the second; the others may deliver
twice (README: where exactly-once cannot be had).
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from collections.abc import Callable, Mapping
from uuid import UUID

import structlog
from prometheus_client import Counter

from shared import correlation
from shared.doorbell import Doorbell
from shared.eventstore import IntegrityError, ServiceApplication
from shared.secrets import SecretBox, SecretsUnavailable
from shared.ownlog import OwnEvents
from shared.slices import WHOLE, Slice

from services.notify.channels import Channel, Outcome
from services.notify.config import NotifyConfig
from services.notify.delivery import Delivery
from services.notify.kinds import KINDS
from services.notify.policies import message_for
from services.notify.providers import ACCOUNTS, ACCOUNT_OF, ProviderAccounts, providers_id
from services.notify.sending.limits import RateLimits
from services.notify.sending.pending import Pending
from services.notify.setup import NotifySetup, setup_id

log = structlog.get_logger()
OUTCOMES = Counter("scrm_notify_deliveries_total", "Deliveries decided by the sender", ["channel", "outcome"])


class Sender:
    def __init__(
        self,
        app: ServiceApplication,
        own_log: OwnEvents,
        channels: Mapping[str, Channel],
        config: NotifyConfig,
        clock: Callable[[], datetime],
        secrets: SecretBox,
        part: Slice = WHOLE,
        jitter: Callable[[], float] = random.random,
        interval: float = 0.2,
        doorbell: Doorbell | None = None,
    ):
        self.app, self.own_log, self.channels, self.config = app, own_log, channels, config
        self.clock, self.secrets, self.jitter, self.interval = clock, secrets, jitter, interval
        self.doorbell = doorbell or Doorbell()  # rung by notify's commits: a delivery requested, say
        self.pending = Pending(part)
        self.limits = RateLimits(config.rates)
        self._pool = ThreadPoolExecutor(config.senders, thread_name_prefix="notify-send")

    def run(self, stop: threading.Event) -> None:
        log.info("sender.started")
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # the store is down, say: try again after a pause
                log.exception("sender.round_failed")
                sent = 0
            if not sent:
                self.doorbell.wait(self._pause())
        self._pool.shutdown(wait=True)
        self.doorbell.close()
        log.info("sender.stopped")

    def catch_up(self, limit: int = 1000) -> None:
        while True:
            last, events = self.own_log(self.pending.position, limit)
            for event in events:
                self.pending.apply(event, self._load)
            self.pending.position = last
            if len(events) < limit:
                return

    def run_once(self) -> int:
        """One round; how many deliveries it decided."""
        self.catch_up()
        due = self.pending.due(self.clock(), self.config.batch)
        if not due:
            return 0
        round_ = Round(self)
        sends = [(d, round_.decide(d)) for d in due]
        futures = [(d, self._pool.submit(self._send, d, send)) for d, send in sends if send is not None]
        for delivery, future in futures:
            round_.settle(delivery, future.result())
        self._record(round_)
        return len(round_.touched)

    def _send(self, delivery: Delivery, account: Mapping[str, str]) -> Outcome:
        correlation.use(delivery.correlation_id)  # this pool thread's log lines are about this delivery
        correlation.about(delivery.tenant, delivery.ticket_id)
        try:
            return self.channels[delivery.channel].send(delivery.id, account, delivery.address, delivery.message)
        except Exception as e:  # a bug in a channel must not lose the round's records
            log.exception("sender.channel_failed", channel=delivery.channel)
            return Outcome.transient(f"{type(e).__name__} in the {delivery.channel} channel")
        finally:
            correlation.use(None)
            correlation.about()

    def _record(self, round_: Round) -> None:
        aggregates = list(round_.touched.values())
        changes = [(aggregate, aggregate.collect_events()) for aggregate in aggregates]
        correlations = {  # each published under the correlation id of the request it serves
            (e.originator_id, e.originator_version): aggregate.correlation_id
            for aggregate, events in changes
            if aggregate.correlation_id
            for e in events
        }
        try:
            self.app.record([e for _, events in changes for e in events], correlations=correlations)
            recorded = aggregates
        except IntegrityError:  # an operator re-drove or changed one meanwhile: each on its own
            recorded = [a for a, events in changes if self._record_one(a, events, correlations)]
        for aggregate in recorded:
            self.pending.add(aggregate)
            OUTCOMES.labels(aggregate.channel, aggregate.status).inc()

    def _record_one(self, aggregate: Delivery, events: list, correlations: dict) -> bool:
        """Whether its events were recorded; if not, it is read again from the log for the next round."""
        try:
            self.app.record(events, correlations=correlations)
            return True
        except IntegrityError:
            log.warning("sender.conflict", delivery=str(aggregate.id))
            self.pending.deliveries.pop(aggregate.id, None)
            self.pending.add(self._load(aggregate.id))
            return False

    def _load(self, id_: UUID) -> Delivery | None:
        return self.app.repository.get(id_)

    def _pause(self) -> float:
        """Until the next delivery falls due or a dry rate bucket refills, at most the poll interval. A
        delivery due already and not sent was held by its rate: its bucket's refill says when."""
        waits, due, held = [self.interval], self.pending.next_due(), self.limits.wait()
        if due is not None and (until := (due - self.clock()).total_seconds()) > 0:
            waits.append(until)
        if held is not None:
            waits.append(held)
        return min(waits)


class Round:
    """One round's decisions and outcomes, and each tenant's set-up and accounts read once for it."""

    def __init__(self, sender: Sender):
        self.sender = sender
        self.now = sender.clock()
        self.touched: dict[UUID, Delivery] = {}
        self._setups: dict[str, NotifySetup | None] = {}
        self._accounts: dict[str, ProviderAccounts | None] = {}
        self._opened: dict[tuple[str, str], dict[str, str] | None] = {}

    def setup(self, tenant: str) -> NotifySetup | None:
        if tenant not in self._setups:
            self._setups[tenant] = self.sender.app.current(setup_id(tenant), tenant)
        return self._setups[tenant]

    def account(self, tenant: str, channel: str) -> dict[str, str] | None:
        """The tenant's account for `channel`, opened once per round."""
        if (tenant, channel) not in self._opened:
            self._opened[(tenant, channel)] = self._open(tenant, channel)
        return self._opened[(tenant, channel)]

    def _open(self, tenant: str, channel: str) -> dict[str, str] | None:
        if tenant not in self._accounts:
            self._accounts[tenant] = self.sender.app.current(providers_id(tenant), tenant)
        sealed = self._accounts[tenant].account(channel) if self._accounts[tenant] else None
        if sealed is None:
            return None
        secrets = ACCOUNTS[ACCOUNT_OF.get(channel, channel)].secrets
        return {k: self.sender.secrets.open(v) if k in secrets else v for k, v in sealed.items()}

    def decide(self, delivery: Delivery) -> dict[str, str] | None:
        """The opened account to send `delivery` with now, or None when it is decided otherwise."""
        if self.sender.pending.refuses(delivery):
            delivery.withhold("收件人已退订此类消息")
            return self._touch(delivery)
        setup = self.setup(delivery.tenant)
        quiet = setup.quiet_hours if setup else None
        until = quiet.until(self.now) if quiet and not delivery.urgent else None
        if until is not None:
            delivery.defer(until, "免打扰时段")
            return self._touch(delivery)
        try:
            account = (
                self.account(delivery.tenant, delivery.channel) if delivery.channel in self.sender.channels else None
            )
        except SecretsUnavailable as e:
            self.settle(delivery, Outcome.transient(str(e)))
            return None
        if account is None:
            self.settle(delivery, Outcome.cannot_reach(f"渠道 {delivery.channel} 未配置（无服务商账号）"))
            return None
        if not self.sender.limits.take(delivery.tenant, delivery.channel):
            return None  # over the provider's rate: stays due for the next round
        return account

    def settle(self, delivery: Delivery, outcome: Outcome) -> None:
        if outcome.sent:
            delivery.sent(outcome.receipt)
        elif outcome.unreachable and delivery.next_channel():
            self._fall_back(delivery, outcome.error or "")
        else:
            delivery.failed(
                outcome.error or "failed", outcome.permanent, self.now, self.sender.jitter(), self.sender.config.retries
            )
        self._touch(delivery)

    def _fall_back(self, delivery: Delivery, error: str) -> None:
        channel, address = delivery.next_channel()
        config, kind = self.sender.config, KINDS[delivery.kind]
        message = message_for(
            config,
            self.setup(delivery.tenant),
            delivery.tenant,
            delivery.ticket_id,
            delivery.kind,
            channel,
            delivery.template,
            delivery.node,
            delivery.context,
            kind.audience,
        )
        next_ = Delivery.request(
            tenant=delivery.tenant,
            ticket_id=delivery.ticket_id,
            cause=delivery.cause,
            kind=delivery.kind,
            recipient=delivery.recipient,
            name=delivery.name,
            channel=channel,
            address=address,
            message=message,
            context=delivery.context,
            template=delivery.template,
            node=delivery.node,
            urgent=delivery.urgent,
            fallback=delivery.fallback[1:],
            fallback_of=delivery.id,
            due=self.now,
            correlation_id=delivery.correlation_id,
        )
        delivery.fall_back(error, next_.id, channel)
        self._touch(next_)

    def _touch(self, delivery: Delivery) -> None:
        self.touched[delivery.id] = delivery
        return None
