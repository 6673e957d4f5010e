"""Golden statements: every figure worked out by hand from the terms in terms.py."""

from __future__ import annotations

from decimal import Decimal as D
from uuid import UUID

import pytest

from shared.errors import Invalid

from services.settlement.domain.ledger import Ledger
from services.settlement.domain.pricebook import PriceBook, Tier
from services.settlement.domain.pricing import Work, charged, price
from services.settlement.domain.regions import CostRules
from tests.unit.settlement.terms import BY, T0, at, terms

TICKET = UUID("00000000-0000-4000-8000-000000000001")
FILTERS_AND_REPAIR = [("part", "P-FILTER", "2"), ("labour", "L-REPAIR", "1")]


def settle(path: str, by: str, work, the_terms=None, sla: tuple[int, int] = (0, 0)) -> dict:
    """A ticket at `path` where `by` records `work` on 2 March, closed on 3 March."""
    the_terms = the_terms or terms()
    ledger = Ledger.open("acme", TICKET, path)
    for i, (kind, code, quantity) in enumerate(work):
        ledger.record(kind, f"work-{i}", at(2), by, [{"code": code, "quantity": quantity}], the_terms)
    for i in range(sla[0] + sla[1]):
        ledger.note_sla(f"sla-{i}", on_time=i < sla[0])
    ledger.close("close-1", at(3), the_terms)
    return ledger.in_force


def amounts(statement: dict) -> list[tuple[str, str, str, str]]:
    return [(x["code"], x["net"], x["tax"], x["gross"]) for x in statement["lines"]]


def totals(statement: dict) -> tuple[str, str, str]:
    return statement["net"], statement["tax"], statement["gross"]


# Two region tiers × two cooperation modes: 2 × P-FILTER (配件 13 %) and 1 × L-REPAIR (6 %), tax-exclusive.
@pytest.mark.parametrize(
    "path, by, tier, lines, total",
    [
        # tier-1 (北京 → HB), direct: 2 × 35.00 = 70.00, tax 9.10; 200.00, tax 12.00
        (
            "北京/朝阳",
            "tech-direct",
            "t1-direct",
            [("P-FILTER", "70.00", "9.10", "79.10"), ("L-REPAIR", "200.00", "12.00", "212.00")],
            ("270.00", "21.10", "291.10"),
        ),
        # tier-1, dealer: 2 × 30.00 = 60.00, tax 7.80; 160.00, tax 9.60
        (
            "北京/朝阳",
            "tech-dealer",
            "t1-dealer",
            [("P-FILTER", "60.00", "7.80", "67.80"), ("L-REPAIR", "160.00", "9.60", "169.60")],
            ("220.00", "17.40", "237.40"),
        ),
        # tier-3 (四川 → XB, covers *), direct: 2 × 38.00 = 76.00, tax 9.88; 230.00, tax 13.80
        (
            "四川/成都",
            "tech-direct",
            "t3-direct",
            [("P-FILTER", "76.00", "9.88", "85.88"), ("L-REPAIR", "230.00", "13.80", "243.80")],
            ("306.00", "23.68", "329.68"),
        ),
        # tier-3, dealer: 2 × 33.00 = 66.00, tax 8.58; 190.00, tax 11.40
        (
            "四川/成都",
            "tech-dealer",
            "t3-dealer",
            [("P-FILTER", "66.00", "8.58", "74.58"), ("L-REPAIR", "190.00", "11.40", "201.40")],
            ("256.00", "19.98", "275.98"),
        ),
    ],
)
def test_two_tiers_by_two_cooperation_modes(path, by, tier, lines, total):
    statement = settle(path, by, FILTERS_AND_REPAIR)
    assert amounts(statement) == lines
    assert totals(statement) == total
    assert {x["tier"] for x in statement["lines"]} == {tier}
    assert all(f"档位 {tier}" in x["why"] for x in statement["lines"])


def test_a_tax_inclusive_and_a_tax_exclusive_region():
    inclusive = settle("广东/深圳", "tech-direct", FILTERS_AND_REPAIR)
    # HN prices include tax: gross 2 × 35.00 = 70.00, tax 70.00 × 0.13 / 1.13 = 8.0531 → 8.05, net 61.95;
    # gross 200.00, tax 200.00 × 0.06 / 1.06 = 11.3207 → 11.32, net 188.68.
    assert amounts(inclusive) == [("P-FILTER", "61.95", "8.05", "70.00"), ("L-REPAIR", "188.68", "11.32", "200.00")]
    assert totals(inclusive) == ("250.63", "19.37", "270.00")
    exclusive = settle("天津", "tech-direct", FILTERS_AND_REPAIR)  # HB, the same tier and prices
    assert totals(exclusive) == ("270.00", "21.10", "291.10")


def test_six_per_cent_of_0_75_is_0_05_not_what_a_float_says():
    assert round(0.75 * 0.06, 2) == 0.04  # a float: 0.04499999… rounds down
    statement = settle("北京", "tech-direct", [("labour", "L-CHECK", "1")])
    assert amounts(statement) == [("L-CHECK", "0.75", "0.05", "0.80")]


