"""The bodies and answers of settlement's API (marshmallow), shared by its blueprints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.contracts import SettlementDocument

from services.settlement.domain.money import MINOR_UNITS

NAME = validate.Length(min=1, max=100)
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", error="1 to 64 of A-Z, a-z, 0-9, '-', '_', '.'")
CURRENCY = validate.OneOf(list(MINOR_UNITS))
AMOUNT = {"as_string": True, "validate": validate.Range(min=0, max=10**12, max_inclusive=False)}
QUANTITY = {"as_string": True, "validate": validate.Range(min=0, min_inclusive=False, max=10**9)}


class Effective(Schema):
    effective_from = fields.AwareDateTime(
        load_default=None,
        metadata={"description": "When the change takes effect (ISO 8601 with a zone); default now, never earlier"},
    )


class At(Schema):
    at = fields.AwareDateTime(load_default=None, metadata={"description": "As of this instant; default now"})


class ItemBody(Schema):
    name = fields.String(required=True, validate=NAME)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    category = fields.String(required=True, validate=NAME, metadata={"description": "Picks tax and payout rules"})
    standard_hours = fields.Decimal(
        load_default=None,
        allow_none=True,
        **AMOUNT,
        metadata={"description": "Service items: hours one unit stands for"},
    )
    serial_tracked = fields.Boolean(load_default=False, metadata={"description": "Spare parts: serial numbers"})


class ItemView(ItemBody):
    kind = fields.String()
    code = fields.String()


class CatalogueView(Schema):
    part = fields.List(fields.Nested(ItemView), metadata={"description": "Spare parts (备件库)"})
    labour = fields.List(fields.Nested(ItemView), metadata={"description": "Service items (项目库)"})


class TierBody(Effective):
    currency = fields.String(required=True, validate=CURRENCY)
    region = fields.String(
        load_default=None, allow_none=True, validate=CODE, metadata={"description": "Only this region (its code)"}
    )
    region_tier = fields.String(
        load_default=None,
        allow_none=True,
        validate=CODE,
        metadata={"description": "Or regions of this tier: tier-1, tier-3, remote …"},
    )
    mode = fields.String(
        load_default=None,
        allow_none=True,
        validate=CODE,
        metadata={"description": "Cooperation mode: direct, dealer, partner …"},
    )


class TierView(TierBody):
    name = fields.String()


class PriceEntry(Schema):
    tier = fields.String(required=True, validate=CODE)
    code = fields.String(required=True, validate=CODE)
    price = fields.Decimal(required=True, **AMOUNT)


class PricesBody(Effective):
    prices = fields.List(fields.Nested(PriceEntry), required=True, validate=validate.Length(min=1, max=10000))


class FallbackBody(Effective):
    order = fields.List(
        fields.String(validate=CODE),
        required=True,
        validate=validate.Length(max=50),
        metadata={"description": "Tiers tried in this order when no matching tier prices a code"},
    )


class PayoutRuleBody(Schema):
    basis = fields.String(required=True, validate=validate.OneOf(["fixed", "percent", "hourly"]))
    value = fields.Decimal(
        required=True,
        **AMOUNT,
        metadata={"description": "fixed: per unit; percent: of net (60 for 60 %); hourly: per standard hour"},
    )


class PayoutRulesBody(Effective):
    lines = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^(code|category|kind):.{1,100}$")),
        values=fields.Nested(PayoutRuleBody),
        load_default=dict,
        metadata={"description": "code:<code>, category:<category> or kind:<part|labour> → rule"},
    )
    sla_met_bonus = fields.Decimal(load_default=None, allow_none=True, **AMOUNT)
    sla_missed_penalty = fields.Decimal(load_default=None, allow_none=True, **AMOUNT)
    remote_surcharge = fields.Decimal(load_default=None, allow_none=True, **AMOUNT)


class PayoutRulesView(PayoutRulesBody):
    tier = fields.String()


class PriceView(Schema):
    tier = fields.String()
    code = fields.String()
    price = fields.Decimal(as_string=True)


class PriceBookView(Schema):
    at = fields.String()
    tiers = fields.List(fields.Nested(TierView))
    fallback = fields.List(fields.String())
    prices = fields.List(fields.Nested(PriceView))
    payout_rules = fields.List(fields.Nested(PayoutRulesView))


class RegionBody(Effective):
    name = fields.String(required=True, validate=NAME)
    currency = fields.String(required=True, validate=CURRENCY)
    tier = fields.String(required=True, validate=CODE, metadata={"description": "Region tier: tier-1, remote …"})
    covers = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Ticket region paths (广东/深圳), or * for every other"},
    )
    tax = fields.Dict(
        keys=fields.String(validate=NAME),
        values=fields.Decimal(as_string=True),
        required=True,
        metadata={"description": "Line category → rate (0.13 for 13 %); * for every other category"},
    )
    tax_inclusive = fields.Boolean(required=True, metadata={"description": "Prices include tax"})
    remote = fields.Boolean(load_default=False, metadata={"description": "Earns the remote-area surcharge"})


class RegionView(RegionBody):
    code = fields.String()


class WarehouseBody(Effective):
    name = fields.String(required=True, validate=NAME)
    region = fields.String(required=True, validate=CODE)
    main = fields.Boolean(
        load_default=False,
        metadata={"description": "Parts for the region's tickets come from here (unless the technician has their own)"},
    )


class WarehouseView(WarehouseBody):
    code = fields.String()


class RateBody(Effective):
    base = fields.String(required=True, validate=CURRENCY)
    quote = fields.String(required=True, validate=CURRENCY)
    rate = fields.Decimal(
        required=True,
        as_string=True,
        metadata={"description": "1 base is worth `rate` quote"},
        validate=validate.Range(min=0, min_inclusive=False, max=10**9),
    )


class RateView(Schema):
    pair = fields.String()
    rate = fields.Decimal(as_string=True)


class CostRulesBody(Effective):
    labour = fields.String(load_default="technician", validate=validate.OneOf(["ticket", "technician", "warehouse"]))
    part = fields.String(load_default="warehouse", validate=validate.OneOf(["ticket", "technician", "warehouse"]))


class RegionsView(Schema):
    at = fields.String()
    regions = fields.List(fields.Nested(RegionView))
    warehouses = fields.List(fields.Nested(WarehouseView))
    rates = fields.List(fields.Nested(RateView))
    cost_rules = fields.Dict()


class TechnicianBody(Effective):
    mode = fields.String(load_default="direct", validate=CODE)
    party = fields.String(
        load_default=None,
        allow_none=True,
        validate=CODE,
        metadata={"description": "The dealer or partner; none: the tenant's own staff"},
    )
    home_region = fields.String(load_default=None, allow_none=True, validate=CODE)
    warehouse = fields.String(load_default=None, allow_none=True, validate=CODE)


class TechnicianView(TechnicianBody):
    staff = fields.String()


class Technicians(Schema):
    technicians = fields.List(fields.Nested(TechnicianView))


class Changed(Schema):
    changed = fields.Integer(metadata={"description": "How many entries changed"})


class LedgerView(Schema):
    ticket_id = fields.UUID()
    region = fields.String(allow_none=True, metadata={"description": "The region the ticket settles in"})
    status = fields.String(metadata={"description": "open (provisional) or settled (a statement in force)"})
    provisional = fields.Nested(
        SettlementDocument, allow_none=True, metadata={"description": "What it would settle at if it closed now"}
    )
    statements = fields.List(fields.Nested(SettlementDocument), metadata={"description": "Statements and reversals"})


class EarningLine(Schema):
    line = fields.String()
    code = fields.String()
    name = fields.String(allow_none=True)
    quantity = fields.Decimal(as_string=True)
    payout = fields.Decimal(as_string=True)
    rule = fields.Dict(allow_none=True)
    why = fields.String()


class EarningsPart(Schema):
    document = fields.String(allow_none=True)
    number = fields.Integer(allow_none=True)
    kind = fields.String()
    issued_at = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(EarningLine))
    payout = fields.Decimal(as_string=True)


class EarningsView(Schema):
    ticket_id = fields.UUID()
    technician = fields.String()
    status = fields.String()
    provisional = fields.Nested(EarningsPart, allow_none=True, metadata={"description": "While the ticket is open"})
    settled = fields.List(fields.Nested(EarningsPart), metadata={"description": "Per statement and reversal"})
    settled_total = fields.Decimal(as_string=True, metadata={"description": "What the statements pay, net"})


class PeriodQuery(Schema):
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "First day (in `zone`)"})
    to = fields.Date(required=True, metadata={"description": "Day after the last (in `zone`)"})
    zone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(max=64))
    currency = fields.String(
        load_default=None,
        validate=CURRENCY,
        metadata={"description": "Convert every row to it; default: each in its own"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


class PeriodTotal(Schema):
    currency = fields.String()
    rows = fields.Integer()
    net = fields.String()
    tax = fields.String()
    gross = fields.String()
    payout = fields.String()


class PeriodView(Schema):
    view = fields.String()
    who = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    currency = fields.String(allow_none=True)
    rows = fields.List(fields.Dict())
    totals = fields.List(fields.Nested(PeriodTotal))


class ReceiptBody(Schema):
    receipt_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Yours: the same receipt sent again counts once"},
    )
    items = fields.List(
        fields.Nested(
            Schema.from_dict(
                {
                    "code": fields.String(required=True, validate=CODE),
                    "quantity": fields.Decimal(required=True, **QUANTITY),
                }
            )
        ),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )


class ThresholdBody(Schema):
    threshold = fields.Decimal(
        required=True,
        allow_none=True,
        as_string=True,
        validate=validate.Range(min=0, max=10**9),
        metadata={"description": "Below it a procurement request goes out; null: none"},
    )


class StockPart(Schema):
    code = fields.String()
    level = fields.Decimal(as_string=True)
    threshold = fields.Decimal(as_string=True, allow_none=True)
    low = fields.Boolean()


class StockView(Schema):
    warehouse = fields.String()
    shortages = fields.Integer(metadata={"description": "Consumptions recorded while not in stock"})
    parts = fields.List(fields.Nested(StockPart))


class MovementView(Schema):
    line = fields.String()
    ticket_id = fields.String()
    code = fields.String()
    quantity = fields.Decimal(as_string=True)
    level = fields.Decimal(as_string=True)
    short = fields.Decimal(as_string=True, metadata={"description": "Consumed while not in stock (flagged)"})
    at = fields.String()


class MovementsQuery(Schema):
    short = fields.Boolean(load_default=False, metadata={"description": "Only those short of stock"})


class Movements(Schema):
    movements = fields.List(fields.Nested(MovementView))


class ExampleView(Schema):
    loaded = fields.List(fields.String())
