"""What WeCom's and the official account's answers mean: {"errcode": 0, ...} is done; the rest is
classified here once, for both (they share the code space)."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping

from services.notify.channels import Outcome
from shared.providercalls import CallFailed, Refused, call
from shared.accesstokens import EXPIRED, TokenCache

BUSY = frozenset({-1, 45009, 45011, 45033, 50002})  # system busy, frequency and concurrency limits: try later
UNREACHABLE = frozenset(
    {
        40003,  # invalid openid / userid
        43004,  # the customer does not follow the official account
        43101,  # the customer refused this kind of message
        60111,  # no such WeCom member
        81013,  # every recipient invalid or outside the app's visible range
    }
)


def outcome(answer: Mapping[str, Any]) -> Outcome | None:
    """None when the call succeeded; otherwise what its failure means."""
    code = answer.get("errcode", 0)
    if code == 0:
        return None
    error = f"errcode {code}: {str(answer.get('errmsg', ''))[:200]}"
    if code in BUSY:
        return Outcome.transient(error)
    if code in UNREACHABLE:
        return Outcome.cannot_reach(error)
    return Outcome.refused(error)


class TokenedCall:
    """POST a JSON body with an access token in the query; a token refused as expired or invalid is
    replaced and the call made once more, within the same attempt. The answer when it succeeded (errcode
    0), else the Outcome its failure means."""

    def __init__(self, tokens: TokenCache, timeout: float):
        self.tokens = tokens
        self.timeout = timeout

    def post(self, key: tuple, fetch: Callable[[], tuple[str, int]], url: str, body: Any) -> dict[str, Any] | Outcome:
        stale = None
        for _ in range(2):
            try:
                token = self.tokens.get(key, fetch, stale)
                answer = call("POST", url, self.timeout, params={"access_token": token}, body=body)
            except TokenRefused as e:
                return e.outcome
            except CallFailed as e:
                return Outcome.transient(str(e))
            except Refused as e:
                return Outcome.refused(str(e))
            if answer.get("errcode") not in EXPIRED:
                return outcome(answer) or answer
            stale = token
        return Outcome.transient("the access token was refused twice")


class TokenRefused(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(outcome.error)
        self.outcome = outcome


def fetched(answer: Mapping[str, Any]) -> tuple[str, int]:
    """(token, seconds) from a gettoken / token answer, or TokenRefused with why (a wrong secret is
    refused for good; a busy provider is tried again later)."""
    failed = outcome(answer)
    if failed is not None or not answer.get("access_token"):
        raise TokenRefused(
            failed
            if failed and not failed.unreachable
            else Outcome.refused(f"no access token: {(failed.error if failed else 'none in the answer')}")
        )
    return str(answer["access_token"]), int(answer.get("expires_in", 7200))


def fetch_token(url: str, params: Mapping[str, str], timeout: float) -> Callable[[], tuple[str, int]]:
    def fetch() -> tuple[str, int]:
        try:
            return fetched(call("GET", url, timeout, params=params))
        except CallFailed as e:
            raise TokenRefused(Outcome.transient(f"token: {e}")) from None
        except Refused as e:
            raise TokenRefused(Outcome.refused(f"token: {e}")) from None

    return fetch
