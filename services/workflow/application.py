"""Workflow commands and queries: templates, the staff directory, staff actions on tickets."""

from __future__ import annotations

from datetime import datetime, UTC
from typing import Any, TypeVar
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Conflict, Invalid, NotAllowed, NotFound
from shared.eventstore import IntegrityError, ServiceApplication, belongs
from shared import idempotency
from shared.groupcommit import GroupCommitter
from shared.outbox import OutboxRow

from services.workflow import sandbox
from services.workflow.assignment import Assigner
from services.workflow.codes import KnownCodes
from services.workflow.conversation import conversation_id
from services.workflow.dispatch.load import Load
from services.workflow.domain import Ticket
from services.workflow.library import TemplateLibrary, default_template, library_id
from services.workflow.staff import Directory, StaffDirectory, directory_id
from services.workflow.templates import examples
from services.workflow.templates.model import Template
from services.workflow.logview import LogView
from services.workflow.recent import RecentTickets
from services.workflow.outbox import OUTBOX

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
Clock = Callable[[], datetime]
TIMER_RETRIES = 10
COMMIT_TIMEOUT = 5.0  # seconds an action waits for its commit before a 503 (it may still be recorded)


def utc_now() -> datetime:
    return datetime.now(UTC)


class WorkflowApplication(ServiceApplication):
    name = "workflow"
    outbox = OUTBOX

    def __init__(self, assigner: Assigner, env: dict[str, str] | None = None, clock: Clock = utc_now):
        super().__init__(env)
        self.assigner = assigner
        self.default = default_template()
        self.clock = clock  # the only place workflow learns the time (tests pass a controllable one)
        self._recent = RecentTickets()
        # set-up and load, caught up from the log once per action or request
        self.log_view = LogView(self, ticket_seen=self._recent.seen)
        self._committer = GroupCommitter(self._commit_group)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        saved = {getattr(o, "id", None) or o.originator_id for o in objs if o is not None}  # aggregates, events
        self.log_view.forget(saved)  # read back from the store when next asked for, even inside one request
        return recordings

    def load(self, tenant: str) -> Load:
        """The tenant's live load, folded from every Ticket event committed so far: what assignment
        strategies see, in the worker's policy and in staff actions alike."""
        self.log_view.catch_up()
        return self.log_view.load(tenant)

    def current(self, aggregate_id: UUID, tenant: str, kind: type[A] | None = None) -> A | None:
        """A set-up aggregate (templates, staff, access, codes) as the log says it is now: a shared copy,
        read again from the store only after it changed (logview.py). Read it, never change it."""
        self.log_view.catch_up()
        found = self.log_view.aggregate(aggregate_id)
        return found if found is not None and belongs(found, tenant, kind) else None

    # --- templates ------------------------------------------------------------------

    def library(self, tenant: str) -> TemplateLibrary:
        """To read: a shared copy, only read again from the store when it changed."""
        return self.current(library_id(tenant), tenant, TemplateLibrary) or TemplateLibrary(tenant=tenant)

    def template(self, tenant: str, key: str, version: int | None = None) -> Template:
        """A published version (the latest when `version` is None); the built-in default is always there."""
        if key == DEFAULT_TEMPLATE:
            if version not in (None, 1):
                raise NotFound(f"the built-in {DEFAULT_TEMPLATE!r} template has only version 1")
            return self.default
        catalogue = self.library(tenant).catalogue
        return catalogue.latest(key) if version is None else catalogue.get(key, version)

    def change_library(self, tenant: str, change: Callable[[TemplateLibrary], T]) -> T:
        library = self.find(library_id(tenant), tenant, TemplateLibrary) or TemplateLibrary(tenant=tenant)
        return self._change(library, change)

    def load_examples(self, tenant: str, by: str) -> list[Template]:
        """Publish the shipped example templates (installation, repair, refund) as the tenant's own."""

        def publish_all(library: TemplateLibrary) -> list[Template]:
            published = []
            for name in examples.NAMES:
                library.save_draft(examples.load(name), by)
                published.append(library.publish(name, by))
            return published

        return self.change_library(tenant, publish_all)

    # --- staff directory ------------------------------------------------------------

    def staff(self, tenant: str) -> Directory:
        found = self.current(directory_id(tenant), tenant, StaffDirectory)
        return found.directory if found else Directory()

    def change_staff(self, tenant: str, change: Callable[[StaffDirectory], T]) -> T:
        directory = self.find(directory_id(tenant), tenant, StaffDirectory) or StaffDirectory(tenant=tenant)
        return self._change(directory, change)

    # --- tickets --------------------------------------------------------------------

    def ticket(self, ticket_id: UUID, tenant: str) -> Ticket:
        ticket = self.find(ticket_id, tenant, Ticket)
        if ticket is None:
            raise NotFound("no such ticket (it may still be on its way from intake)")
        return ticket

    def history(self, ticket_id: UUID, tenant: str) -> list[Any]:
        """The ticket's events and its conversation's (what the customer sent), in the order they happened."""
        self.ticket(ticket_id, tenant)
        said = list(self.events.get(conversation_id(ticket_id)))[1:]  # without the conversation's start
        return sorted([*self.events.get(ticket_id), *said], key=lambda e: e.timestamp)

    def template_of(self, ticket: Ticket) -> Template:
        """The version the ticket started on: it finishes on it, whatever was published since; with the
        ticket's own sandbox changes, if any (the published version stays as it is)."""
        published = self.template(ticket.tenant, ticket.template, ticket.template_version)
        return sandbox.effective(published, ticket.sandbox) if ticket.sandbox else published

    def change_process(self, tenant: str, ticket_id: UUID, by: str, change: sandbox.Change, why: str = "") -> Ticket:
        """Change one ticket's process (流程沙箱, see Ticket.change_process)."""

        def change_it(ticket: Ticket) -> None:
            assigner = self.assigner.seeing(self.load(tenant), self.clock())
            ticket.change_process(self.template_of(ticket), change, by, assigner, self.staff(tenant), why)

        return self._on_ticket(tenant, ticket_id, change_it)

    def act(
        self, tenant: str, ticket_id: UUID, by: str, action: str, expected_version: int | None = None, **details: Any
    ) -> Ticket:
        """A staff action (see Ticket.act); `expected_version`, when given, is the version the actor saw."""

        def act(ticket: Ticket) -> None:
            if expected_version is not None and expected_version != ticket.version:
                raise Conflict(
                    f"the ticket changed meanwhile (version {ticket.version}, you saw {expected_version});"
                    " reload it and try again",
                    version=ticket.version,
                )
            now = self.clock()
            ticket.act(
                self.template_of(ticket),
                action,
                by,
                self.assigner.seeing(self.load(tenant), now),
                self.staff(tenant),
                now=now,
                **details,
            )

        return self._on_ticket(tenant, ticket_id, act)

    def consume_parts(self, tenant: str, ticket_id: UUID, by: str, items: list[dict]) -> Ticket:
        self.check_codes(tenant, "part", items)
        return self._on_ticket(
            tenant, ticket_id, lambda t: t.consume_parts(by, items, self.staff(tenant), self.clock())
        )

    def return_parts(self, tenant: str, ticket_id: UUID, by: str, items: list[dict]) -> Ticket:
        self.check_codes(tenant, "part", items)
        return self._on_ticket(tenant, ticket_id, lambda t: t.return_parts(by, items, self.staff(tenant)))

    def record_labour(self, tenant: str, ticket_id: UUID, by: str, items: list[dict]) -> Ticket:
        self.check_codes(tenant, "labour", items)
        return self._on_ticket(
            tenant, ticket_id, lambda t: t.record_labour(by, items, self.staff(tenant), self.clock())
        )

    def check_codes(self, tenant: str, kind: str, items: list[dict]) -> None:
        """UnknownCodes (422) naming the codes the tenant's catalogue (in settlement) does not have."""
        known = self.current(KnownCodes.create_id(tenant), tenant)
        if known is not None:
            known.check(kind, [str(item["code"]) for item in items])

    def fire_timers(self, ticket_id: UUID) -> tuple[int, datetime | None]:
        """Record the ticket's SLA timers due now, exactly once: a concurrent change (another timer
        process, a staff action) makes the save fail on the ticket's version, and the timers are
        looked at again on the ticket as it now is. How many fired here, and the next due instant."""
        for _ in range(TIMER_RETRIES):
            ticket = self.repository.get(ticket_id)
            fired = ticket.fire_timers(self.template_of(ticket), self.staff(ticket.tenant), self.clock())
            if fired:
                try:
                    self.save(ticket)
                except IntegrityError:
                    continue
            return fired, ticket.sla.next_due()
        raise Conflict(f"ticket {ticket_id} kept changing while its SLA timers fired")

    def close_ticket(self, tenant: str, ticket_id: UUID, by: str) -> Ticket:
        """The close action where `by` handles the ticket: only where the template allows it, with the
        node's required fields filled in, to the end its advance leads to (engine.act)."""
        ticket = self.ticket(ticket_id, tenant)
        if ticket.status != "open":
            raise Conflict(f"the ticket is {ticket.status} already")
        return self.act(tenant, ticket_id, by, "close")

    def _on_ticket(self, tenant: str, ticket_id: UUID, action: Callable[[Ticket], None]) -> Ticket:
        """Act on the ticket as this process last committed it, else as stored. That copy may be stale
        (another process acted since): its commit then fails on the version, or it refuses what the stored
        ticket allows, and the action is done again on the stored ticket, whose answer stands."""
        with self.log_view.pinned():  # one read of the log for the template, the staff and the load
            self.log_view.catch_up()  # first: it drops a kept copy another process's action made stale
            return self._on_recent(tenant, ticket_id, action)

    def _on_recent(self, tenant: str, ticket_id: UUID, action: Callable[[Ticket], None]) -> Ticket:
        ticket = self._recent.take(ticket_id, tenant)
        if ticket is not None:
            try:
                self._act_and_commit(ticket, action)
            except (Conflict, Invalid, NotAllowed, NotFound):  # nothing was recorded
                ticket = None
        if ticket is None:
            ticket = self.ticket(ticket_id, tenant)
            self._act_and_commit(ticket, action)
        self._recent.keep(ticket)
        return ticket

    def _act_and_commit(self, ticket: Ticket, action: Callable[[Ticket], None]) -> None:
        """Concurrent actions (on other tickets) share one transaction (shared/groupcommit.py); the
        ticket's version makes a concurrent change to the same ticket a 409."""
        self._committer.check_answering()
        action(ticket)
        receipts = idempotency.pending()  # the request's Idempotency-Key receipt commits with the change
        events = [e for aggregate in (ticket, *receipts) for e in aggregate.collect_events()]
        try:  # serialised here, in the request's own thread, with its correlation id
            with self.log_view.committing(events):
                self._committer.commit(self.to_stored(events), timeout=COMMIT_TIMEOUT)
        except IntegrityError:
            raise Conflict("it changed meanwhile; reload it and try again") from None
        if receipts:
            idempotency.saved()

    def _commit_group(self, pending: Sequence[tuple[list[StoredEvent], list[OutboxRow]]]) -> None:
        self.recorder.insert_events(
            [stored for events, _ in pending for stored in events], outbox=[row for _, rows in pending for row in rows]
        )

    def _change(self, aggregate: A, change: Callable[[A], T]) -> T:
        """Apply a change and save it; a concurrent change to the same aggregate makes this one a 409."""
        result = change(aggregate)
        try:
            self.save(aggregate)
        except IntegrityError:
            raise Conflict("it changed meanwhile; reload it and try again") from None
        return result
