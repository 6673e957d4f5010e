"""What settlement publishes (statements, reversals, stock low, catalogue changes) and what its own
stock keeper reads (parts lines)."""

from shared.outbox import Outbox

from services.settlement.domain.catalogue import Catalogue
from services.settlement.domain.ledger import Ledger
from services.settlement.domain.pricing import work_line_id
from services.settlement.domain.stock import Stock

OUTBOX = Outbox(
    service="settlement",
    translations={
        Ledger.StatementIssued: ("settlement.statement_issued", lambda e: e.statement),
        Ledger.StatementReversed: ("settlement.statement_reversed", lambda e: e.statement),
        Stock.Low: (
            "settlement.stock_low",
            lambda e: {
                "warehouse": e.warehouse,
                "code": e.code,
                "level": e.level,
                "threshold": e.threshold,
                "cause": e.cause,
            },
        ),
        Catalogue.Changed: (
            "settlement.catalogue_changed",
            lambda e: {
                "changes": [
                    {"kind": e.section, "code": code, "known": value is not None} for code, value in e.values.items()
                ]
            },
        ),
    },
)

# Read only by settlement's stock keeper, from settlement's own store: never published.
PARTS = {
    Ledger.PartsRecorded: (
        "settlement.parts_recorded",
        lambda e: {
            "lines": [
                {
                    "id": work_line_id(e.source, i),
                    "code": x["code"],
                    "quantity": x["quantity"],
                    "warehouse": x["warehouse"],
                }
                for i, x in enumerate(e.items)
            ]
        },
    ),
}
