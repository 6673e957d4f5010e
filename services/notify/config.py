"""Notify's configuration, read from the environment once at start-up (bootstrap), never at import.

Where each provider is (base URLs, the SMTP server) belongs to the operator, not to a tenant: a
tenant's administrator gives credentials, never an address notify will call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from collections.abc import Mapping

from services.notify.delivery import Retries
from services.notify.kinds import CHANNELS


@dataclass(frozen=True)
class NotifyConfig:
    wecom_url: str = "https://qyapi.weixin.qq.com"
    official_account_url: str = "https://api.weixin.qq.com"
    sms_url: str | None = None  # the SMS gateway's send endpoint; None: no SMS
    sms_dedupes: bool = False  # whether the gateway drops a second request with the same out_id
    smtp_host: str | None = None  # None: no e-mail
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ca_file: str | None = None  # to trust a private CA (tests); the system's CAs otherwise
    staff_link: str = "http://localhost:8002/v1/tenants/{tenant}/tickets/{ticket_id}"
    customer_link: str = "http://localhost:8001/v1/tenants/{tenant}/progress/{ticket_id}?t={token}"
    link_key: str = ""  # signs customers' progress links ({token}); set it in production
    retries: Retries = Retries()
    rates: Mapping[str, float] = field(default_factory=lambda: {c: 50.0 for c in CHANNELS})  # per tenant, per second
    timeout: float = 10.0  # seconds for one provider call
    senders: int = 16  # provider calls at once
    batch: int = 500  # deliveries decided and recorded per transaction

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotifyConfig:
        env = os.environ if environ is None else environ
        get = lambda name, default=None: env.get(f"SCRM_NOTIFY_{name}") or default
        flag = lambda name: (get(name, "n")).lower() in ("y", "yes", "1", "true")
        default = cls()
        return cls(
            wecom_url=get("WECOM_URL", default.wecom_url).rstrip("/"),
            official_account_url=get("OFFICIAL_ACCOUNT_URL", default.official_account_url).rstrip("/"),
            sms_url=get("SMS_URL"),
            sms_dedupes=flag("SMS_DEDUPES"),
            smtp_host=get("SMTP_HOST"),
            smtp_port=int(get("SMTP_PORT", "25")),
            smtp_starttls=flag("SMTP_STARTTLS"),
            smtp_ca_file=get("SMTP_CA_FILE"),
            staff_link=get("STAFF_LINK", default.staff_link),
            customer_link=get("CUSTOMER_LINK", default.customer_link),
            link_key=get("LINK_KEY", ""),
            retries=Retries(
                base=timedelta(seconds=float(get("RETRY_BASE", "5"))),
                cap=timedelta(seconds=float(get("RETRY_CAP", "900"))),
                attempts=int(get("RETRY_ATTEMPTS", "10")),
            ),
            rates={c: float(get(f"RATE_{c.upper()}", "50")) for c in CHANNELS},
            timeout=float(get("TIMEOUT", "10")),
            senders=int(get("SENDERS", "16")),
            batch=int(get("BATCH", "500")),
        )
