"""Tenants and staff credentials for tests. One key set signs the session's tokens: its file is
SCRM_TOKEN_KEYS, so the platforms tests start as processes accept them too."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from shared.identity.principal import Principal
from shared.identity.tokens import KeySet
from shared.settings import Settings

KEYS = KeySet.generate()
KEYS_FILE = Path(tempfile.mkdtemp(prefix="scrm-test-keys-")) / "token-keys.json"
KEYS.save(KEYS_FILE)
os.environ["SCRM_TOKEN_KEYS"] = str(KEYS_FILE)
TOKEN_LIFETIME = 8 * 3600  # a test session's headers are made once, at import


def staff(user: str, *roles: str, tenant: str = "acme") -> dict[str, str]:
    """Headers of a signed-in staff member (what workflow's sign-in gives them)."""
    token = KEYS.sign(Principal(tenant, user, "staff", roles), lifetime=TOKEN_LIFETIME)
    return {"Authorization": f"Bearer {token}"}


def admin(tenant: str = "acme") -> dict[str, str]:
    return staff("admin", "admin", tenant=tenant)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


ADMIN_PASSWORD = "correct horse battery"


def open_tenant(settings: Settings, tenant: str = "acme", admin_id: str = "admin") -> None:
    """Create `tenant` with its first administrator, as `scrm tenant create` does (in workflow's store;
    the other services learn of it when their followers read workflow's events). Once: a tenant that
    exists stays as it is."""
    from shared.identity.access import access_id
    from services.workflow.bootstrap import application
    from services.workflow.tenancy import Tenancy

    workflow = application(settings)
    try:
        if workflow.find(access_id(tenant), tenant) is None:
            Tenancy(workflow, KEYS).create_tenant(tenant, tenant.title(), admin_id, ADMIN_PASSWORD, by="tests")
    finally:
        workflow.close()


def issue_key(settings: Settings, scope: str = "write", tenant: str = "acme") -> str:
    """An API key of `tenant`'s (issued by workflow, like `scrm tenant api-key create`)."""
    from services.workflow.bootstrap import application
    from services.workflow.tenancy import Tenancy

    workflow = application(settings)
    try:
        return Tenancy(workflow, KEYS).issue_key(tenant, "tests", scope, by="tests")[1]
    finally:
        workflow.close()


def replicate(settings: Settings, *bootstraps) -> None:
    """Let services learn what workflow published (tenants, API keys): run their followers until idle,
    as their workers would. Each reads until idle and never waits: it listens for no commits (no
    LISTEN connection, no bell socket left behind per call)."""
    for bootstrap in bootstraps:
        follower = bootstrap.follower(replace(settings, wake_on_commit=False))
        while follower.run_once():
            pass


def identity_of(app):
    """The checks a service's web app makes, on `app`'s store (see the bootstraps' web_app)."""
    from shared.identity.access import lookup_in
    from shared.identity.guard import Identity

    return Identity(KEYS, lookup_in(app))


class SignedIn:
    """A test client whose requests carry `headers` (a signed-in member's) unless a call gives its own
    (`headers={}`: nobody signed in)."""

    METHODS = ("get", "post", "put", "patch", "delete", "head", "options")

    def __init__(self, client, headers: dict[str, str]):
        self._client = client
        self._headers = headers

    def __getattr__(self, name: str):
        call = getattr(self._client, name)
        if name not in self.METHODS:
            return call

        def with_headers(*args, headers=None, **kwargs):
            return call(*args, headers=self._headers if headers is None else headers, **kwargs)

        return with_headers
