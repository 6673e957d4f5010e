"""`scrm tenant ...`: an operator creates a tenant with its first administrator, and manages its API
keys; `scrm keys ...`: the keys that sign staff tokens. Workflow owns these (it owns the staff
directory); every other service learns of tenants and API keys from workflow's public events."""

from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from collections.abc import Iterator

import click

from shared.identity.principal import SCOPES


def _tenant_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from shared.tenants import SHAPE, is_tenant_id

    if not is_tenant_id(value):
        raise click.BadParameter(SHAPE, ctx, param)
    return value


TENANT = click.argument("tenant", callback=_tenant_id)


@contextmanager
def tenancy() -> Iterator:
    from shared.errors import DomainError
    from shared.identity.tokens import KeySet
    from shared.settings import Settings

    from services.workflow.bootstrap import application
    from services.workflow.tenancy import Tenancy

    settings = Settings.from_env()
    workflow = application(settings)
    try:
        yield Tenancy(workflow, KeySet.load(settings.token_keys_file))
    except DomainError as e:
        raise click.ClickException(e.message) from None
    finally:
        workflow.close()


def _echo(value: dict) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group("tenant")
def tenant() -> None:
    """Tenants (租户) and their API keys."""


@tenant.command("create")
@TENANT
@click.option("--name", required=True, help="The tenant's name, as people know it.")
@click.option("--admin", required=True, help="The staff id of its first administrator.")
@click.option(
    "--password",
    envvar="SCRM_ADMIN_PASSWORD",
    default=None,
    help="The administrator's password [default: a new one, printed once].",
)
def create(tenant: str, name: str, admin: str, password: str | None) -> None:
    """Create TENANT with its first administrator, who then signs in and sets up the rest."""
    chosen = password or secrets.token_urlsafe(12)
    with tenancy() as desk:
        desk.create_tenant(tenant, name, admin, chosen, by="operator")
    _echo({"tenant": tenant, "name": name, "admin": admin, **({} if password else {"password": chosen})})
    if not password:
        click.echo("The administrator's password is shown this once; they can change it after signing in.", err=True)


@tenant.group("api-key")
def api_key() -> None:
    """A tenant's API keys, for machine clients of every service."""


@api_key.command("create")
@TENANT
@click.option("--name", required=True, help="Who or what will use it (e.g. console, crm-sync).")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default="read",
    show_default=True,
    help="read; write (also reads); admin (also changes the tenant's set-up).",
)
def create_key(tenant: str, name: str, scope: str) -> None:
    """Issue a key and print it: it is shown this once, only its SHA-256 is stored."""
    with tenancy() as desk:
        issued, key = desk.issue_key(tenant, name, scope, by="operator")
    _echo({"tenant": tenant, **issued.to_dict(), "key": key})
    click.echo("Send it as `Authorization: Bearer <key>`. It is not shown again.", err=True)


@api_key.command("list")
@TENANT
def list_keys(tenant: str) -> None:
    """The tenant's keys (ids, names, scopes, whether revoked), never the keys themselves."""
    with tenancy() as desk:
        access = desk.access(tenant)
        _echo({"tenant": tenant, "keys": [k.to_dict() for k in access.keys.values()] if access else []})


@api_key.command("revoke")
@TENANT
@click.argument("key_id")
def revoke_key(tenant: str, key_id: str) -> None:
    """Revoke a key: workflow refuses it at once, the other services as soon as they read the event."""
    with tenancy() as desk:
        _echo({"tenant": tenant, **desk.revoke_key(tenant, key_id, by="operator").to_dict()})


@click.group("keys")
def keys() -> None:
    """The keys that sign staff tokens (a JSON Web Key Set file, SCRM_TOKEN_KEYS)."""


@keys.command("show")
def show() -> None:
    """The public keys (safe to hand to any service that only verifies tokens)."""
    from shared.identity.tokens import KeySet
    from shared.settings import Settings

    click.echo(json.dumps({"keys": list(KeySet.load(Settings.from_env().token_keys_file).public().keys)}, indent=2))


@keys.command("rotate")
def rotate() -> None:
    """Sign with a new key from now on; tokens of the old ones stay valid until they are retired."""
    from shared.identity.tokens import KeySet
    from shared.settings import Settings

    path = Settings.from_env().token_keys_file
    rotated = KeySet.load(path).rotated()
    rotated.save(path)
    click.echo(f"signing with {rotated.keys[0]['kid']}; restart the web apps to use it")


@keys.command("retire")
@click.argument("kid")
def retire(kid: str) -> None:
    """Stop accepting tokens signed with key KID (after they have expired: 15 minutes)."""
    from shared.identity.tokens import KeySet
    from shared.settings import Settings

    path = Settings.from_env().token_keys_file
    try:
        KeySet.load(path).without(kid).save(path)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"retired {kid}; restart the web apps to stop accepting it")
