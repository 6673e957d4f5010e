"""Signing in with WeCom (企业微信 OAuth): WeCom's authorize page sends the staff member's browser back
to the console with a one-time `code`; workflow exchanges it for their WeCom userid (gettoken with the
tenant's corp id and app secret, then auth/getuserinfo) and starts the same session a password gives,
for the member of the staff directory with that WeCom userid (their user id, when none is given, as
notify reaches them). Where WeCom is comes from the operator (SCRM_WECOM_URL), never from a tenant.
"""

from __future__ import annotations

from hashlib import sha256
from collections.abc import Callable

from shared.accesstokens import EXPIRED, TokenCache
from shared.errors import Unavailable
from shared.identity.principal import Principal
from shared.providercalls import CallFailed, Refused, call
from shared.secrets import SecretsUnavailable

from services.workflow.accounts import Credentials, credentials_id
from services.workflow.staff import Directory, Member
from services.workflow.tenancy import Session, SignInFailed, Tenancy, now

TIMEOUT = 10.0  # seconds for one call to WeCom


class WeComOAuth:
    """WeCom's server API for sign-in: the corp's access token (cached, replaced when refused), and the
    userid a code stands for."""

    def __init__(self, base_url: str, tokens: TokenCache, timeout: float = TIMEOUT):
        self.base_url = base_url
        self.tokens = tokens
        self.timeout = timeout

    def userid(self, corp_id: str, secret: str, code: str) -> str | None:
        """The corp member `code` was given to; None when WeCom does not know the code (used, expired,
        another corp's) or gave it to someone outside the corp."""
        # Per secret too: a changed one (or another tenant's for the same corp) is never answered with a
        # token the old one got.
        key, stale = ("wecom-sign-in", self.base_url, corp_id, sha256(secret.encode()).hexdigest()), None
        for _ in range(2):
            token = self.tokens.get(key, lambda: self._token(corp_id, secret), stale)
            answer = self._call("auth/getuserinfo", {"access_token": token, "code": code})
            if answer.get("errcode") not in EXPIRED:
                return (answer.get("userid") or answer.get("UserId") or None) if not answer.get("errcode") else None
            stale = token
        raise Unavailable("WeCom refused the corp's access token twice; try again")

    def _token(self, corp_id: str, secret: str) -> tuple[str, int]:
        answer = self._call("gettoken", {"corpid": corp_id, "corpsecret": secret})
        if answer.get("errcode") or not answer.get("access_token"):  # a wrong corp id or secret: the set-up's fault
            raise Unavailable(f"WeCom sign-in is not set up right: gettoken answered errcode {answer.get('errcode')}")
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))

    def _call(self, path: str, params: dict[str, str]) -> dict:
        try:
            return call("GET", f"{self.base_url}/cgi-bin/{path}", self.timeout, params=params)
        except (CallFailed, Refused) as e:
            raise Unavailable(f"WeCom could not be asked: {e}") from None


def member_for(directory: Directory, userid: str) -> Member | None:
    """The member whose WeCom userid is `userid`: given as theirs, or their user id when none is given."""
    for member in directory.members.values():
        if (member.contact.wecom_userid or member.user) == userid:
            return member
    return None


class WeComSignIn:
    def __init__(self, tenancy: Tenancy, oauth: WeComOAuth, open_: Callable[[str], str]):
        self.tenancy = tenancy
        self.oauth = oauth
        self.open = open_  # opens the sealed app secret (SecretBox.open)

    def sign_in(self, tenant: str, code: str) -> Session:
        """A session for the member WeCom gave `code` to; SignInFailed when there is none, or the tenant
        has no WeCom sign-in (the same answer: no one learns which tenants exist)."""
        workflow = self.tenancy.workflow
        credentials = workflow.find(credentials_id(tenant), tenant, Credentials)
        if credentials is None or credentials.wecom is None or self.tenancy.access(tenant) is None:
            raise SignInFailed()
        corp = credentials.wecom
        try:
            secret = self.open(corp.secret)
        except SecretsUnavailable as e:
            raise Unavailable(f"the WeCom app secret cannot be opened: {e}") from None
        userid = self.oauth.userid(corp.corp_id, secret, code)
        member = member_for(workflow.staff(tenant), userid) if userid else None
        if member is None:
            raise SignInFailed()
        return self.tenancy.session(Principal(tenant, member.user, "staff", member.roles), signed_in=now())
