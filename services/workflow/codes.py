"""The codes handlers may record as spare parts and labour: the tenant's catalogue in settlement,
learned from its public `settlement.catalogue_changed` events. Recording a code the catalogue does
not have is refused (422, naming it) rather than priced at nothing later. A tenant whose catalogue
workflow has not heard of yet accepts any code: it may not use settlement at all."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.envelope import Envelope
from shared.errors import DomainError
from shared.eventstore import UnitOfWork
from shared.pertenant import PerTenant

WHAT = {"part": "spare part", "labour": "service item"}


class UnknownCodes(DomainError):
    status, code = 422, "unknown_code"


class KnownCodes(PerTenant):
    namespace = UUID("e3b1f6a2-0c4d-4b8e-9f1a-7d6c5b4a3e21")

    class Learned(Aggregate.Event):
        """Codes added to (known) or retired from (not known) the tenant's catalogue."""

        changes: list[dict[str, Any]]

        def apply(self, codes: KnownCodes) -> None:
            for change in self.changes:
                known = codes.codes[change["kind"]]
                (known.add if change["known"] else known.discard)(change["code"])

    def __init__(self, tenant: str):
        super().__init__(tenant)
        self.codes: dict[str, set[str]] = {"part": set(), "labour": set()}

    def learn(self, changes: list[dict[str, Any]]) -> None:
        self.trigger_event(self.Learned, changes=changes)

    def check(self, kind: str, codes: list[str]) -> None:
        unknown = sorted({code for code in codes if code not in self.codes[kind]})
        if unknown:
            raise UnknownCodes(
                f"not in the tenant's catalogue of {WHAT[kind]}s: {', '.join(unknown)}", kind=kind, codes=unknown
            )


def codes_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    if envelope.type != "settlement.catalogue_changed":
        return
    codes = uow.get(KnownCodes.create_id(envelope.tenant))
    if codes is None:
        codes = KnownCodes(tenant=envelope.tenant)
        uow.add(codes)
    codes.learn(envelope.data["changes"])
