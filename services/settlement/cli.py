"""`scrm settlement ...`: a tenant's settlement terms from the shell, as finance sets them up over the API:
the example terms, a price book imported from CSV or XLSX, tiers, regions, warehouses, exchange
rates, payout rules, technicians; and a period statement written to a file."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from collections.abc import Iterator

import click

TENANT = click.argument("tenant")
BY = click.option("--by", default="operator", show_default=True, help="Who makes the change (recorded with it).")
EFFECTIVE = click.option(
    "--effective-from",
    "effective",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="When it takes effect, e.g. 2026-07-01T00:00:00+0800 (default now; never earlier).",
)


@contextmanager
def _settlement() -> Iterator:
    from shared.errors import DomainError
    from shared.settings import Settings

    from services.settlement.bootstrap import application

    app = application(Settings.from_env())
    try:
        yield app
    except DomainError as e:
        details = f" {e.details}" if e.details else ""
        raise click.ClickException(f"{e.message}{details}") from None
    finally:
        app.close()


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:
        raise click.BadParameter(f"{text!r} is not a number", param_hint=what) from None


@click.command("load-example")
@TENANT
@BY
def load_example(tenant: str, by: str) -> None:
    """The example terms for TENANT: catalogue, regions, warehouses, tiers, prices, payout rules, stock."""
    from services.settlement import examples

    with _settlement() as app:
        click.echo(f"loaded: {', '.join(examples.load(app, tenant, by))}")


@click.command("import")
@TENANT
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@EFFECTIVE
@BY
def import_price_book(tenant: str, path: Path, effective: datetime | None, by: str) -> None:
    """Import a price book (catalogue entries and prices per tier) from a CSV or XLSX file. Every row is
    checked first; then the catalogue and the prices are each recorded at once, all from the same instant."""
    from tqdm import tqdm

    from services.settlement.domain.catalogue import Catalogue
    from services.settlement.domain.pricebook import PriceBook
    from services.settlement.imports import read

    with tqdm(unit="row", desc=f"reading {path.name}") as bar:
        found = read(path, lambda: bar.update())
    with _settlement() as app:
        known = app.terms(tenant).prices
        found.problems += [
            f"no tier {t!r} (define it first)"
            for t in sorted({t for t, _, _ in found.prices})
            if known.tier(t, effective or app.clock()) is None
        ]
        if found.problems:
            raise click.ClickException("nothing imported:\n  " + "\n  ".join(found.problems[:50]))
        if found.items:
            saved = app.change_terms(Catalogue, tenant, lambda c, since: c.save(found.items, since, by))
            click.echo(f"catalogue: {saved} of {len(found.items)} items new or changed")
        if found.prices:
            priced = app.change_terms(
                PriceBook, tenant, lambda b, since: b.set_prices(found.prices, since, by), effective
            )
            click.echo(f"prices: {priced} set, from {(effective or app.clock()).isoformat(timespec='seconds')}")


@click.command("tier")
@TENANT
@click.argument("name")
@click.option("--currency", required=True)
@click.option("--region", default=None, help="Only this region (its code).")
@click.option("--region-tier", default=None, help="Or every region of this tier (tier-1, remote …).")
@click.option("--mode", default=None, help="The cooperation mode of who does the work (direct, dealer …).")
@EFFECTIVE
@BY
def tier(
    tenant: str,
    name: str,
    currency: str,
    region: str | None,
    region_tier: str | None,
    mode: str | None,
    effective: datetime | None,
    by: str,
) -> None:
    """Define or change a price tier."""
    from services.settlement.domain.pricebook import PriceBook, Tier

    with _settlement() as app:
        chosen = Tier(name, currency, region=region, region_tier=region_tier, mode=mode)
        app.change_terms(PriceBook, tenant, lambda b, since: b.save_tier(chosen, since, by), effective)
        click.echo(f"tier {name}: {chosen.selectors()}, {currency}")


@click.command("fallback")
@TENANT
@click.argument("tiers", nargs=-1, required=True)
@EFFECTIVE
@BY
def fallback(tenant: str, tiers: tuple[str, ...], effective: datetime | None, by: str) -> None:
    """The tiers tried, in this order, when no matching tier prices a code."""
    from services.settlement.domain.pricebook import PriceBook

    with _settlement() as app:
        app.change_terms(PriceBook, tenant, lambda b, since: b.set_fallback(list(tiers), since, by), effective)
        click.echo(f"fallback: {' → '.join(tiers)}")


@click.command("payout-rules")
@TENANT
@click.argument("tier_name", metavar="TIER")
@click.option(
    "--line",
    "lines",
    multiple=True,
    metavar="KEY=BASIS:VALUE",
    help="e.g. code:L-INSTALL=fixed:80, category:维修=hourly:45, kind:part=percent:5 (repeat).",
)
@click.option("--sla-met-bonus", default=None)
@click.option("--sla-missed-penalty", default=None)
@click.option("--remote-surcharge", default=None)
@EFFECTIVE
@BY
def payout_rules(
    tenant: str,
    tier_name: str,
    lines: tuple[str, ...],
    sla_met_bonus: str | None,
    sla_missed_penalty: str | None,
    remote_surcharge: str | None,
    effective: datetime | None,
    by: str,
) -> None:
    """A tier's payout rules (they replace the tier's rules as a whole)."""
    from services.settlement.domain.pricebook import PayoutRule, PayoutRules, PriceBook

    parsed = {}
    for line in lines:
        key, _, rule = line.partition("=")
        basis, _, value = rule.partition(":")
        if not key or not basis or not value:
            raise click.BadParameter(f"{line!r}: say KEY=BASIS:VALUE", param_hint="--line")
        parsed[key] = (basis, _decimal(value, "--line"))
    adjustments = {
        name: None if value is None else _decimal(value, name)
        for name, value in (
            ("sla_met_bonus", sla_met_bonus),
            ("sla_missed_penalty", sla_missed_penalty),
            ("remote_surcharge", remote_surcharge),
        )
    }
    with _settlement() as app:
        rules = PayoutRules({key: PayoutRule(basis, value) for key, (basis, value) in parsed.items()}, **adjustments)
        app.change_terms(PriceBook, tenant, lambda b, since: b.set_payout_rules(tier_name, rules, since, by), effective)
        click.echo(f"payout rules of {tier_name}: {len(parsed)} line rule(s)")


@click.command("region")
@TENANT
@click.argument("code")
@click.option("--name", required=True)
@click.option("--currency", required=True)
@click.option("--tier", "region_tier", required=True, help="The region tier (tier-1, remote …).")
@click.option("--covers", multiple=True, required=True, help="A ticket region path (广东/深圳), or * (repeat).")
@click.option(
    "--tax",
    "taxes",
    multiple=True,
    required=True,
    metavar="CATEGORY=RATE",
    help="e.g. 配件=0.13 and *=0.06 for every other category (repeat).",
)
@click.option("--inclusive/--exclusive", default=False, help="Prices include tax, or not.")
@click.option("--remote", is_flag=True, help="Work here earns the remote-area surcharge.")
@EFFECTIVE
@BY
def region(
    tenant: str,
    code: str,
    name: str,
    currency: str,
    region_tier: str,
    covers: tuple[str, ...],
    taxes: tuple[str, ...],
    inclusive: bool,
    remote: bool,
    effective: datetime | None,
    by: str,
) -> None:
    """Define or change a region: currency, tax per line category, what it covers."""
    from services.settlement.domain.regions import Region, Regions

    tax = {}
    for entry in taxes:
        category, _, rate = entry.partition("=")
        tax[category] = _decimal(rate, "--tax")
    with _settlement() as app:
        defined = Region(code, name, currency, region_tier, covers, tax, inclusive, remote)
        app.change_terms(Regions, tenant, lambda r, since: r.save_region(defined, since, by), effective)
        click.echo(f"region {code}: {currency}, covers {', '.join(covers)}")


@click.command("warehouse")
@TENANT
@click.argument("code")
@click.option("--name", required=True)
@click.option("--region", "region_code", required=True)
@click.option("--main", is_flag=True, help="Parts for the region's tickets come from here.")
@EFFECTIVE
@BY
def warehouse(
    tenant: str, code: str, name: str, region_code: str, main: bool, effective: datetime | None, by: str
) -> None:
    """Define or change a warehouse."""
    from services.settlement.domain.regions import Regions, Warehouse

    with _settlement() as app:
        defined = Warehouse(code, name, region_code, main)
        app.change_terms(Regions, tenant, lambda r, since: r.save_warehouse(defined, since, by), effective)
        click.echo(f"warehouse {code} in {region_code}{' (main)' if main else ''}")


@click.command("rate")
@TENANT
@click.argument("base")
@click.argument("quote")
@click.argument("rate")
@EFFECTIVE
@BY
def rate(tenant: str, base: str, quote: str, rate: str, effective: datetime | None, by: str) -> None:
    """An exchange rate: 1 BASE is worth RATE QUOTE (HKD CNY 0.92)."""
    from services.settlement.domain.regions import Regions

    value = _decimal(rate, "RATE")
    with _settlement() as app:
        app.change_terms(Regions, tenant, lambda r, since: r.set_rate(base, quote, value, since, by), effective)
        click.echo(f"1 {base} = {value} {quote}")


@click.command("technician")
@TENANT
@click.argument("staff")
@click.option("--mode", default="direct", show_default=True, help="Cooperation mode: direct, dealer, partner …")
@click.option("--party", default=None, help="The dealer or partner they work for.")
@click.option("--home-region", default=None)
@click.option("--warehouse", "own_warehouse", default=None)
@EFFECTIVE
@BY
def technician(
    tenant: str,
    staff: str,
    mode: str,
    party: str | None,
    home_region: str | None,
    own_warehouse: str | None,
    effective: datetime | None,
    by: str,
) -> None:
    """Register a technician or change how they work."""
    from services.settlement.domain.parties import Parties, Technician

    with _settlement() as app:
        registered = Technician(staff, mode, party, home_region, own_warehouse)
        app.change_terms(Parties, tenant, lambda p, since: p.save(registered, since, by), effective)
        click.echo(f"technician {staff}: {mode}{f' for {party}' if party else ''}")


@click.command("statement")
@TENANT
@click.argument("view", type=click.Choice(["technician", "party", "region"]))
@click.argument("who")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The day after the last.")
@click.option("--zone", default="Asia/Shanghai", show_default=True)
@click.option("--currency", default=None, help="Convert every row to this currency.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="A .csv or .xlsx file.")
def statement(
    tenant: str, view: str, who: str, start: datetime, end: datetime, zone: str, currency: str | None, output: Path
) -> None:
    """A period statement (对账单) per technician, party or region, to a CSV or XLSX file."""
    from zoneinfo import ZoneInfo

    from services.settlement.export import export

    form = output.suffix.lower().lstrip(".")
    if form not in ("csv", "xlsx"):
        raise click.BadParameter("write a .csv or an .xlsx file", param_hint="--output")
    with _settlement() as app:
        local = ZoneInfo(zone)
        found = app.period(tenant, view, who, start.replace(tzinfo=local), end.replace(tzinfo=local), currency)
    output.write_bytes(export(found, form))
    click.echo(f"{len(found['rows'])} rows to {output}")


COMMANDS = (
    load_example,
    import_price_book,
    tier,
    fallback,
    payout_rules,
    region,
    warehouse,
    rate,
    technician,
    statement,
)
