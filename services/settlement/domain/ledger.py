"""A ticket's ledger (台账): a ledger, never an edit.

Work is priced as it is recorded, by the terms in force at the recording event's time. While the
ticket is open the lines make its provisional settlement (what a technician sees in the ticket).
When it closes (or is cancelled) a statement of every line so far is issued; a reopen issues the
statement's reversal; the next close a new statement of every line, those recorded since the
reopen included. Every upstream event is taken once (its id is remembered), and every id here is
derived from the event that caused it, so a replay of the same events writes the same bytes.

The ticket settles in the region that covers its path when its first line is priced, and keeps it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from services.settlement.domain import statements
from services.settlement.domain.pricing import Work, price, returned
from services.settlement.domain.terms import Terms

_LEDGER_IDS = UUID("5c1d9b7e-3a2f-4d6b-8e9c-0f1a2b3c4d5e")
_STATEMENT_IDS = UUID("8d2e0c9f-4b3a-4e7c-9f0d-1a2b3c4d5e6f")


class Ledger(Aggregate):
    class Opened(Aggregate.Created):
        tenant: str
        ticket_id: UUID
        region_path: str | None  # where the ticket is ("广东/深圳"), as workflow said when it opened

    class Recorded(Aggregate.Event):
        """Work recorded by the event `source`, priced. `region`: the region the ticket settles in,
        when this is the first line that found one."""

        tenant: str
        ticket_id: UUID
        source: str
        region: str | None
        lines: list[dict[str, Any]]

        def apply(self, ledger: Ledger) -> None:
            ledger.sources.add(self.source)
            ledger.lines.extend(self.lines)
            ledger.region = ledger.region or self.region

    class PartsRecorded(Recorded):
        """Spare parts consumed (positive quantities) or returned (negative): the stock follows these."""

    class LabourRecorded(Recorded):
        """Service items (labour) done."""

    class SlaNoted(Aggregate.Event):
        """An SLA target of the ticket was met on time, or missed."""

        tenant: str
        source: str
        on_time: bool

        def apply(self, ledger: Ledger) -> None:
            ledger.sources.add(self.source)
            ledger.sla[self.on_time] += 1

    class Issued(Aggregate.Event):
        """A statement (kind "statement") or a reversal (kind "reversal"), caused by the event `source`."""

        tenant: str
        ticket_id: UUID
        source: str
        statement: dict[str, Any]

        def apply(self, ledger: Ledger) -> None:
            ledger.sources.add(self.source)
            ledger.statements.append(self.statement)

    class StatementIssued(Issued):
        """The ticket closed: the statement of every line so far."""

    class StatementReversed(Issued):
        """The ticket reopened: the statement in force is reversed."""

    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return uuid5(_LEDGER_IDS, str(ticket_id))

    def __init__(self, tenant: str, ticket_id: UUID, region_path: str | None):
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.region_path = region_path
        self.region: str | None = None
        self.sources: set[str] = set()
        self.lines: list[dict[str, Any]] = []
        self.sla = {True: 0, False: 0}  # on time -> how many targets
        self.statements: list[dict[str, Any]] = []  # statements and reversals, in order

    @classmethod
    def open(cls, tenant: str, ticket_id: UUID, region_path: str | None = None) -> Ledger:
        return cls._create(cls.Opened, id=cls.create_id(ticket_id), tenant=tenant, ticket_id=ticket_id,
                           region_path=region_path)

    # --- where it stands ---------------------------------------------------------------

    @property
    def in_force(self) -> dict[str, Any] | None:
        """The statement in force: the last one issued, unless a reopen reversed it."""
        last = self.statements[-1] if self.statements else None
        return last if last is not None and last["kind"] == "statement" else None

    def has_seen(self, source: str) -> bool:
        return source in self.sources

    def provisional(self, terms: Terms, now: datetime) -> dict[str, Any] | None:
        """What the ticket would settle at if it closed now (None while a statement is in force)."""
        if self.in_force is not None:
            return None
        return self._statement("provisional", "", 0, now, "", terms)

    # --- what happens to it ------------------------------------------------------------

    def record(self, kind: str, source: str, at: datetime, by: str, items: list[dict[str, Any]], terms: Terms,
               returning: bool = False) -> None:
        """Price `items` (code, quantity) recorded by `by` at `at`; returned parts are credits."""
        if self.has_seen(source):
            return
        region = self.region or self._region_at(terms, at)
        lines = []
        for index, item in enumerate(items):
            quantity = Decimal(item["quantity"])
            work = Work(source, index, at, kind, item["code"], -quantity if returning else quantity, by, region)
            consumed = self._latest_consumption(item["code"]) if returning else None
            lines.append(returned(consumed, work, terms) if consumed else price(terms, work))
        event = self.PartsRecorded if kind == "part" else self.LabourRecorded
        self.trigger_event(event, tenant=self.tenant, ticket_id=self.ticket_id, source=source,
                           region=None if self.region else region, lines=lines)

    def note_sla(self, source: str, on_time: bool) -> None:
        if not self.has_seen(source):
            self.trigger_event(self.SlaNoted, tenant=self.tenant, source=source, on_time=on_time)

    def close(self, source: str, at: datetime, terms: Terms) -> None:
        """Issue the statement of every line so far; nothing while one is in force or there is no work."""
        if self.has_seen(source) or self.in_force is not None or not self.lines:
            return
        issued = self._statement("statement", _document_id(source), len(self.statements) + 1, at, source, terms)
        self.trigger_event(self.StatementIssued, tenant=self.tenant, ticket_id=self.ticket_id, source=source,
                           statement=issued)

    def reopen(self, source: str, at: datetime) -> None:
        """Reverse the statement in force, if there is one."""
        issued = self.in_force
        if self.has_seen(source) or issued is None:
            return
        reversed_ = statements.reversal(issued, _document_id(source), len(self.statements) + 1, at, source)
        self.trigger_event(self.StatementReversed, tenant=self.tenant, ticket_id=self.ticket_id, source=source,
                           statement=reversed_)

    def _statement(self, kind: str, statement_id: str, number: int, at: datetime, cause: str,
                   terms: Terms) -> dict[str, Any]:
        region = terms.regions.region(self.region, at) if self.region else None
        extra = statements.adjustments(terms.prices, region, self.lines, self.sla[True], self.sla[False], at,
                                       cause or "provisional")
        return statements.statement(kind, statement_id, number, str(self.ticket_id), at, cause, self.region,
                                    list(self.lines), extra)  # a copy: later lines are not this statement's

    def _region_at(self, terms: Terms, at: datetime) -> str | None:
        found = terms.regions.region_of(self.region_path, at)
        return found.code if found else None

    def _latest_consumption(self, code: str) -> dict[str, Any] | None:
        return next((x for x in reversed(self.lines)
                     if x["kind"] == "part" and x["code"] == code and not x["quantity"].startswith("-")), None)


def _document_id(source: str) -> str:
    return str(uuid5(_STATEMENT_IDS, source))
