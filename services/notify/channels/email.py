"""E-mail over SMTP (optionally upgraded with STARTTLS, optionally logged in), one message per
delivery with the delivery's id as its Message-ID. SMTP has no way to refuse a message it already
took: a crash between the server's 250 and the record of it sends that e-mail again (mail clients
that thread by Message-ID show it once; the README says so plainly)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any
from collections.abc import Mapping
from uuid import UUID

from services.notify.channels import Outcome, with_link


class Email:
    dedupes = False

    def __init__(self, host: str, port: int, starttls: bool, timeout: float, ca_file: str | None = None):
        self.host, self.port, self.starttls, self.timeout = host, port, starttls, timeout
        self.tls = ssl.create_default_context(cafile=ca_file)

    def send(self, delivery_id: UUID, account: Mapping[str, str], address: str, message: Mapping[str, Any]) -> Outcome:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = account["sender"], address, message["title"]
        mail["Message-ID"] = f"<{delivery_id}@scrm-notify>"
        mail.set_content(with_link(message["body"], message["link"]))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls)
                if account.get("username"):
                    smtp.login(account["username"], account.get("password", ""))
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            return Outcome.cannot_reach(f"SMTP refused the address {address}")
        except smtplib.SMTPAuthenticationError as e:
            return Outcome.refused(f"SMTP login refused ({e.smtp_code})")
        except smtplib.SMTPResponseException as e:
            error = f"SMTP {e.smtp_code}"
            return Outcome.transient(error) if 400 <= e.smtp_code < 500 else Outcome.refused(error)
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as e:
            return Outcome.transient(f"SMTP: {type(e).__name__}")
        return Outcome.ok(mail["Message-ID"])
