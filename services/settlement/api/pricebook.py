"""The price book: tiers (多档位), prices, the fallback order, payout rules. Finance and admin only."""

from __future__ import annotations

from decimal import Decimal

from shared.restapi import Blueprint

from services.settlement.api.identity import finance
from services.settlement.api.schemas import (
    At,
    Changed,
    FallbackBody,
    PayoutRulesBody,
    PayoutRulesView,
    PriceBookView,
    PricesBody,
    TierBody,
    TierView,
)
from services.settlement.application import SettlementApplication
from services.settlement.domain.pricebook import PayoutRule, PayoutRules, PriceBook, Tier

BASE = "/v1/tenants/<tenant>/price-book"


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("price-book", __name__, description="Tiers, prices, the fallback order and payout rules")

    @blp.route(BASE, methods=["GET"])
    @blp.arguments(At, location="query")
    @blp.response(200, PriceBookView)
    def price_book(query: dict, tenant: str):
        """The price book in force at an instant (default now)"""
        finance()
        at = query["at"] or settlement.clock()
        book = settlement.terms(tenant).prices
        return {
            "at": at.isoformat(),
            "tiers": [t.to_dict() for t in book.tiers(at)],
            "fallback": list(book.fallback(at)),
            "prices": [
                {"tier": key.split(" ")[0], "code": key.split(" ")[1], "price": price}
                for key, price in book.in_force("price", at).items()
            ],
            "payout_rules": [{"tier": tier, **rules.to_dict()} for tier, rules in book.in_force("payout", at).items()],
        }

    @blp.route(BASE + "/tiers/<name>", methods=["PUT"])
    @blp.arguments(TierBody)
    @blp.response(200, TierView)
    def save_tier(body: dict, tenant: str, name: str):
        """Define or change a tier"""
        by, effective = finance().staff, body.pop("effective_from")
        tier = Tier(name=name, **body)
        settlement.change_terms(PriceBook, tenant, lambda b, since: b.save_tier(tier, since, by), effective)
        return tier.to_dict()

    @blp.route(BASE + "/prices", methods=["POST"])
    @blp.arguments(PricesBody)
    @blp.response(200, Changed)
    def set_prices(body: dict, tenant: str):
        """Set unit prices (tier, code, price), all effective at once"""
        by = finance().staff
        prices = [(p["tier"], p["code"], p["price"]) for p in body["prices"]]
        changed = settlement.change_terms(
            PriceBook, tenant, lambda b, since: b.set_prices(prices, since, by), body["effective_from"]
        )
        return {"changed": changed}

    @blp.route(BASE + "/fallback", methods=["PUT"])
    @blp.arguments(FallbackBody)
    @blp.response(200, FallbackBody)
    def set_fallback(body: dict, tenant: str):
        """The tiers tried, in order, when no matching tier prices a code"""
        by = finance().staff
        settlement.change_terms(
            PriceBook, tenant, lambda b, since: b.set_fallback(body["order"], since, by), body["effective_from"]
        )
        return body

    @blp.route(BASE + "/payout-rules/<tier>", methods=["PUT"])
    @blp.arguments(PayoutRulesBody)
    @blp.response(200, PayoutRulesView)
    def set_payout_rules(body: dict, tenant: str, tier: str):
        """A tier's payout rules: per line (fixed, percent, hourly) and per ticket (bonus, penalty, surcharge)"""
        by, effective = finance().staff, body.pop("effective_from")
        rules = PayoutRules(
            lines={k: PayoutRule(**r) for k, r in body.pop("lines").items()},
            **{k: v if v is None else Decimal(v) for k, v in body.items()},
        )
        settlement.change_terms(
            PriceBook, tenant, lambda b, since: b.set_payout_rules(tier, rules, since, by), effective
        )
        return {"tier": tier, **rules.to_dict()}

    return blp
