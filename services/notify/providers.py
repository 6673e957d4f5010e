"""A tenant's provider accounts: the credentials notify sends with (WeCom corp and app, official
account, SMS gateway, SMTP login). Secrets are sealed (shared/secrets.py) before they become events,
so the store, its backups and the log never hold them in the clear; only the sender opens them, in
memory, to call the provider. Where each provider is (its base URL, the SMTP server) is the
operator's configuration (config.py), not the tenant's. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid
from shared.pertenant import tenant_uuid
from shared.secrets import SecretsUnavailable, masked

from services.notify.kinds import EMAIL, OFFICIAL_ACCOUNT, SMS, WECOM

_IDS = UUID("2c9d4b71-6e0a-4f38-b5c2-8a1d7e3f6b05")
_WORD = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


@dataclass(frozen=True)
class Account:
    """What a provider needs: `public` settings shown as they are, `secret` ones sealed."""

    fields: tuple[str, ...]
    secrets: tuple[str, ...]
    optional: tuple[str, ...] = ()


ACCOUNTS = {
    WECOM: Account(("corp_id", "agent_id", "external_sender"), ("secret",), optional=("external_sender",)),
    OFFICIAL_ACCOUNT: Account(("app_id",), ("secret",)),
    SMS: Account(("app_key", "sign_name", "sms_template"), ("secret",), optional=("sms_template",)),
    EMAIL: Account(("sender", "username"), ("password",), optional=("username", "password")),
}
# A customer reached as a WeCom external contact is reached through the tenant's WeCom corp.
ACCOUNT_OF = {"wecom_external": WECOM}


def providers_id(tenant: str) -> UUID:
    return tenant_uuid(_IDS, tenant)


class ProviderAccounts(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return providers_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.accounts: dict[str, dict[str, str]] = {}  # channel -> fields, secrets sealed

    def configure(self, channel: str, given: Mapping[str, str | None], seal: Callable[[str], str], by: str) -> None:
        spec = ACCOUNTS.get(channel)
        if spec is None:
            raise Invalid(f"a provider account is for one of {', '.join(ACCOUNTS)}, not {channel!r}")
        unknown = sorted(set(given) - set(spec.fields) - set(spec.secrets))
        missing = [k for k in (*spec.fields, *spec.secrets) if not given.get(k) and k not in spec.optional]
        if unknown or missing:
            raise Invalid(
                f"{channel}: "
                + "; ".join(
                    filter(
                        None, (unknown and f"unknown {', '.join(unknown)}", missing and f"give {', '.join(missing)}")
                    )
                )
            )
        values = {k: str(given[k]) for k in spec.fields if given.get(k)}
        bad = [k for k, v in values.items() if not (_WORD.match(v) or k == "sign_name" and len(v) <= 32)]
        if bad:
            raise Invalid(f"{channel}: not valid: {', '.join(bad)}")
        values |= {k: seal(str(given[k])) for k in spec.secrets if given.get(k)}
        self._configured(channel=channel, account=values, by=by)

    @event("Configured")
    def _configured(self, channel: str, account: dict[str, str], by: str) -> None:
        self.accounts[channel] = account

    def rotate(self, reseal: Callable[[str], str], by: str) -> int:
        """Every secret sealed again with the newest key; how many accounts."""
        for channel, account in list(self.accounts.items()):
            secrets = ACCOUNTS[channel].secrets
            self._configured(
                channel=channel, account={k: reseal(v) if k in secrets else v for k, v in account.items()}, by=by
            )
        return len(self.accounts)

    def account(self, channel: str) -> dict[str, str] | None:
        """The sealed account that carries `channel` (None: not configured)."""
        return self.accounts.get(ACCOUNT_OF.get(channel, channel))

    def shown(self, open_: Callable[[str], str]) -> dict[str, dict[str, Any]]:
        """What an administrator may see: secrets masked, never whole (or said to be unreadable, when no
        configured key opens them)."""

        def show(sealed: str) -> str:
            try:
                return masked(open_(sealed))
            except SecretsUnavailable:
                return "(no key opens it)"

        return {
            channel: {k: show(v) if k in ACCOUNTS[channel].secrets else v for k, v in account.items()}
            for channel, account in self.accounts.items()
        }
