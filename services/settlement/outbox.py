"""What settlement publishes: one statement per closed ticket."""

from shared.outbox import Outbox
from shared.views import plain

from services.settlement.domain import Settlement

OUTBOX = Outbox(
    service="settlement",
    translations={
        Settlement.StatementIssued: ("settlement.statement_issued", lambda e: plain({
            "currency": e.currency,
            "lines": [{k: line[k] for k in ("kind", "code", "quantity", "unit_price", "amount", "priced")}
                      for line in e.lines],
            "subtotal": e.subtotal, "tax": e.tax, "total": e.total,
            "technician": e.technician, "payout": e.payout,
        })),
    },
)
