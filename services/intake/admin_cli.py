"""`scrm intake region ...`: an operator teaches a tenant's place names. Each command records events in
intake's store; running web processes see them on their next request."""

from __future__ import annotations

import json

import click

from services.intake.cli import TENANT, operate


@click.group("region")
def region() -> None:
    """A tenant's own place names, mapped to region paths such as 广东/深圳/南山."""


def _names(tenant: str, change) -> None:
    from services.intake.regions import RegionNames

    names = operate(
        tenant,
        lambda intake: (
            intake.administer(RegionNames, tenant, change)
            if change
            else intake.current(RegionNames.create_id(tenant), tenant, RegionNames)
        ),
    )
    click.echo(json.dumps({"tenant": tenant, "names": names.names if names else {}}, ensure_ascii=False, indent=2))


@region.command("add")
@TENANT
@click.argument("name")
@click.argument("path")
def add(tenant: str, name: str, path: str) -> None:
    """An address containing NAME is in region PATH (the deepest matching region wins)."""
    _names(tenant, lambda names: names.add(name, path))


@region.command("remove")
@TENANT
@click.argument("name")
def remove(tenant: str, name: str) -> None:
    _names(tenant, lambda names: names.remove(name))


@region.command("show")
@TENANT
def show(tenant: str) -> None:
    """The tenant's place names (the built-in provinces and cities come on top of them)."""
    _names(tenant, None)
