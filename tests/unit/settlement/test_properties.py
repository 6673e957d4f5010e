"""Properties of statements, for any work under the golden terms (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from services.settlement.domain.ledger import Ledger
from tests.unit.settlement.terms import at, terms

TERMS = terms()
PATHS = ["北京/朝阳", "广东/深圳", "四川/成都", "香港", "西藏/拉萨"]
TECHNICIANS = ["tech-direct", "tech-dealer", "tech-partner", "tech-travel", "tech-hk", "somebody"]
CODES = {"part": ["P-FILTER", "P-MOTOR"], "labour": ["L-INSTALL", "L-REPAIR", "L-CHECK"]}
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3)


@st.composite
def work(draw):
    kind = draw(st.sampled_from(["part", "labour"]))
    return kind, draw(st.sampled_from(TECHNICIANS)), draw(st.sampled_from(CODES[kind])), draw(quantities)


@st.composite
def ledgers(draw) -> Ledger:
    """A ticket with some work, SLA outcomes and returns, closed; perhaps reopened and closed again."""
    ledger = Ledger.open("acme", UUID(int=7), draw(st.sampled_from(PATHS)))
    rounds = draw(st.integers(1, 3))
    for r in range(rounds):
        for i, (kind, by, code, quantity) in enumerate(draw(st.lists(work(), min_size=1, max_size=6))):
            ledger.record(kind, f"{r}-{i}", at(2 + r), by, [{"code": code, "quantity": str(quantity)}], TERMS)
            if kind == "part" and draw(st.booleans()):
                ledger.record(
                    "part",
                    f"{r}-{i}-back",
                    at(2 + r),
                    by,
                    [{"code": code, "quantity": str(draw(st.decimals(Decimal("0.001"), quantity, places=3)))}],
                    TERMS,
                    returning=True,
                )
        for j in range(draw(st.integers(0, 2))):
            ledger.note_sla(f"{r}-sla-{j}", draw(st.booleans()))
        ledger.close(f"{r}-close", at(10 + r), TERMS)
        if r < rounds - 1:
            ledger.reopen(f"{r}-reopen", at(11 + r))
    return ledger


def d(value: str | None) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def amounts_of(document: dict) -> list[Decimal]:
    """Every amount in a document, in a fixed order."""
    found = [d(document[n]) for n in ("net", "tax", "gross", "payout")]
    found += [d(x[n]) for x in document["lines"] for n in ("quantity", "net", "tax", "gross", "payout")]
    found += [d(a["amount"]) for a in document["adjustments"]]
    found += [d(p[n]) for p in document["payouts"] for n in ("lines", "adjustments", "total")]
    found += [d(p[n]) for p in document["parties"] for n in ("net", "tax", "gross")]
    return found + [d(c["net"]) for c in document["cost_split"]]


@settings(max_examples=150, deadline=None)
@given(ledgers())
def test_a_reversal_nets_its_statement_to_zero_amount_by_amount(ledger):
    for i, document in enumerate(ledger.statements):
        if document["kind"] == "reversal":
            reversed_ = ledger.statements[i - 1]
            assert document["reverses"] == reversed_["id"]
            assert all(a + b == 0 for a, b in zip(amounts_of(reversed_), amounts_of(document), strict=True))


@settings(max_examples=150, deadline=None)
@given(ledgers())
def test_totals_are_the_sums_of_their_lines(ledger):
    for document in ledger.statements:
        lines, adjustments = document["lines"], document["adjustments"]
        for name in ("net", "tax", "gross"):
            assert d(document[name]) == sum(d(x[name]) for x in lines)
            assert d(document[name]) == sum(d(p[name]) for p in document["parties"])
        assert all(d(x["net"]) + d(x["tax"]) == d(x["gross"]) for x in lines)
        assert d(document["net"]) == sum(d(c["net"]) for c in document["cost_split"])
        paid = sum(d(x["payout"]) for x in lines) + sum(d(a["amount"]) for a in adjustments)
        assert d(document["payout"]) == paid == sum(d(p["total"]) for p in document["payouts"])
        assert document["unpriced"] == sum(1 for x in lines if not x["priced"])


@settings(max_examples=100, deadline=None)
@given(ledgers())
def test_every_amount_has_at_most_the_currencys_minor_unit(ledger):
    for document in ledger.statements:
        for x in document["lines"]:
            for name in ("net", "tax", "gross", "payout"):
                assert d(x[name]).as_tuple().exponent >= -2


@settings(max_examples=100, deadline=None)
@given(ledgers(), st.randoms())
def test_the_same_events_again_change_nothing(ledger, random):
    """Every event the ledger took, delivered again in any order, is recognised and ignored."""
    before = list(ledger.statements)
    sources = sorted(ledger.sources)
    random.shuffle(sources)
    for source in sources:
        ledger.record("part", source, at(20), "tech-direct", [{"code": "P-FILTER", "quantity": "1"}], TERMS)
        ledger.close(source, at(20), TERMS)
        ledger.reopen(source, at(20))
        ledger.note_sla(source, False)
    assert ledger.statements == before
