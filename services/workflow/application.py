"""Workflow commands and queries: templates, the staff directory, staff actions on tickets."""

from __future__ import annotations

from datetime import datetime, UTC
from typing import Any, TypeVar
from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Conflict, NotFound
from shared.eventstore import IntegrityError, ServiceApplication

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
from services.workflow.workload import WorkloadView
from services.workflow.outbox import OUTBOX

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
Clock = Callable[[], datetime]
TIMER_RETRIES = 10


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
        self._workload = WorkloadView(self)

    def load(self, tenant: str) -> Load:
        """The tenant's live load, folded from every Ticket event committed so far: what assignment
        strategies see, in the worker's policy and in staff actions alike."""
        return self._workload.load(tenant)

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
        ticket = self.ticket(ticket_id, tenant)
        self._change(ticket, action)
        return ticket

    def _change(self, aggregate: A, change: Callable[[A], T]) -> T:
        """Apply a change and save it; a concurrent change to the same aggregate makes this one a 409."""
        result = change(aggregate)
        try:
            self.save(aggregate)
        except IntegrityError:
            raise Conflict("it changed meanwhile; reload it and try again") from None
        return result
