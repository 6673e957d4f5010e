"""Example terms to start from (`scrm settlement load-example`, POST /v1/tenants/<t>/examples).

Every ticket in mainland China settles in CN (tier-1, CNY, 13 % on 配件 and 6 % on the rest, prices
without tax) unless it is in 西藏 or 青海 (XZ: remote, tier "remote"); in 香港, in HK (HKD, no tax).
A technician nobody registered works in the direct mode: the standard-direct tier, which pays 60 %
of labour and 5 % of parts. Two filters and a repair (2 × 35.00 + 200.00) come to 270.00 net,
21.10 tax, 291.10 gross and a payout of 123.50.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from services.settlement.application import SettlementApplication
from services.settlement.domain.catalogue import Catalogue, Item
from services.settlement.domain.pricebook import PayoutRule, PayoutRules, PriceBook, Tier
from services.settlement.domain.regions import Region, Regions, Warehouse

ITEMS = [
    Item("part", "P-FILTER", "滤芯", "个", "配件"),
    Item("part", "P-VALVE", "阀门", "个", "配件"),
    Item("part", "P-MOTOR", "电机", "台", "配件", serial_tracked=True),
    Item("part", "P-HOSE", "软管", "米", "配件"),
    Item("labour", "L-VISIT", "上门检测", "次", "检测", standard_hours=D("1")),
    Item("labour", "L-INSTALL", "安装", "次", "安装", standard_hours=D("2")),
    Item("labour", "L-REPAIR", "维修", "次", "维修", standard_hours=D("1.5")),
]
MAINLAND_TAX = {"配件": D("0.13"), "*": D("0.06")}
REGIONS = [
    Region("CN", "中国大陆", "CNY", "tier-1", ("*",), MAINLAND_TAX, tax_inclusive=False),
    Region("XZ", "西藏青海", "CNY", "remote", ("西藏", "青海"), MAINLAND_TAX, tax_inclusive=False, remote=True),
    Region("HK", "香港", "HKD", "tier-1", ("香港",), {"*": D("0")}, tax_inclusive=True),
]
WAREHOUSES = [
    Warehouse("WH-SH", "上海中心仓", "CN", main=True),
    Warehouse("WH-XN", "西宁仓", "XZ", main=True),
    Warehouse("WH-HK", "香港仓", "HK", main=True),
]
TIERS = [
    Tier("standard-direct", "CNY", region_tier="tier-1", mode="direct"),
    Tier("standard-dealer", "CNY", region_tier="tier-1", mode="dealer"),
    Tier("remote-direct", "CNY", region_tier="remote", mode="direct"),
    Tier("hk-direct", "HKD", region="HK", mode="direct"),
]
STANDARD = {
    "P-FILTER": "35.00",
    "P-VALVE": "120.00",
    "P-MOTOR": "480.00",
    "P-HOSE": "18.50",
    "L-VISIT": "50.00",
    "L-INSTALL": "150.00",
    "L-REPAIR": "200.00",
}
PRICES = {
    "standard-direct": STANDARD,
    "standard-dealer": {
        "P-FILTER": "30.00",
        "P-VALVE": "102.00",
        "P-MOTOR": "408.00",
        "P-HOSE": "15.70",
        "L-VISIT": "42.50",
        "L-INSTALL": "127.50",
        "L-REPAIR": "170.00",
    },
    "remote-direct": {"L-VISIT": "60.00", "L-INSTALL": "180.00", "L-REPAIR": "240.00"},
    "hk-direct": {"P-FILTER": "40.00", "P-VALVE": "135.00", "L-VISIT": "60.00", "L-REPAIR": "230.00"},
}
SHARES = {"kind:labour": PayoutRule("percent", D("60")), "kind:part": PayoutRule("percent", D("5"))}
PAYOUTS = {
    "standard-direct": PayoutRules(SHARES, sla_met_bonus=D("20.00"), sla_missed_penalty=D("10.00")),
    "standard-dealer": PayoutRules(
        {
            "code:L-INSTALL": PayoutRule("fixed", D("100.00")),
            "kind:labour": PayoutRule("hourly", D("60.00")),
            "kind:part": PayoutRule("percent", D("3")),
        }
    ),
    "remote-direct": PayoutRules(SHARES, remote_surcharge=D("80.00")),
    "hk-direct": PayoutRules({"kind:labour": PayoutRule("percent", D("55"))}),
}
OPENING_STOCK = {"WH-SH": [("P-FILTER", D("100")), ("P-VALVE", D("20")), ("P-MOTOR", D("5")), ("P-HOSE", D("50"))]}
THRESHOLDS = {"WH-SH": [("P-FILTER", D("20")), ("P-MOTOR", D("2"))]}


def load(settlement: SettlementApplication, tenant: str, by: str) -> list[str]:
    """Record the example terms as `by` (effective now) and an opening stock; what was loaded."""
    settlement.change_terms(Catalogue, tenant, lambda c, since: c.save(ITEMS, since, by))

    def regions(r: Regions, since: datetime) -> None:
        for region in REGIONS:
            r.save_region(region, since, by)
        for warehouse in WAREHOUSES:
            r.save_warehouse(warehouse, since, by)
        r.set_rate("HKD", "CNY", D("0.92"), since, by)

    settlement.change_terms(Regions, tenant, regions)

    def prices(book: PriceBook, since: datetime) -> None:
        for tier in TIERS:
            book.save_tier(tier, since, by)
        book.set_prices([(t, code, D(p)) for t, codes in PRICES.items() for code, p in codes.items()], since, by)
        book.set_fallback(["standard-direct"], since, by)
        for tier, rules in PAYOUTS.items():
            book.set_payout_rules(tier, rules, since, by)

    settlement.change_terms(PriceBook, tenant, prices)

    for warehouse, items in OPENING_STOCK.items():
        settlement.change_stock(tenant, warehouse, lambda s: s.receive("example-opening-stock", items, by))
    for warehouse, thresholds in THRESHOLDS.items():
        for code, threshold in thresholds:
            settlement.change_stock(tenant, warehouse, lambda s: s.set_threshold(code, threshold, by))
    return ["catalogue", "regions", "warehouses", "exchange rates", "tiers", "prices", "payout rules", "stock"]
