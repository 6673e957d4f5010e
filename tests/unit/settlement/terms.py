"""The terms the golden tests are worked out under (figures by hand in each test).

Catalogue: P-FILTER 滤芯 and P-MOTOR 电机 (category 配件), L-INSTALL 安装 (2 standard hours),
L-REPAIR 维修 (1.5 standard hours), L-CHECK 检测 (category 检测).

Regions (tax 13 % on 配件, 6 % on everything else unless said otherwise):
  HB 华北  CNY  tier-1  北京, 天津          tax-exclusive
  HN 华南  CNY  tier-1  广东                tax-inclusive
  XB 西部  CNY  tier-3  * (everything else) tax-exclusive, remote
  HK 香港  HKD  tier-1  香港                no tax, tax-inclusive
Warehouses: WH-BJ in HB, WH-GZ in HN.

Tiers and prices (CNY unless said):
               P-FILTER  P-MOTOR  L-INSTALL  L-REPAIR  L-CHECK
  t1-direct      35.00   480.00     150.00    200.00     0.75
  t1-dealer      30.00                120.00    160.00
  t3-direct      38.00                180.00    230.00
  t3-dealer      33.00                          190.00
  hk-direct (HK, HKD) 40.00                     220.00
Fallback order: t3-dealer, t3-direct.

Technicians: tech-direct (direct, home HB, WH-BJ), tech-dealer (dealer, party dealer-a, home HB),
tech-partner (partner, party partner-b, home XB), tech-travel (direct, home XB, WH-GZ),
tech-hk (direct, home HK).
"""

from __future__ import annotations

from datetime import datetime, timezone, UTC
from decimal import Decimal as D

from services.settlement.domain.catalogue import Catalogue, Item
from services.settlement.domain.parties import Parties, Technician
from services.settlement.domain.pricebook import PayoutRule, PayoutRules, PriceBook, Tier
from services.settlement.domain.regions import Region, Regions, Warehouse
from services.settlement.domain.terms import Terms

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TENANT = "acme"
BY = "finance-1"
TAX = {"配件": D("0.13"), "*": D("0.06")}


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def catalogue() -> Catalogue:
    c = Catalogue(tenant=TENANT)
    c.save(
        [
            Item("part", "P-FILTER", "滤芯", "个", "配件"),
            Item("part", "P-MOTOR", "电机", "个", "配件", serial_tracked=True),
            Item("labour", "L-INSTALL", "安装", "次", "安装", standard_hours=D("2")),
            Item("labour", "L-REPAIR", "维修", "次", "维修", standard_hours=D("1.5")),
            Item("labour", "L-CHECK", "检测", "次", "检测"),
        ],
        T0,
        BY,
    )
    return c


def regions() -> Regions:
    r = Regions(tenant=TENANT)
    r.save_region(Region("HB", "华北", "CNY", "tier-1", ("北京", "天津"), TAX, tax_inclusive=False), T0, BY)
    r.save_region(Region("HN", "华南", "CNY", "tier-1", ("广东",), TAX, tax_inclusive=True), T0, BY)
    r.save_region(Region("XB", "西部", "CNY", "tier-3", ("*",), TAX, tax_inclusive=False, remote=True), T0, BY)
    r.save_region(Region("HK", "香港", "HKD", "tier-1", ("香港",), {"*": D("0")}, tax_inclusive=True), T0, BY)
    r.save_warehouse(Warehouse("WH-BJ", "北京仓", "HB", main=True), T0, BY)
    r.save_warehouse(Warehouse("WH-GZ", "广州仓", "HN"), T0, BY)
    r.set_rate("HKD", "CNY", D("0.92"), T0, BY)
    return r


PRICES = {
    "t1-direct": {
        "P-FILTER": "35.00",
        "P-MOTOR": "480.00",
        "L-INSTALL": "150.00",
        "L-REPAIR": "200.00",
        "L-CHECK": "0.75",
    },
    "t1-dealer": {"P-FILTER": "30.00", "L-INSTALL": "120.00", "L-REPAIR": "160.00"},
    "t3-direct": {"P-FILTER": "38.00", "L-INSTALL": "180.00", "L-REPAIR": "230.00"},
    "t3-dealer": {"P-FILTER": "33.00", "L-REPAIR": "190.00"},
    "hk-direct": {"P-FILTER": "40.00", "L-REPAIR": "220.00"},
}


def price_book() -> PriceBook:
    p = PriceBook(tenant=TENANT)
    for name, region_tier, mode in (
        ("t1-direct", "tier-1", "direct"),
        ("t1-dealer", "tier-1", "dealer"),
        ("t3-direct", "tier-3", "direct"),
        ("t3-dealer", "tier-3", "dealer"),
    ):
        p.save_tier(Tier(name, "CNY", region_tier=region_tier, mode=mode), T0, BY)
    p.save_tier(Tier("hk-direct", "HKD", region="HK", mode="direct"), T0, BY)
    p.set_prices([(tier, code, D(price)) for tier, codes in PRICES.items() for code, price in codes.items()], T0, BY)
    p.set_fallback(["t3-dealer", "t3-direct"], T0, BY)
    percent = PayoutRules(
        lines={"kind:labour": PayoutRule("percent", D("60")), "kind:part": PayoutRule("percent", D("5"))}
    )
    for tier in ("t1-direct", "t1-dealer", "t3-dealer", "hk-direct"):
        p.set_payout_rules(tier, percent, T0, BY)
    p.set_payout_rules(
        "t3-direct",
        PayoutRules(
            lines={
                "code:L-INSTALL": PayoutRule("fixed", D("80.00")),
                "category:维修": PayoutRule("hourly", D("45.00")),
                "kind:part": PayoutRule("percent", D("5")),
            },
            sla_met_bonus=D("30.00"),
            sla_missed_penalty=D("20.00"),
            remote_surcharge=D("50.00"),
        ),
        T0,
        BY,
    )
    return p


def parties() -> Parties:
    p = Parties(tenant=TENANT)
    for technician in (
        Technician("tech-direct", "direct", home_region="HB", warehouse="WH-BJ"),
        Technician("tech-dealer", "dealer", party="dealer-a", home_region="HB"),
        Technician("tech-partner", "partner", party="partner-b", home_region="XB"),
        Technician("tech-travel", "direct", home_region="XB", warehouse="WH-GZ"),
        Technician("tech-hk", "direct", home_region="HK"),
    ):
        p.save(technician, T0, BY)
    return p


def terms() -> Terms:
    return Terms(catalogue(), price_book(), regions(), parties())
