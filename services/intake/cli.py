"""`scrm intake tenant ...`: an operator sets up a tenant's channels and routes.

Each command records an event on the tenant's settings in intake's store; running web
processes see it on their next callback (their cache follows the settings' version).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from collections.abc import Callable

import click

TENANT = click.argument("tenant")
CHANNEL = click.option(
    "--channel",
    type=click.Choice(["wecom", "mp"]),
    required=True,
    help="wecom: the WeCom self-built app; mp: the official account (公众号).",
)


@click.group("tenant")
def tenant() -> None:
    """A tenant's channel credentials and routing (keyword / menu key -> template)."""


def operate(tenant_name: str, action: Callable):
    """Run `action(intake)` on intake's store for an operator; a refusal is a clean CLI error."""
    from shared.errors import DomainError
    from shared.secrets import SecretsUnavailable
    from shared.settings import Settings

    from services.intake.bootstrap import application
    from shared.tenants import SHAPE, is_tenant_id

    if not is_tenant_id(tenant_name):
        raise click.BadParameter(SHAPE, param_hint="TENANT")
    intake = application(Settings.from_env())
    try:
        return action(intake)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    except SecretsUnavailable as e:
        raise click.ClickException(str(e)) from None
    finally:
        intake.close()


def _configure(tenant_name: str, change: Callable | None) -> None:
    """Apply `change(settings, box)` to the tenant's settings (None: only show them) and print them; `box`
    seals secrets (shared/secrets.py)."""

    def act(intake):
        if change:
            intake.configure(tenant_name, lambda s: change(s, intake.secrets))
        return intake.channel_settings(tenant_name)

    settings = operate(tenant_name, act)
    if settings is None:
        raise click.ClickException(f"{tenant_name} has no channel settings yet")
    click.echo(json.dumps(_shown(settings), ensure_ascii=False, indent=2))


def _shown(settings) -> dict:
    """What an operator may see: secrets masked, never whole."""
    from shared.secrets import masked as masked_secret
    from services.intake.tenant import SECRETS

    def masked(creds) -> dict | None:
        if creds is None:
            return None
        return {k: (masked_secret(v) if k in SECRETS and v else v) for k, v in asdict(creds).items() if k != "sealed"}

    return {
        "tenant": settings.tenant,
        "version": settings.version,
        "wecom": masked(settings.wecom),
        "mp": masked(settings.official_account),
        "default_template": settings.default_template,
        "routes": [{"channel": c, trigger: key, "template": t} for (c, trigger, key), t in settings.routes.items()],
    }


@tenant.command("wecom")
@TENANT
@click.option("--token", required=True, help="The Token set on the app's 接收消息 page.")
@click.option("--aes-key", required=True, help="The EncodingAESKey (43 characters).")
@click.option("--corp-id", required=True, help="The CorpID (企业ID).")
@click.option("--agent-id", required=True, help="The app's AgentID.")
def wecom(tenant: str, token: str, aes_key: str, corp_id: str, agent_id: str) -> None:
    """Set the WeCom self-built app's callback credentials."""
    _configure(tenant, lambda s, box: s.configure_wecom(token, aes_key, corp_id, agent_id, seal=box.seal))


@tenant.command("mp")
@TENANT
@click.option("--app-id", required=True, help="The official account's AppID.")
@click.option("--token", required=True, help="The Token set in 基本配置 / 服务器配置.")
@click.option("--aes-key", default=None, help="The EncodingAESKey (needed in safe mode).")
@click.option(
    "--mode",
    type=click.Choice(["plain", "safe"]),
    default="safe",
    show_default=True,
    help="Message encryption: plain (明文) or safe (安全模式).",
)
@click.option("--account", default=None, help="The 原始ID (gh_...): messages to another account are refused.")
def mp(tenant: str, app_id: str, token: str, aes_key: str | None, mode: str, account: str | None) -> None:
    """Set the official account server's credentials."""
    _configure(
        tenant, lambda s, box: s.configure_official_account(app_id, token, aes_key, mode, account, seal=box.seal)
    )


def _trigger(keyword: str | None, menu: str | None) -> tuple[str, str]:
    if bool(keyword) == bool(menu):
        raise click.UsageError("give either --keyword or --menu")
    return ("keyword", keyword) if keyword else ("menu", menu)


@tenant.command("route")
@TENANT
@CHANNEL
@click.option("--keyword", default=None, help="A text containing it goes to the template (e.g. 报修).")
@click.option("--menu", default=None, help="A menu click with this EventKey goes to the template.")
@click.option("--template", required=True, help="The template key.")
def route(tenant: str, channel: str, keyword: str | None, menu: str | None, template: str) -> None:
    """Route a keyword or a menu key of a channel to a template (the longest keyword wins)."""
    trigger, key = _trigger(keyword, menu)
    _configure(tenant, lambda s, _: s.set_route(channel, trigger, key, template))


@tenant.command("unroute")
@TENANT
@CHANNEL
@click.option("--keyword", default=None)
@click.option("--menu", default=None)
def unroute(tenant: str, channel: str, keyword: str | None, menu: str | None) -> None:
    """Remove a route; its messages go to the default template again."""
    trigger, key = _trigger(keyword, menu)
    _configure(tenant, lambda s, _: s.remove_route(channel, trigger, key))


@tenant.command("default-template")
@TENANT
@click.argument("template")
def default_template(tenant: str, template: str) -> None:
    """The template for messages no route matches (initially "default")."""
    _configure(tenant, lambda s, _: s.set_default_template(template))


@tenant.command("show")
@TENANT
def show(tenant: str) -> None:
    """Print the tenant's settings (secrets masked)."""
    _configure(tenant, None)


@tenant.command("rotate-secrets")
@TENANT
def rotate_secrets(tenant: str) -> None:
    """Seal the tenant's channel secrets again with the newest key (the first in SCRM_SECRET_KEYS),
    those recorded in the clear before sealing too."""
    _configure(tenant, lambda s, box: s.rotate_secrets(box.seal, box.rotate))
