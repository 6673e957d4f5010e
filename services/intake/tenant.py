"""A tenant's channel settings: the credentials its WeCom app and official account sign and
encrypt with, and the routes from a keyword or menu key to a template. No I/O here.

The Token and EncodingAESKey are sealed (shared/secrets.py) before they become events: the store,
its backups and the log never hold them in the clear. Callbacks read a copy with them opened, in
memory (`opened`). Settings recorded before sealing hold them in the clear (`sealed` False) and
still load; `rotate_secrets` seals them.

One aggregate per tenant, its id derived from the tenant name: configuring a tenant twice
from two terminals cannot create two of them.
"""

from __future__ import annotations

import copy
import re
from base64 import b64decode
from binascii import Error as Base64Error
from dataclasses import dataclass, replace
from typing import TypeVar
from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Invalid
from shared.pertenant import tenant_uuid

_SETTINGS_IDS = UUID("5d0f8e43-2b1c-4c7e-9a55-6a1f3d2e9b70")
CHANNELS = ("wecom", "mp")  # the WeCom self-built app, the official account (公众号)
TRIGGERS = ("keyword", "menu")
MODES = ("plain", "safe")  # official-account message encryption: none, or AES (安全模式)
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")  # what both admin consoles accept
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # template keys
SECRETS = ("token", "aes_key")  # of either channel's credentials
OPERATOR = "operator"  # who changed the settings, when not told (the CLI's operator)
Seal = Callable[[str], str]  # clear text -> sealed, or sealed -> clear (SecretBox.seal / open)
C = TypeVar("C", "WeComApp", "OfficialAccount")


def settings_id(tenant: str) -> UUID:
    return tenant_uuid(_SETTINGS_IDS, tenant)


@dataclass(frozen=True)
class WeComApp:
    token: str
    aes_key: str
    corp_id: str
    agent_id: str
    sealed: bool = False  # token and aes_key: sealed, or in the clear (opened, or recorded before sealing)


@dataclass(frozen=True)
class OfficialAccount:
    app_id: str
    token: str
    aes_key: str | None  # only safe mode needs it
    mode: str
    account: str | None  # the 原始ID (gh_...) messages are addressed to, when known
    sealed: bool = False


def opened(credentials: C | None, open_: Seal) -> C | None:
    """The credentials with their secrets in the clear."""
    if credentials is None or not credentials.sealed:
        return credentials
    return replace(credentials, sealed=False, **{k: open_(v) for k in SECRETS if (v := getattr(credentials, k))})


def sealed_fields(credentials: C, seal: Seal, reseal: Seal) -> dict[str, object]:
    """The credentials' fields with their secrets sealed (again, with `reseal`, when they are)."""
    again = reseal if credentials.sealed else seal
    fields = {k: v for k, v in vars(credentials).items() if k != "sealed"}
    return fields | {k: again(v) for k in SECRETS if (v := fields[k])}


@dataclass(frozen=True)
class Routed:
    template: str
    by: str  # keyword | menu | default
    key: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"by": self.by, **({"key": self.key} if self.key else {})}