def test_a_price_change_between_two_consumptions_on_one_ticket():
    the_terms = terms()
    the_terms.prices.set_prices([("t1-direct", "P-FILTER", D("38.00"))], at(5, 0), BY)  # from 5 March
    ledger = Ledger.open("acme", TICKET, "北京")
    ledger.record("part", "before", at(4), "tech-direct", [{"code": "P-FILTER", "quantity": "1"}], the_terms)
    ledger.record("part", "after", at(6), "tech-direct", [{"code": "P-FILTER", "quantity": "1"}], the_terms)
    ledger.close("close", at(7), the_terms)
    # 35.00 + 13 % = 39.55 on 4 March; 38.00 + 4.94 = 42.94 on 6 March
    assert amounts(ledger.in_force) == [("P-FILTER", "35.00", "4.55", "39.55"), ("P-FILTER", "38.00", "4.94", "42.94")]
    assert totals(ledger.in_force) == ("73.00", "9.49", "82.49")


def test_a_tier_fallback_says_which_tier_and_why():
    # tech-partner works in the partner mode: no tier matches it in XB (tier-3). The fallback order is
    # t3-dealer, t3-direct: P-FILTER from t3-dealer (33.00), L-INSTALL from t3-direct (180.00, t3-dealer
    # has none), P-MOTOR nowhere in tier-3 (t1-direct prices it, but is not in the fallback order).
    statement = settle(
        "四川/成都", "tech-partner", [("part", "P-FILTER", "1"), ("labour", "L-INSTALL", "1"), ("part", "P-MOTOR", "1")]
    )
    assert amounts(statement) == [
        ("P-FILTER", "33.00", "4.29", "37.29"),
        ("L-INSTALL", "180.00", "10.80", "190.80"),
        ("P-MOTOR", "0.00", "0.00", "0.00"),
    ]
    filter_, install, motor = statement["lines"]
    assert (filter_["tier"], install["tier"], motor["tier"]) == ("t3-dealer", "t3-direct", None)
    assert filter_["why"].startswith("回退：没有与区域 XB") and "按回退顺序用档位 t3-dealer" in filter_["why"]
    assert "用档位 t3-direct" in install["why"]
    assert (motor["priced"], statement["unpriced"]) == (False, 1)
    assert motor["why"].startswith("未定价") and "P-MOTOR" in motor["why"]
    assert totals(statement) == ("213.00", "15.09", "228.09")


def test_a_more_specific_tier_wins_and_a_missing_price_falls_to_the_next_matching_one():
    the_terms = terms()
    the_terms.prices.save_tier(Tier("beijing", "CNY", region="HB"), T0, BY)
    the_terms.prices.set_prices([("beijing", "P-FILTER", D("31.00"))], T0, BY)
    statement = settle("北京", "tech-direct", FILTERS_AND_REPAIR, the_terms)
    filter_, repair = statement["lines"]
    assert (filter_["tier"], filter_["net"]) == ("beijing", "62.00")  # an explicit region beats a region tier
    assert (repair["tier"], repair["net"]) == ("t1-direct", "200.00")
    assert "更具体的 beijing 没有 L-REPAIR 的价格" in repair["why"]


def test_a_cross_region_cost_split():
    # A ticket in 北京 (HB) by tech-travel (home XB, parts from WH-GZ in HN): by the default rules labour
    # is borne by the technician's home region and parts by the warehouse's.
    statement = settle("北京", "tech-travel", FILTERS_AND_REPAIR)
    assert statement["cost_split"] == [{"region": "HN", "net": "70.00"}, {"region": "XB", "net": "200.00"}]
    assert [x["warehouse"] for x in statement["lines"]] == ["WH-GZ", None]
    the_terms = terms()
    the_terms.regions.set_cost_rules(CostRules({"labour": "ticket", "part": "ticket"}), T0, BY)
    assert settle("北京", "tech-travel", FILTERS_AND_REPAIR, the_terms)["cost_split"] == [
        {"region": "HB", "net": "270.00"}
    ]


def test_a_payout_with_a_fixed_a_percentage_and_an_hourly_rule_a_bonus_and_a_surcharge():
    # XB is remote; t3-direct pays L-INSTALL 80.00 a unit (fixed), 维修 45.00 an hour (L-REPAIR: 1.5 h),
    # parts 5 % of net, a 30.00 bonus when every SLA target is met, 50.00 in remote areas.
    statement = settle(
        "四川/成都",
        "tech-direct",
        [("labour", "L-INSTALL", "1"), ("labour", "L-REPAIR", "2"), ("part", "P-FILTER", "2")],
        sla=(1, 0),
    )
    # prices: 180.00 + 10.80; 2 × 230.00 = 460.00 + 27.60; 2 × 38.00 = 76.00 + 9.88
    assert totals(statement) == ("716.00", "48.28", "764.28")
    # payouts: 80.00 × 1; 45.00 × 1.5 h × 2 = 135.00; 5 % of 76.00 = 3.80
    assert [x["payout"] for x in statement["lines"]] == ["80.00", "135.00", "3.80"]
    assert [(a["kind"], a["amount"]) for a in statement["adjustments"]] == [
        ("remote_surcharge", "50.00"),
        ("sla_met_bonus", "30.00"),
    ]
    assert statement["payouts"] == [
        {"technician": "tech-direct", "party": None, "lines": "218.80", "adjustments": "80.00", "total": "298.80"}
    ]
    assert statement["payout"] == "298.80"


