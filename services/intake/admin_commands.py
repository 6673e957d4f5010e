"""`scrm intake api-key ...` and `scrm intake region ...`: an operator issues a tenant's REST API
keys and teaches it place names. Each command records events in intake's store; running web
processes see them on their next request."""

from __future__ import annotations

import json
import secrets

import click

from services.intake.commands import TENANT, operate


@click.group("api-key")
def api_key() -> None:
    """A tenant's keys for the REST API (console, chat sidebar, other systems)."""


@api_key.command("create")
@TENANT
@click.option("--name", required=True, help="Who or what will use it (e.g. console, crm-sync).")
def create(tenant: str, name: str) -> None:
    """Issue a key and print it: it is shown this once, only its SHA-256 is stored."""
    from services.intake.keys import KeyRing, compose

    key_id = secrets.token_hex(6)
    key = compose(key_id, secrets.token_urlsafe(32))
    operate(tenant, lambda intake: intake.administer(KeyRing, tenant, lambda ring: ring.issue(key_id, name, key)))
    click.echo(json.dumps({"tenant": tenant, "key_id": key_id, "name": name, "key": key}, ensure_ascii=False))
    click.echo("Send it as `Authorization: Bearer <key>`. It is not shown again.", err=True)


@api_key.command("list")
@TENANT
def list_(tenant: str) -> None:
    """The tenant's keys (ids, names, when issued, whether revoked), never the keys themselves."""
    ring = operate(tenant, lambda intake: intake.key_ring(tenant))
    keys = [k.to_dict() for k in ring.keys.values()] if ring else []
    click.echo(json.dumps({"tenant": tenant, "keys": keys}, ensure_ascii=False, indent=2))


@api_key.command("revoke")
@TENANT
@click.argument("key_id")
def revoke(tenant: str, key_id: str) -> None:
    """Revoke a key: the next request with it gets 401."""
    from services.intake.keys import KeyRing

    operate(tenant, lambda intake: intake.administer(KeyRing, tenant, lambda ring: ring.revoke(key_id)))
    click.echo(json.dumps({"tenant": tenant, "key_id": key_id, "revoked": True}))


@click.group("region")
def region() -> None:
    """A tenant's own place names, mapped to region paths such as 广东/深圳/南山."""


def _names(tenant: str, change) -> None:
    from services.intake.regions import RegionNames

    names = operate(tenant, lambda intake: intake.administer(RegionNames, tenant, change) if change
                    else intake.current(RegionNames.create_id(tenant), tenant, RegionNames))
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
