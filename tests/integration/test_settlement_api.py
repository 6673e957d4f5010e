"""Settlement over its HTTP API, on SQLite and PostgreSQL, fed workflow's events by its worker:
earnings before close, statements, reversal, who may see what, stock, period statements and files."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone, UTC
from decimal import Decimal
from uuid import UUID

import pytest
from openpyxl import load_workbook

from shared.transport import Batch

from shared.persistence import outbox_reader

from services.settlement import bootstrap
from tests.integration.settlement_feed import Feed
from tests.support.identity import open_tenant, replicate, staff

FINANCE = staff("finance-1", "finance")
TICKET = UUID(int=42)


def as_(member: str) -> dict[str, str]:
    return staff(member)


class Desk:
    """Settlement's web app and workers over one store, and a feed of workflow's events starting now."""

    def __init__(self, settings):
        self.settings = settings
        open_tenant(settings)
        replicate(settings, bootstrap)  # settlement learns of the tenant from workflow
        self.web = bootstrap.web_app(settings).test_client()
        self.follower, self.keeper = bootstrap.follower(settings), bootstrap.stock_keeper(settings)
        self.feed = Feed(start=datetime.now(UTC) + timedelta(seconds=1))
        self.delivered = 0
        assert self.web.post("/v1/tenants/acme/examples", headers=FINANCE).status_code == 200

    def deliver(self) -> None:
        fresh = self.feed.envelopes[self.delivered :]
        if fresh:
            self.follower.process(Batch("workflow", fresh[-1].sequence, fresh))
            self.delivered = len(self.feed.envelopes)
        while self.keeper.run_once():
            pass

    def get(self, path: str, headers: dict, **query):
        return self.web.get(f"/v1/tenants/acme{path}", headers=headers, query_string=query)

    def published(self, type_: str) -> list:
        reader = outbox_reader("settlement", self.settings)
        try:
            return [e for e in reader.read(0, 10_000) if e.type == type_]
        finally:
            reader.close()


@pytest.fixture
def desk(settings):
    return Desk(settings)


def test_earnings_before_close_the_statement_after_it_a_reversal_and_a_new_statement(desk):
    f, t = desk.feed, TICKET
    f.opened(t, 0)
    f.work(t, 1, "part", "tech-a", [("P-FILTER", "2")])
    f.work(t, 2, "labour", "tech-a", [("L-REPAIR", "1")])
    f.work(t, 3, "labour", "tech-b", [("L-VISIT", "1")])
    desk.deliver()

    mine = desk.get(f"/tickets/{t}/earnings", as_("tech-a")).json
    # example terms: 5 % of 2 × 35.00 and 60 % of 200.00
    assert (mine["status"], mine["provisional"]["payout"], mine["settled"]) == ("open", "123.50", [])
    assert [x["code"] for x in mine["provisional"]["lines"]] == ["P-FILTER", "L-REPAIR"]
    assert desk.get(f"/tickets/{t}/earnings", as_("tech-b")).json["provisional"]["payout"] == "30.00"
    assert desk.get(f"/tickets/{t}/earnings", as_("tech-a"), technician="tech-b").status_code == 403
    assert desk.get(f"/tickets/{t}/earnings", FINANCE, technician="tech-b").json["provisional"]["payout"] == "30.00"
    assert desk.get(f"/tickets/{t}/settlement", as_("tech-a")).status_code == 403
    assert desk.get(f"/tickets/{t}/earnings", {}).status_code == 401
    assert desk.get(f"/tickets/{t}/statement", FINANCE).status_code == 404

    f.closed(t, 4, by="supervisor")
    desk.deliver()
    statement = desk.get(f"/tickets/{t}/statement", FINANCE).json
    # 70.00 + 9.10, 200.00 + 12.00, 50.00 + 3.00
    assert (statement["net"], statement["tax"], statement["gross"]) == ("320.00", "24.10", "344.10")
    assert {p["technician"]: p["total"] for p in statement["payouts"]} == {"tech-a": "123.50", "tech-b": "30.00"}
    assert desk.get(f"/tickets/{t}/earnings", as_("supervisor")).json["settled"][0]["payout"] == "0.00"

    f.reopened(t, 5)
    f.work(t, 6, "part", "tech-a", [("P-VALVE", "1")])  # 120.00: 6.00 to tech-a
    desk.deliver()
    ledger = desk.get(f"/tickets/{t}/settlement", FINANCE).json
    assert ledger["status"] == "open" and [d["kind"] for d in ledger["statements"]] == ["statement", "reversal"]
    assert ledger["provisional"]["gross"] == "479.70"  # 344.10 + 120.00 + 13 %
    f.closed(t, 7)
    desk.deliver()
    earned = desk.get(f"/tickets/{t}/earnings", as_("tech-a")).json
    assert [(s["kind"], s["payout"]) for s in earned["settled"]] == [
        ("statement", "123.50"),
        ("reversal", "-123.50"),
        ("statement", "129.50"),
    ]
    assert (earned["status"], earned["provisional"], earned["settled_total"]) == ("settled", None, "129.50")
    issued = desk.published("settlement.statement_issued")
    assert [e.data["number"] for e in issued] == [1, 3] and issued[0].subject == t
    assert [e.data["reverses"] for e in desk.published("settlement.statement_reversed")] == [statement["id"]]


def test_period_statements_as_json_csv_and_xlsx(desk):
    f = desk.feed
    for i, by in enumerate(["tech-a", "tech-a", "tech-b"]):
        ticket = UUID(int=100 + i)
        f.opened(ticket, 10 * i)
        f.work(ticket, 10 * i + 1, "labour", by, [("L-INSTALL", "1")])  # 150.00, 6 %, 90.00 to them
        f.closed(ticket, 10 * i + 2)
    desk.deliver()
    today = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).date()
    days = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=2))}

    mine = desk.get("/statements/technician/tech-a", as_("tech-a"), **days).json
    assert (mine["from"][:10], mine["to"][:10]) == (days["from"], days["to"])  # the period it covers, as asked
    assert mine["totals"] == [
        {"currency": "CNY", "rows": 2, "net": "300.00", "tax": "18.00", "gross": "318.00", "payout": "180.00"}
    ]
    assert all(r["ticket_id"] and r["source"] and r["line"] for r in mine["rows"])
    assert desk.get("/statements/technician/tech-b", as_("tech-a"), **days).status_code == 403
    assert desk.get("/statements/region/CN", as_("tech-a"), **days).status_code == 403
    region = desk.get("/statements/region/CN", FINANCE, **days, currency="HKD").json
    assert region["totals"][0]["currency"] == "HKD" and len(region["rows"]) == 3
    assert Decimal(region["rows"][0]["rate"]) == 1 / Decimal("0.92")  # the inverse of the example's HKD/CNY

    text = desk.get("/statements/technician/tech-a", as_("tech-a"), **days, format="csv")
    assert text.headers["Content-Type"].startswith("text/csv") and text.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))
    assert rows[1][:3] == ["单据", "单据类型", "单据序号"] and rows[-1][:3] == ["合计", "CNY", "2 行"]
    book = load_workbook(
        io.BytesIO(desk.get("/statements/technician/tech-a", as_("tech-a"), **days, format="xlsx").data)
    )
    sheet = book["对账单"]
    assert sheet.cell(row=2, column=1).value == "单据"
    assert Decimal(str(sheet.cell(row=sheet.max_row, column=7).value)) == Decimal("180.00")  # the payout total
    bad = desk.get("/statements/technician/tech-a", as_("tech-a"), **{"from": "2026-13-01", "to": "x"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "validation_failed"


def test_stock_moves_with_consumption_and_returns_and_runs_low_once_per_crossing(desk):
    f, t = desk.feed, TICKET
    f.opened(t, 0)
    f.work(t, 1, "part", "tech-a", [("P-FILTER", "30")])  # 100 → 70
    f.work(t, 2, "part", "tech-a", [("P-FILTER", "55")])  # 70 → 15: below 20, a procurement request
    f.work(t, 3, "part", "tech-a", [("P-FILTER", "1")])  # 14: still below, no second one
    f.work(t, 4, "return", "tech-a", [("P-FILTER", "10")])  # 24: above again
    f.work(t, 5, "part", "tech-a", [("P-FILTER", "5"), ("P-MOTOR", "7")])  # 19: a new crossing; P-MOTOR 5 → -2
    desk.deliver()
    stock = desk.get("/warehouses/WH-SH/stock", FINANCE).json
    assert {p["code"]: (p["level"], p["low"]) for p in stock["parts"]}["P-FILTER"] == ("19", True)
    lows = desk.published("settlement.stock_low")
    assert [(e.data["code"], e.data["level"]) for e in lows] == [
        ("P-FILTER", "15"),
        ("P-FILTER", "19"),
        ("P-MOTOR", "-2"),
    ]
    short = desk.get("/warehouses/WH-SH/movements", FINANCE, short="true").json["movements"]
    assert [(m["code"], m["quantity"], m["level"], m["short"]) for m in short] == [("P-MOTOR", "-7", "-2", "2")]
    assert stock["shortages"] == 1

    received = desk.web.post(
        "/v1/tenants/acme/warehouses/WH-SH/receipts",
        headers=FINANCE,
        json={"receipt_id": "po-1", "items": [{"code": "P-FILTER", "quantity": "50"}]},
    )
    assert received.status_code == 200
    again = desk.web.post(
        "/v1/tenants/acme/warehouses/WH-SH/receipts",
        headers=FINANCE,
        json={"receipt_id": "po-1", "items": [{"code": "P-FILTER", "quantity": "50"}]},
    )
    assert {p["code"]: p["level"] for p in again.json["parts"]}["P-FILTER"] == "69"  # counted once
    unknown = desk.web.post(
        "/v1/tenants/acme/warehouses/WH-SH/receipts",
        headers=FINANCE,
        json={"receipt_id": "po-2", "items": [{"code": "P-NOPE", "quantity": "1"}]},
    )
    assert unknown.status_code == 400 and unknown.json["error"]["details"]["codes"] == ["P-NOPE"]
    assert (
        desk.web.post(
            "/v1/tenants/acme/warehouses/WH-ZZ/receipts",
            headers=FINANCE,
            json={"receipt_id": "x", "items": [{"code": "P-FILTER", "quantity": "1"}]},
        ).status_code
        == 404
    )


def test_terms_change_from_a_later_instant_never_an_earlier_one(desk):
    soon = desk.feed.start + timedelta(minutes=30)
    prices = {"prices": [{"tier": "standard-direct", "code": "P-FILTER", "price": "40.00"}]}
    past = desk.web.post(
        "/v1/tenants/acme/price-book/prices",
        headers=FINANCE,
        json={**prices, "effective_from": "2020-01-01T00:00:00+00:00"},
    )
    assert past.status_code == 400 and "from when it is recorded" in past.json["error"]["message"]
    assert desk.web.post(
        "/v1/tenants/acme/price-book/prices", headers=FINANCE, json={**prices, "effective_from": soon.isoformat()}
    ).json == {"changed": 1}
    f, t = desk.feed, TICKET
    f.opened(t, 0)
    f.work(t, 10, "part", "tech-a", [("P-FILTER", "1")])  # before the change: 35.00
    f.work(t, 40, "part", "tech-a", [("P-FILTER", "1")])  # after it: 40.00
    f.closed(t, 50)
    desk.deliver()
    lines = desk.get(f"/tickets/{t}/statement", FINANCE).json["lines"]
    assert [x["unit_price"] for x in lines] == ["35.00", "40.00"]
    book = desk.get("/price-book", FINANCE, at=(soon + timedelta(minutes=1)).isoformat()).json
    assert {(p["tier"], p["code"]): p["price"] for p in book["prices"]}[("standard-direct", "P-FILTER")] == "40.00"
    assert desk.get("/price-book", as_("tech-a")).status_code == 403


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/price-book/tiers/t-x", {"currency": "XXX"}, 400),
        ("/price-book/prices", {"prices": [{"tier": "nope", "code": "P-FILTER", "price": "1"}]}, 400),
        (
            "/regions/HK2",
            {"name": "x", "currency": "HKD", "tier": "t", "covers": ["香港"], "tax": {"*": "0"}, "tax_inclusive": True},
            409,
        ),  # 香港 is HK's already
        (
            "/regions/HK",
            {"name": "x", "currency": "CNY", "tier": "t", "covers": ["香港"], "tax": {"*": "0"}, "tax_inclusive": True},
            409,
        ),  # a region keeps its currency
        (
            "/regions/NEW",
            {
                "name": "x",
                "currency": "CNY",
                "tier": "t",
                "covers": ["澳门"],
                "tax": {"配件": "0.13"},
                "tax_inclusive": True,
            },
            400,
        ),  # no "*" rate
        ("/technicians/t-1", {"mode": "bad mode"}, 400),
        (
            "/price-book/payout-rules/standard-direct",
            {"lines": {"kind:labour": {"basis": "percent", "value": "120"}}},
            400,
        ),
    ],
)
def test_bad_terms_are_refused_with_a_4xx_that_says_why(desk, path, body, status):
    answer = (
        desk.web.put(f"/v1/tenants/acme{path}", headers=FINANCE, json=body)
        if "prices" not in path
        else desk.web.post(f"/v1/tenants/acme{path}", headers=FINANCE, json=body)
    )
    assert answer.status_code == status, answer.json
    assert answer.json["error"]["message"]
