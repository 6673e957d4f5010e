"""`scrm notify ...`: an operator's view of notify's dead letters and a tenant's set-up (the same
commands as the HTTP API, on notify's store). Every command prints JSON."""

from __future__ import annotations

import json
from typing import Any
from collections.abc import Callable

import click

TENANT = click.argument("tenant")
SCOPE = [
    click.option("--template", default="*", show_default=True, help="A template key, or * for any."),
    click.option("--node", default="*", show_default=True, help="A node key of that template, or * for any."),
]
OPERATOR = "operator"  # who the events say made the change


def _scoped(f):
    for option in reversed(SCOPE):
        f = option(f)
    return f


def operate(action: Callable[[Any], Any]) -> Any:
    from shared.errors import DomainError
    from shared.secrets import SecretsUnavailable
    from shared.settings import Settings

    from services.notify.bootstrap import application

    notify = application(Settings.from_env())
    try:
        return action(notify)
    except (DomainError, SecretsUnavailable) as e:
        raise click.ClickException(getattr(e, "message", str(e))) from None
    finally:
        notify.close()


def _echo(value: Any) -> None:
    from shared.jsonable import plain

    click.echo(json.dumps(plain(value), ensure_ascii=False, indent=2))


@click.group("dead-letters")
def dead_letters() -> None:
    """Deliveries that failed for good (wrong credentials, retries used up, no address)."""


@dead_letters.command("list")
@TENANT
def list_dead(tenant: str) -> None:
    """The tenant's dead letters with why each failed."""
    _echo(operate(lambda n: [d.to_dict() for d in n.dead_letters(tenant)]))


@dead_letters.command("retry")
@TENANT
@click.argument("ids", nargs=-1)
def retry_dead(tenant: str, ids: tuple[str, ...]) -> None:
    """Try dead letters again (all of the tenant's, or those named), once the cause is fixed."""
    from uuid import UUID

    def redrive(notify) -> list[str]:
        chosen = [d.id for d in notify.dead_letters(tenant) if not ids or str(d.id) in ids]
        return [str(notify.redrive(tenant, id_, OPERATOR).id) for id_ in chosen]

    _echo({"redriven": operate(redrive)} if not ids or all(UUID(i) for i in ids) else {})


@click.group("setup")
def setup() -> None:
    """A tenant's notify set-up: rules, message templates, quiet hours, links, accounts."""


def _change(tenant: str, change: Callable) -> None:
    _echo(
        operate(
            lambda n: {
                "rules": (s := n.change_setup(tenant, change)).rules,
                "templates": s.templates,
                "quiet_hours": s.quiet,
                "links": s.links,
                "groups": s.groups,
            }
        )
    )


@setup.command("show")
@TENANT
def show(tenant: str) -> None:
    """The tenant's set-up (secrets masked)."""
    from shared.secrets import SecretBox

    box = SecretBox.from_env()
    _echo(
        operate(
            lambda n: {
                "rules": (s := n.setup(tenant)).rules,
                "templates": s.templates,
                "quiet_hours": s.quiet,
                "links": s.links,
                "groups": s.groups,
                "accounts": n.providers(tenant).shown(box.open),
            }
        )
    )


@setup.command("rule")
@TENANT
@click.argument("kind")
@_scoped
@click.option("--enabled/--disabled", default=True)
@click.option("--urgent/--not-urgent", default=None, help="Sent in quiet hours too (default: as the kind is).")
def rule(tenant: str, kind: str, template: str, node: str, enabled: bool, urgent: bool | None) -> None:
    """Switch a kind of message (assigned, pool, sla_breached, accepted, …) on or off."""
    from services.notify.setup import Rule

    _change(tenant, lambda s: s.set_rule(kind, template, node, Rule(enabled, urgent), OPERATOR))


@setup.command("message")
@TENANT
@click.argument("kind")
@click.argument("channel")
@_scoped
@click.option("--title", default=None)
@click.option("--body", default=None, help="Jinja2, e.g. '工单 {{ number }} 在「{{ node }}」'.")
@click.option("--msgtype", default="text", type=click.Choice(["text", "textcard", "template_card"]))
@click.option("--template-id", default=None, help="Official account: the account's template id.")
@click.option("--field", "fields", multiple=True, metavar="NAME=TEXT", help="Official account: a template field.")
def message(
    tenant: str,
    kind: str,
    channel: str,
    template: str,
    node: str,
    title: str | None,
    body: str | None,
    msgtype: str,
    template_id: str | None,
    fields: tuple[str, ...],
) -> None:
    """What a kind of message says on a channel."""
    from services.notify.messages import MessageTemplate

    spec = MessageTemplate(title, body, msgtype, template_id, dict(f.split("=", 1) for f in fields if "=" in f))
    _change(tenant, lambda s: s.set_message_template(kind, channel, template, node, spec, OPERATOR))


@setup.command("quiet-hours")
@TENANT
@click.argument("start", required=False)
@click.argument("end", required=False)
@click.option("--zone", default="Asia/Shanghai", show_default=True)
@click.option("--off", is_flag=True, help="No quiet hours.")
def quiet_hours(tenant: str, start: str | None, end: str | None, zone: str, off: bool) -> None:
    """Quiet hours, e.g. 22:00 08:00: what is not urgent waits until they end."""
    from services.notify.setup import QuietHours

    if not off and not (start and end):
        raise click.UsageError("give START and END (HH:MM), or --off")
    _change(tenant, lambda s: s.set_quiet_hours(None if off else QuietHours.parse(start, end, zone), OPERATOR))


@setup.command("links")
@TENANT
@click.option("--staff", default=None, help="e.g. https://console.example.com/tickets/{ticket_id}")
@click.option("--customer", default=None, help="e.g. https://m.example.com/progress/{ticket_id}?t={token}")
def links(tenant: str, staff: str | None, customer: str | None) -> None:
    """The links messages carry."""
    _change(tenant, lambda s: s.set_links(staff, customer, OPERATOR))


@setup.command("account")
@TENANT
@click.argument("channel")
@click.option("--set", "values", multiple=True, metavar="NAME=VALUE", help="e.g. corp_id=ww… agent_id=1000002")
@click.option("--secret", default=None, help="The secret (corpsecret, app secret, SMS secret); prompted if absent.")
@click.option("--password", default=None, help="The SMTP password.")
def account(tenant: str, channel: str, values: tuple[str, ...], secret: str | None, password: str | None) -> None:
    """A provider account (wecom, official_account, sms, email); secrets are sealed and shown masked."""
    from shared.secrets import SecretBox

    given = dict(v.split("=", 1) for v in values if "=" in v)
    if channel in ("wecom", "official_account", "sms"):
        given["secret"] = secret or click.prompt("secret", hide_input=True)
    if password:
        given["password"] = password
    box = SecretBox.from_env()
    _echo(
        operate(
            lambda n: n.change_providers(tenant, lambda p: p.configure(channel, given, box.seal, OPERATOR)).shown(
                box.open
            )
        )
    )


@setup.command("rotate-secrets")
@TENANT
def rotate_secrets(tenant: str) -> None:
    """Seal the tenant's secrets again with the newest key (the first in SCRM_SECRET_KEYS)."""
    from shared.secrets import SecretBox

    box = SecretBox.from_env()
    _echo(
        {
            "rotated": sorted(
                operate(lambda n: n.change_providers(tenant, lambda p: p.rotate(box.rotate, OPERATOR)).accounts)
            )
        }
    )
