"""Who may call a callback: a fresh timestamp and a signature made with the tenant's Token.

Every failure that depends on the tenant answers the same `Unverified`, so a caller cannot
tell an unknown tenant from a wrong signature, a wrong recipient or a tampered ciphertext.
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Mapping

from wechatpy.exceptions import WeChatException
from wechatpy.utils import WeChatSigner

from shared.errors import DomainError


class Unverified(DomainError):
    status, code = 403, "unverified"

    def __init__(self) -> None:
        super().__init__("the request could not be verified")


class StaleTimestamp(DomainError):
    status, code = 403, "stale_timestamp"


class MissingParameter(DomainError):
    status, code = 400, "missing_parameter"


class Query:
    """The callback's query string. Timestamp and nonce are checked before the tenant is
    looked up; a missing signature or echostr is found later and is just `Unverified`."""

    def __init__(self, args: Mapping[str, str], now: float, replay_window: float):
        self._args = args
        self.timestamp, self.nonce = self._required("timestamp"), self._required("nonce")
        if not (self.timestamp.isascii() and self.timestamp.isdigit()):  # int() takes "１２", not "²"
            raise StaleTimestamp("the timestamp is not a number of seconds")
        if abs(now - int(self.timestamp)) > replay_window:  # an old request replayed, or a clock far off
            raise StaleTimestamp(f"the timestamp is more than {replay_window:.0f} s from now")

    def _required(self, name: str) -> str:
        value = self.get(name)
        if not value or len(value) > 64:
            raise MissingParameter(f"the query needs {name}", parameter=name)
        return value

    def get(self, name: str) -> str:
        return self._args.get(name, "")


def check_signature(token: str, signature: str, *signed: str) -> None:
    """SHA-1 of the sorted Token, timestamp, nonce (and ciphertext), compared in constant time."""
    signer = WeChatSigner()
    signer.add_data(token, *signed)
    if not hmac.compare_digest(signer.signature.encode(), signature.encode()):
        raise Unverified()


def unseal(crypto, query: Query, ciphertext: str) -> str:
    """Check `msg_signature` over the ciphertext, then decrypt it with a wechatpy crypto,
    which also checks that it was meant for our CorpID / AppID."""
    signature = query.get("msg_signature")
    check_signature(crypto.token, signature, query.timestamp, query.nonce, ciphertext)
    try:
        return crypto.decrypt_message({"Encrypt": ciphertext}, signature, query.timestamp, query.nonce)
    except (WeChatException, ValueError, IndexError, struct.error):
        # wrong recipient, bad base64 / padding / length: not from Tencent with our key
        raise Unverified() from None