def test_a_missed_sla_target_costs_the_penalty_instead_of_the_bonus():
    statement = settle("四川/成都", "tech-direct", [("labour", "L-INSTALL", "1")], sla=(1, 1))
    assert [(a["kind"], a["amount"]) for a in statement["adjustments"]] == [
        ("remote_surcharge", "50.00"),
        ("sla_missed_penalty", "-20.00"),
    ]
    assert statement["payout"] == "110.00"  # 80.00 + 50.00 − 20.00


def test_a_reopen_issues_a_reversal_and_work_after_it_is_settled_at_the_next_close():
    the_terms = terms()
    ledger = Ledger.open("acme", TICKET, "北京")
    ledger.record("part", "parts", at(2), "tech-direct", [{"code": "P-FILTER", "quantity": "2"}], the_terms)
    ledger.record("labour", "labour", at(2), "tech-direct", [{"code": "L-REPAIR", "quantity": "1"}], the_terms)
    ledger.close("close-1", at(3), the_terms)
    ledger.reopen("reopen", at(4))
    ledger.record("labour", "more", at(5), "tech-direct", [{"code": "L-INSTALL", "quantity": "1"}], the_terms)
    ledger.close("close-2", at(6), the_terms)
    first, reversal, second = ledger.statements
    assert (first["kind"], reversal["kind"], second["kind"]) == ("statement", "reversal", "statement")
    assert [d["number"] for d in ledger.statements] == [1, 2, 3]
    assert totals(first) == ("270.00", "21.10", "291.10")
    assert totals(reversal) == ("-270.00", "-21.10", "-291.10") and reversal["reverses"] == first["id"]
    assert reversal["payout"] == "-123.50"  # 60 % of 200.00 + 5 % of 70.00, given back
    # the second statement: every line, the L-INSTALL added after the reopen too (150.00 + 9.00)
    assert amounts(second)[-1] == ("L-INSTALL", "150.00", "9.00", "159.00")
    assert totals(second) == ("420.00", "30.10", "450.10")
    assert second["payout"] == "213.50"  # 123.50 + 60 % of 150.00
    assert ledger.in_force is second


def test_a_return_is_credited_as_the_consumption_was_charged():
    the_terms = terms()
    ledger = Ledger.open("acme", TICKET, "北京")
    ledger.record("part", "used", at(4), "tech-direct", [{"code": "P-FILTER", "quantity": "3"}], the_terms)
    the_terms.prices.set_prices([("t1-direct", "P-FILTER", D("99.00"))], at(5, 0), BY)
    ledger.record(
        "part", "back", at(6), "tech-direct", [{"code": "P-FILTER", "quantity": "1"}], the_terms, returning=True
    )
    ledger.close("close", at(7), the_terms)
    assert amounts(ledger.in_force) == [
        ("P-FILTER", "105.00", "13.65", "118.65"),
        ("P-FILTER", "-35.00", "-4.55", "-39.55"),
    ]  # at 35.00, not 99.00
    assert ledger.in_force["lines"][1]["quantity"] == "-1"


def test_the_hkd_region_settles_in_hkd():
    statement = settle("香港", "tech-hk", FILTERS_AND_REPAIR)
    # hk-direct, no tax: 2 × 40.00 and 220.00
    assert (statement["currency"], totals(statement)) == ("HKD", ("300.00", "0.00", "300.00"))


def test_a_line_is_priced_from_the_terms_in_force_when_it_was_recorded_only():
    the_terms = terms()
    work = Work("e", 0, at(2), "part", "P-FILTER", D("1"), "tech-direct", "HB")
    before = price(the_terms, work)
    the_terms.prices.set_prices([("t1-direct", "P-FILTER", D("50.00"))], at(3), BY)
    assert price(the_terms, work) == before  # a later change never reaches back


def test_charging_a_negative_quantity_mirrors_the_positive_one():
    line = price(terms(), Work("e", 0, at(2), "labour", "L-CHECK", D("1"), "tech-direct", "HB"))
    assert (charged(line, D("-1"))["tax"], charged(line, D("1"))["tax"]) == ("-0.05", "0.05")


def test_the_price_book_refuses_prices_for_tiers_it_does_not_have():
    with pytest.raises(Invalid):
        PriceBook(tenant="acme").set_prices([("nope", "P-FILTER", D("1"))], T0, BY)
