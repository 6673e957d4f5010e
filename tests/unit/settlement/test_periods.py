"""Period statements (对账单), figures by hand from terms.py."""

from decimal import Decimal as D
from uuid import UUID

import pytest

from shared.errors import Conflict

from services.settlement.domain.ledger import Ledger
from services.settlement.domain.periods import period_statement
from tests.unit.settlement.terms import BY, at, terms


def closed(ticket: int, path: str, by: str, work, closed_on: int, the_terms) -> Ledger:
    ledger = Ledger.open("acme", UUID(int=ticket), path)
    for i, (kind, code, quantity) in enumerate(work):
        ledger.record(
            kind, f"{ticket}-work-{i}", at(closed_on - 1), by, [{"code": code, "quantity": quantity}], the_terms
        )
    ledger.close(f"{ticket}-close", at(closed_on), the_terms)
    return ledger


def test_an_hkd_region_converted_to_cny_at_the_rate_in_force_on_each_statements_date():
    the_terms = terms()  # HKD/CNY 0.92 from 1 January …
    the_terms.regions.set_rate("HKD", "CNY", D("0.90"), at(5, 0), BY)  # … 0.90 from 5 March
    early = closed(1, "香港", "tech-hk", [("labour", "L-REPAIR", "1")], 3, the_terms)  # 220.00 HKD on 3 March
    late = closed(2, "香港", "tech-hk", [("labour", "L-REPAIR", "1"), ("part", "P-FILTER", "2")], 10, the_terms)
    documents = early.statements + late.statements

    in_hkd = period_statement(documents, "technician", "tech-hk", at(1, 0), at(31, 0))
    assert in_hkd["totals"] == [
        {"currency": "HKD", "rows": 3, "net": "520.00", "tax": "0.00", "gross": "520.00", "payout": "268.00"}
    ]  # 60 % of 440.00 + 5 % of 80.00

    in_cny = period_statement(documents, "technician", "tech-hk", at(1, 0), at(31, 0), "CNY", the_terms.regions.rate)
    # 220.00 × 0.92 = 202.40 (3 March); 220.00 × 0.90 = 198.00 and 80.00 × 0.90 = 72.00 (10 March)
    assert [(r["gross"], r["rate"], r["original_gross"]) for r in in_cny["rows"]] == [
        ("202.40", "0.92", "220.00"),
        ("198.00", "0.90", "220.00"),
        ("72.00", "0.90", "80.00"),
    ]
    # payouts: 132.00 × 0.92 = 121.44; 132.00 × 0.90 = 118.80; 4.00 × 0.90 = 3.60
    assert in_cny["totals"] == [
        {"currency": "CNY", "rows": 3, "net": "472.40", "tax": "0.00", "gross": "472.40", "payout": "243.84"}
    ]


def test_a_missing_rate_is_a_conflict_naming_the_pair_and_the_date():
    the_terms = terms()
    documents = closed(1, "北京", "tech-direct", [("labour", "L-REPAIR", "1")], 3, the_terms).statements
    with pytest.raises(Conflict, match="CNY/HKD"):
        period_statement(documents, "technician", "tech-direct", at(1, 0), at(31, 0), "HKD", lambda *_: None)
    # the inverse of HKD/CNY 0.92 converts CNY to HKD: 212.00 / 0.92 = 230.434… → 230.43
    rows = period_statement(documents, "technician", "tech-direct", at(1, 0), at(31, 0), "HKD", the_terms.regions.rate)[
        "rows"
    ]
    assert rows[0]["gross"] == "230.43"


def test_per_party_and_per_region_with_a_reversal_in_the_period():
    the_terms = terms()
    dealer = closed(1, "北京", "tech-dealer", [("labour", "L-REPAIR", "1")], 3, the_terms)  # 160.00 + 9.60
    dealer.reopen("1-reopen", at(4))
    travel = closed(2, "北京", "tech-travel", [("labour", "L-REPAIR", "1"), ("part", "P-FILTER", "2")], 5, the_terms)
    documents = dealer.statements + travel.statements

    party = period_statement(documents, "party", "dealer-a", at(1, 0), at(31, 0))
    assert [(r["document_kind"], r["gross"], r["payout"]) for r in party["rows"]] == [
        ("statement", "169.60", "96.00"),
        ("reversal", "-169.60", "-96.00"),
    ]
    assert party["totals"][0]["gross"] == "0.00"
    # costs: the dealer's labour in HB (its home region); tech-travel's labour in XB, parts in HN (WH-GZ)
    for region, gross in (("HB", "0.00"), ("XB", "212.00"), ("HN", "79.10")):
        assert period_statement(documents, "region", region, at(1, 0), at(31, 0))["totals"][0]["gross"] == gross
    only_march_3 = period_statement(documents, "party", "dealer-a", at(3, 0), at(4, 0))
    assert [r["document_kind"] for r in only_march_3["rows"]] == ["statement"]
    row = only_march_3["rows"][0]
    assert row["source"] == "1-work-0" and row["ticket_id"] == str(UUID(int=1)) and row["line"]