class ChannelSettings(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return settings_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.wecom: WeComApp | None = None
        self.official_account: OfficialAccount | None = None
        self.routes: dict[tuple[str, str, str], str] = {}  # (channel, trigger, key) -> template
        self.default_template = DEFAULT_TEMPLATE

    def configure_wecom(
        self, token: str, aes_key: str, corp_id: str, agent_id: str, *, seal: Seal, by: str = OPERATOR
    ) -> None:
        _check_token(token)
        _check_aes_key(aes_key)
        if not corp_id or not str(agent_id).isdigit():
            raise Invalid("give the CorpID and the app's numeric AgentID")
        self._wecom_configured(
            token=seal(token), aes_key=seal(aes_key), corp_id=corp_id, agent_id=str(agent_id), sealed=True, by=by
        )

    @event("WeComConfigured")
    def _wecom_configured(
        self, token: str, aes_key: str, corp_id: str, agent_id: str, sealed: bool = False, by: str | None = None
    ) -> None:
        self.wecom = WeComApp(token, aes_key, corp_id, agent_id, sealed)

    def configure_official_account(
        self,
        app_id: str,
        token: str,
        aes_key: str | None,
        mode: str,
        account: str | None = None,
        *,
        seal: Seal,
        by: str = OPERATOR,
    ) -> None:
        _check_token(token)
        if mode not in MODES:
            raise Invalid(f"mode is one of {', '.join(MODES)}")
        if mode == "safe" or aes_key:
            _check_aes_key(aes_key or "")
        if not app_id:
            raise Invalid("give the official account's AppID")
        self._official_account_configured(
            app_id=app_id,
            token=seal(token),
            aes_key=seal(aes_key) if aes_key else None,
            mode=mode,
            account=account or None,
            sealed=True,
            by=by,
        )

    @event("OfficialAccountConfigured")
    def _official_account_configured(
        self,
        app_id: str,
        token: str,
        aes_key: str | None,
        mode: str,
        account: str | None,
        sealed: bool = False,
        by: str | None = None,
    ) -> None:
        self.official_account = OfficialAccount(app_id, token, aes_key, mode, account, sealed)

    def rotate_secrets(self, seal: Seal, reseal: Seal, by: str = OPERATOR) -> int:
        """Seal every secret with the newest key (those recorded in the clear too); how many channels."""
        if self.wecom:
            self._wecom_configured(**sealed_fields(self.wecom, seal, reseal), sealed=True, by=by)
        if self.official_account:
            self._official_account_configured(**sealed_fields(self.official_account, seal, reseal), sealed=True, by=by)
        return bool(self.wecom) + bool(self.official_account)

    def opened(self, open_: Seal) -> ChannelSettings:
        """A copy to read, with the credentials' secrets in the clear: never saved, never logged."""
        copied = copy.copy(self)
        copied.wecom, copied.official_account = opened(self.wecom, open_), opened(self.official_account, open_)
        return copied

    def set_route(self, channel: str, trigger: str, key: str, template: str, by: str = OPERATOR) -> None:
        _check_route(channel, trigger, key)
        _check_template(template)
        self._route_set(channel=channel, trigger=trigger, key=key, template=template, by=by)

    @event("RouteSet")
    def _route_set(self, channel: str, trigger: str, key: str, template: str, by: str | None = None) -> None:
        self.routes[(channel, trigger, key)] = template

    def remove_route(self, channel: str, trigger: str, key: str, by: str = OPERATOR) -> None:
        if (channel, trigger, key) not in self.routes:
            raise Invalid("no such route")
        self._route_removed(channel=channel, trigger=trigger, key=key, by=by)

    @event("RouteRemoved")
    def _route_removed(self, channel: str, trigger: str, key: str, by: str | None = None) -> None:
        del self.routes[(channel, trigger, key)]

    def set_default_template(self, template: str, by: str = OPERATOR) -> None:
        _check_template(template)
        self._default_template_set(template=template, by=by)

    @event("DefaultTemplateSet")
    def _default_template_set(self, template: str, by: str | None = None) -> None:
        self.default_template = template

    def route(self, channel: str, text: str | None = None, menu_key: str | None = None) -> Routed:
        """The template for a text (the longest configured keyword it contains wins) or a
        menu click (its key); the default template when nothing matches."""
        if menu_key is not None:
            template = self.routes.get((channel, "menu", menu_key))
            if template:
                return Routed(template, "menu", menu_key)
        if text:
            folded = text.casefold()
            matches = [
                (len(key), key, t)
                for (c, trigger, key), t in self.routes.items()
                if c == channel and trigger == "keyword" and key.casefold() in folded
            ]
            if matches:
                _, key, template = max(matches)
                return Routed(template, "keyword", key)
        return Routed(self.default_template, "default")


def _check_token(token: str) -> None:
    if not _TOKEN.match(token or ""):
        raise Invalid("the Token is 3 to 32 letters or digits")


def _check_aes_key(aes_key: str) -> None:
    try:
        ok = len(aes_key) == 43 and len(b64decode(aes_key + "=", validate=True)) == 32
    except (Base64Error, ValueError):
        ok = False
    if not ok:
        raise Invalid("the EncodingAESKey is 43 characters of base64 (a 32-byte key)")


def _check_route(channel: str, trigger: str, key: str) -> None:
    if channel not in CHANNELS or trigger not in TRIGGERS:
        raise Invalid(f"channel is one of {', '.join(CHANNELS)}; trigger one of {', '.join(TRIGGERS)}")
    if not key or len(key) > 128:
        raise Invalid("a keyword or menu key is 1 to 128 characters")


def _check_template(template: str) -> None:
    if not _KEY.match(template or ""):
        raise Invalid("a template key is 1 to 64 letters, digits, '-' or '_'")
