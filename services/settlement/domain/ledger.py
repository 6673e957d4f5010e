"""A ticket's ledger (台账): a ledger, never an edit.

It records the work as it happened (who, what, how much, when, from which warehouse) and prices it
by the terms in force at each recording event's time: while the ticket is open that is its
provisional settlement (what a technician sees in the ticket); when it closes (or is cancelled) a
statement of every line so far is issued; a reopen issues the statement's reversal; the next close
a new statement of every line, those recorded since the reopen included. Every upstream event is
taken once (its id is remembered), and every id here is derived from the event that caused it, so a
replay of the same events writes the same bytes.

Pricing a line as of its own time gives the same answer whenever it is asked: terms change only
from when they are recorded on (dated.py). The ticket settles in the region that covers its path
when its first work is recorded, and keeps it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.jsonable import JSONObject

from services.settlement.domain import statements
from services.settlement.domain.ids import derived, derived_uuid, namespace
from services.settlement.domain.pricing import Work, price, returned, warehouse_for
from services.settlement.domain.terms import Terms

_LEDGER_IDS = namespace("5c1d9b7e-3a2f-4d6b-8e9c-0f1a2b3c4d5e")
_STATEMENT_IDS = namespace("8d2e0c9f-4b3a-4e7c-9f0d-1a2b3c4d5e6f")


class Ledger(Aggregate):
    class Opened(Aggregate.Created):
        tenant: str
        ticket_id: UUID
        region_path: str | None  # where the ticket is ("广东/深圳"), as workflow said when it opened

    class Recorded(Aggregate.Event):
        """Work recorded by the event `source` at `at` by `by`: items of code, quantity (negative for
        parts returned) and warehouse. `region`: the region the ticket settles in, when this is its
        first work."""

        tenant: str
        ticket_id: UUID
        source: str
        at: datetime
        by: str
        region: str | None
        items: list[dict[str, Any]]

        def apply(self, ledger: Ledger) -> None:
            ledger.sources.add(self.source)
            ledger.work.append(self)
            ledger.region = ledger.region or self.region

    class PartsRecorded(Recorded):
        """Spare parts consumed or returned: the stock follows these."""

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
    @lru_cache(maxsize=4096)  # asked for every event of a ticket, and a page holds several of each
    def create_id(ticket_id: UUID) -> UUID:
        return derived_uuid(_LEDGER_IDS, str(ticket_id))

    def __init__(self, tenant: str, ticket_id: UUID, region_path: str | None):
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.region_path = region_path
        self.region: str | None = None
        self.sources: set[str] = set()
        self.work: list[Ledger.Recorded] = []
        self.sla = {True: 0, False: 0}  # on time -> how many targets
        self.statements: list[dict[str, Any]] = []  # statements and reversals, in order

    @classmethod
    def open(cls, tenant: str, ticket_id: UUID, region_path: str | None = None) -> Ledger:
        return cls._create(
            cls.Opened, id=cls.create_id(ticket_id), tenant=tenant, ticket_id=ticket_id, region_path=region_path
        )

    # --- where it stands ---------------------------------------------------------------

    @property
    def in_force(self) -> dict[str, Any] | None:
        """The statement in force: the last one issued, unless a reopen reversed it."""
        last = self.statements[-1] if self.statements else None
        return last if last is not None and last["kind"] == "statement" else None

    def has_seen(self, source: str) -> bool:
        return source in self.sources

    def lines(self, terms: Terms) -> list[dict[str, Any]]:
        """Every line of work so far, priced as of its own time; a return as the latest consumption of
        the part on this ticket was charged."""
        priced: list[dict[str, Any]] = []
        for recorded in self.work:
            kind = "part" if isinstance(recorded, Ledger.PartsRecorded) else "labour"
            for index, item in enumerate(recorded.items):
                work = Work(
                    recorded.source,
                    index,
                    recorded.at,
                    kind,
                    item["code"],
                    Decimal(item["quantity"]),
                    recorded.by,
                    self.region,
                    item.get("warehouse"),
                )
                consumed = _latest_consumption(priced, work.code) if work.quantity < 0 else None
                priced.append(returned(consumed, work, terms) if consumed else price(terms, work))
        return priced

    def provisional(self, terms: Terms, now: datetime) -> dict[str, Any] | None:
        """What the ticket would settle at if it closed now (None while a statement is in force)."""
        if self.in_force is not None:
            return None
        return self._statement("provisional", "", 0, now, "", terms)

    # --- what happens to it ------------------------------------------------------------

    def record(
        self,
        kind: str,
        source: str,
        at: datetime,
        by: str,
        items: list[dict[str, Any]],
        terms: Terms,
        returning: bool = False,
    ) -> None:
        """Work (items of code and quantity) recorded by `by` at `at`; returned parts count negative. Parts
        come from the technician's warehouse, else the main one of the ticket's region."""
        if self.has_seen(source):
            return
        region = self.region or self._region_at(terms, at)
        where = warehouse_for(terms, region, by, at) if kind == "part" else None
        recorded = [
            {
                "code": item["code"],
                "quantity": str(-Decimal(item["quantity"]) if returning else item["quantity"]),
                **({"warehouse": where} if kind == "part" else {}),
            }
            for item in items
        ]
        self.trigger_event(
            self.PartsRecorded if kind == "part" else self.LabourRecorded,
            tenant=self.tenant,
            ticket_id=self.ticket_id,
            source=source,
            at=at,
            by=by,
            region=None if self.region else region,
            items=recorded,
        )

    def note_sla(self, source: str, on_time: bool) -> None:
        if not self.has_seen(source):
            self.trigger_event(self.SlaNoted, tenant=self.tenant, source=source, on_time=on_time)

    def close(self, source: str, at: datetime, terms: Terms) -> None:
        """Issue the statement of every line so far; nothing while one is in force or there is no work."""
        if self.has_seen(source) or self.in_force is not None or not self.work:
            return
        issued = self._statement("statement", _document_id(source), len(self.statements) + 1, at, source, terms)
        self.trigger_event(
            self.StatementIssued,
            tenant=self.tenant,
            ticket_id=self.ticket_id,
            source=source,
            statement=JSONObject(issued),
        )

    def reopen(self, source: str, at: datetime) -> None:
        """Reverse the statement in force, if there is one."""
        issued = self.in_force
        if self.has_seen(source) or issued is None:
            return
        reversed_ = statements.reversal(issued, _document_id(source), len(self.statements) + 1, at, source)
        self.trigger_event(
            self.StatementReversed,
            tenant=self.tenant,
            ticket_id=self.ticket_id,
            source=source,
            statement=JSONObject(reversed_),
        )

    def _statement(
        self, kind: str, statement_id: str, number: int, at: datetime, cause: str, terms: Terms
    ) -> dict[str, Any]:
        lines = self.lines(terms)
        region = terms.regions.region(self.region, at) if self.region else None
        extra = statements.adjustments(
            terms.prices, region, lines, self.sla[True], self.sla[False], at, cause or "provisional"
        )
        return statements.statement(
            kind, statement_id, number, str(self.ticket_id), at, cause, self.region, lines, extra
        )

    def _region_at(self, terms: Terms, at: datetime) -> str | None:
        found = terms.regions.region_of(self.region_path, at)
        return found.code if found else None


def _latest_consumption(lines: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    return next(
        (x for x in reversed(lines) if x["kind"] == "part" and x["code"] == code and not x["quantity"].startswith("-")),
        None,
    )


def _document_id(source: str) -> str:
    return derived(_STATEMENT_IDS, source)
